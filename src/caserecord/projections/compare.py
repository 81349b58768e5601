"""Checking the views: each is rebuilt from the log into a scratch copy (a scratch SQLite
file beside the database, or a scratch PostgreSQL schema, removed afterwards) and compared
with the live view row by row, naming every row that differs.

Views are derived from the log, so no key protects them: someone who can write to the
database can edit, delete or insert view rows, and only a rebuild shows it.  A row is known
by the columns its view's digest orders by (its key); a row only in the live view was
inserted or outlived its events (a stream whose tail was cut), a row only in the rebuild
was deleted, and a row in both with other values was edited (only the differing columns are
named).  Each view is rebuilt up to the position the live view had reached, so a view that
is behind is compared as far as it got; a live view that moves on while it is read cannot
be compared, and :class:`ViewsMovedError` says so.
"""

import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caserecord.application import CaseRecords
from caserecord.persistence import quarantine
from caserecord.projections.base import Folder, ViewProjection
from caserecord.projections.runner import (
    PROJECTIONS,
    canonical,
    catch_up_views,
    construct_view,
    latest_for,
    loader_for,
    reader_for,
    view_positions,
)
from caserecord.projections.sql import Database, View

_TABLE = re.compile(r"FROM \{s\}(\w+)")
_ORDER = re.compile(r"ORDER BY (.+)$")


class ViewsMovedError(Exception):
    """A live view applied events while it was being compared: run the check again (with
    the runners stopped, if they keep the views busy)."""


@dataclass(frozen=True)
class RowDifference:
    """A row of a view that is not what a rebuild from the log makes of it: ``live`` None
    when the row is missing from the live view, ``rebuilt`` None when the rebuild has none."""

    view: str
    table: str
    key: dict[str, Any]
    live: dict[str, Any] | None
    rebuilt: dict[str, Any] | None

    def describe(self) -> str:
        key = ", ".join(f"{k}={v}" for k, v in self.key.items())
        if self.rebuilt is None:
            change = "in the view but not in the rebuild (inserted, or its events are gone)"
        elif self.live is None:
            change = "in the rebuild but not in the view (deleted)"
        else:
            change = f"view {self.live} != rebuilt {self.rebuilt}"
        return f"{self.view} {self.table} [{key}]: {change}"


def table_queries(name: str) -> list[tuple[str, str, list[str]]]:
    """(table, ordered SELECT, key columns) of each table of a view, from its digest."""
    found = []
    for statement in PROJECTIONS[name].schema.digest_queries:
        table, order = _TABLE.search(statement), _ORDER.search(statement)
        assert table and order, f"{name}: a digest query names its table and its order"
        found.append((table.group(1), statement, [c.strip() for c in order.group(1).split(",")]))
    return found


def compare_views(
    records: CaseRecords,
    db: Database,
    env: dict[str, str],
    names: list[str],
    progress: Callable[[str, int, int], None] | None = None,
) -> list[RowDifference]:
    """Rebuild the named views into a scratch copy and name every row that differs."""
    positions = view_positions(db, names)
    with scratch_env(db, env) as scratch:
        scratch_db = Database.from_env(scratch)
        try:
            for until in sorted(set(positions.values())):
                chosen = [n for n in names if positions[n] == until]
                rebuild_into(records, scratch, chosen, until, progress)
            differences = [
                difference for name in names for difference in compare_view(name, db, scratch_db)
            ]
        finally:
            scratch_db.close()
    now = view_positions(db, names)
    moved = [n for n in names if now[n] != positions[n]]
    if moved:
        raise ViewsMovedError(
            f"the views {', '.join(moved)} applied new events while they were compared: "
            "run the check again, with the runners stopped if they keep them busy"
        )
    return differences


def rebuild_into(
    records: CaseRecords,
    scratch: dict[str, str],
    names: list[str],
    until: int,
    progress: Callable[[str, int, int], None] | None,
) -> None:
    folder = Folder(loader_for(records), reader=reader_for(records), latest=latest_for(records))
    views: dict[str, tuple[View, ViewProjection]] = {}
    try:
        for name in names:
            view = construct_view(name, {**scratch, "CREATE_TABLE": "y"})
            projection = PROJECTIONS[name](view=view)
            projection.folder = folder
            views[name] = (view, projection)
        if until:
            catch_up_views(records, views, until=until, progress=progress)
    finally:
        for view, _ in views.values():
            view.close()


def compare_view(name: str, live: Database, rebuilt: Database) -> Iterator[RowDifference]:
    for table, statement, key_columns in table_queries(name):
        expected: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in rebuilt.query(statement):
            plain = {column: canonical(value) for column, value in row.items()}
            expected[tuple(plain[c] for c in key_columns)] = plain
        for row in live.query(statement):
            plain = {column: canonical(value) for column, value in row.items()}
            key = tuple(plain[c] for c in key_columns)
            other = expected.pop(key, None)
            if other == plain:
                continue
            named = dict(zip(key_columns, key, strict=True))
            if other is None:
                yield RowDifference(name, table, named, plain, None)
                continue
            changed = [c for c in plain if plain[c] != other.get(c)]
            yield RowDifference(
                name,
                table,
                named,
                {c: plain[c] for c in changed},
                {c: other.get(c) for c in changed},
            )
        for key, row in expected.items():
            yield RowDifference(name, table, dict(zip(key_columns, key, strict=True)), None, row)


@contextmanager
def scratch_env(db: Database, env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The environment of a scratch copy of the views' tables, removed afterwards."""
    if db.is_postgres:
        schema = f"caserecord_verify_{uuid.uuid4().hex[:12]}"
        db.execute([(f'CREATE SCHEMA "{schema}"', ())])
        try:
            table = f'"{schema}".{quarantine.QUARANTINE_TABLE}'
            db.execute([(quarantine.POSTGRES_DDL.format(table), ())])
            yield {**env, "POSTGRES_SCHEMA": schema}
        finally:
            db.execute([(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', ())])
        return
    live = env.get("SQLITE_DBNAME", "")
    beside = None if ":memory:" in live else Path(live).parent
    with tempfile.TemporaryDirectory(prefix="caserecord-verify-", dir=beside) as folder:
        scratch = {**env, "SQLITE_DBNAME": str(Path(folder) / "views.db")}
        scratch_db = Database.from_env(scratch)
        try:
            scratch_db.execute([(quarantine.SQLITE_DDL, ())])
        finally:
            scratch_db.close()
        yield scratch
