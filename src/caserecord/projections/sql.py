"""The SQL both stores share, and the two tracking-recorder bases every view builds on.

Views are written once in a small common SQL dialect: ``?`` placeholders, ``{s}`` before
each table name (nothing on SQLite, the schema on PostgreSQL) and ``{rowid}`` for a 64-bit
integer key (``INTEGER`` on SQLite, where that makes it the rowid: rows stored in key order
with no separate index to keep; ``BIGINT`` on PostgreSQL).  Each view update and its
tracking row commit in one transaction, so a view is updated exactly once per event, also
after a crash.
"""

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from eventsourcing.persistence import (
    DataError,
    InfrastructureFactory,
    IntegrityError,
    Tracking,
    TrackingRecorder,
)
from eventsourcing.postgres import PostgresDatastore, PostgresFactory, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteFactory, SQLiteTrackingRecorder
from eventsourcing.utils import Environment
from psycopg.pq import TransactionStatus
from psycopg.sql import SQL

from caserecord.persistence import quarantine
from caserecord.persistence.sqlite_file import check_file, watch

# One statement and its parameters.
Statement = tuple[str, Sequence[Any]]

_PLACEHOLDER = re.compile(r"\?")
_SECONDARY_INDEX = re.compile(r"CREATE INDEX IF NOT EXISTS (\w+) ")
_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS \{s\}(\w+) \((.*)\)$", re.DOTALL)
_CONSTRAINTS = {"PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "CONSTRAINT"}


def table_ddl(statement: str, *, postgres: bool) -> str:
    """A view's DDL with its 64-bit key type filled in (only DDL holds ``{rowid}``)."""
    return statement.replace("{rowid}", "BIGINT" if postgres else "INTEGER")


class Database:
    """Plain reads (and DDL) over the same database as the events."""

    def __init__(self, datastore: SQLiteDatastore | PostgresDatastore) -> None:
        self.datastore = datastore
        self.is_postgres = isinstance(datastore, PostgresDatastore)
        self.prefix = f'"{datastore.schema}".' if isinstance(datastore, PostgresDatastore) else ""

    @classmethod
    def from_env(cls, env: dict[str, str]) -> "Database":
        factory = InfrastructureFactory.construct(env=Environment("views", env))
        assert isinstance(factory, SQLiteFactory | PostgresFactory)
        return cls(factory.datastore)

    def params(self, values: Sequence[Any]) -> tuple[Any, ...]:
        # PostgreSQL text cannot hold NUL and SQLite's text functions stop at it; the event
        # log (bytes) can hold it. One such character must not stop every view, so views
        # show it as U+FFFD, on both stores alike.
        # A rebuild passes millions of rows here, and almost none holds the character:
        # look first, copy only then.
        for value in values:
            if type(value) is str and "\x00" in value:
                return tuple([v.replace("\x00", "\ufffd") if type(v) is str else v for v in values])
        return values if type(values) is tuple else tuple(values)

    def sql(self, statement: str) -> str:
        statement = statement.replace("{s}", self.prefix)
        return _PLACEHOLDER.sub("%s", statement) if self.is_postgres else statement

    @contextmanager
    def cursor(self, *, commit: bool = False) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as c:
            yield c

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.cursor() as c:
            c.execute(self.sql(statement), self.params(params))
            return [dict(row) for row in c.fetchall()]

    def execute(self, writes: Sequence[Statement]) -> None:
        with self.cursor(commit=True) as c:
            run_writes(c, self, writes)

    def close(self) -> None:
        self.datastore.close()


class WaitingFirst(Database):
    """The views' database for one read, which runs ``first`` before its first statement
    (waiting for the views to reach the reader's writes): the route's own thread waits,
    not a thread of its own for the wait, and a read that never asks a view never waits."""

    def __init__(self, db: Database, first: Callable[[], None]) -> None:
        super().__init__(db.datastore)
        self._first: Callable[[], None] | None = first

    @contextmanager
    def cursor(self, *, commit: bool = False) -> Iterator[Any]:
        first, self._first = self._first, None
        if first is not None:
            first()
        with super().cursor(commit=commit) as c:
            yield c


def run_writes(c: Any, db: Database, writes: Sequence[Statement]) -> None:
    """Execute writes in order, batching runs of the same statement (rebuilds send many)."""
    i = 0
    while i < len(writes):
        statement = writes[i][0]
        j = i + 1
        while j < len(writes) and writes[j][0] == statement:
            j += 1
        if j - i == 1:
            c.execute(db.sql(statement), db.params(writes[i][1]))
        else:
            c.executemany(db.sql(statement), [db.params(w[1]) for w in writes[i:j]])
        i = j


@dataclass(frozen=True)
class ViewWrite:
    """One view's part of a transaction: its writes, and the move of its position from
    ``after`` to the tracking's."""

    view: "View"
    writes: Sequence[Statement]
    tracking: Tracking
    after: int


def refused(error: Exception) -> bool:
    """Whether a failed view write may have been refused because a view was no longer
    where its writer left it (rather than a fault of the writes themselves)."""
    return isinstance(error, IntegrityError) or MOVED in str(error)


class PositionMovedError(Exception):
    """Another runner moved a view on while a page of events was being applied."""

    def __init__(self, position: int) -> None:
        super().__init__(f"the view is now at position {position}")
        self.position = position


class ViewSchema:
    """What a view stores: its tables and indexes, and the rows its digest covers."""

    name: ClassVar[str] = ""
    ddl: ClassVar[tuple[str, ...]] = ()
    tables: ClassVar[tuple[str, ...]] = ()
    # One ordered SELECT per table, so a digest does not depend on storage order.
    digest_queries: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def tracking_table(cls) -> str:
        return f"{cls.name}_tracking"

    @classmethod
    def secondary_indexes(cls) -> dict[str, str]:
        """Index name -> its DDL, for the indexes that serve queries only: no write of the
        view looks rows up through them, and none enforces uniqueness.  A rebuild creates
        them after the replay, which sorts each once instead of growing it row by row."""
        return {
            match.group(1): statement
            for statement in cls.ddl
            if (match := _SECONDARY_INDEX.match(statement)) is not None
        }

    @classmethod
    def columns(cls) -> dict[str, list[str]]:
        """Table -> the columns its DDL defines (constraints left out)."""
        found: dict[str, list[str]] = {}
        for statement in cls.ddl:
            if (match := _TABLE.match(statement)) is None:
                continue
            table, body = match.groups()
            parts, depth, start = [], 0, 0
            for i, char in enumerate(body):  # split at the commas outside parentheses
                depth += {"(": 1, ")": -1}.get(char, 0)
                if char == "," and depth == 0:
                    parts.append(body[start:i])
                    start = i + 1
            parts.append(body[start:])
            names = [p.split()[0] for p in parts if p.strip()]
            found[table] = [n for n in names if n.upper() not in _CONSTRAINTS]
        return found


class View(TrackingRecorder):
    """What a projection needs from its view, on either store."""

    schema: ClassVar[type[ViewSchema]]
    db: Database

    if TYPE_CHECKING:  # provided by the library's tracking recorders
        datastore: Any

    def write(self, writes: Sequence[Statement], tracking: Tracking, *, after: int) -> None:
        """Apply the writes and move the position from ``after`` to the tracking's, all
        or nothing.  If the view is no longer at ``after`` (another runner applied these
        events, or a rebuild started the view again), nothing is written and
        :class:`PositionMovedError` says where it is, so no event is applied twice and
        none is skipped.  Writes that conflict with the view's rows while it is still at
        ``after`` are a fault, raised as they are."""
        try:
            self.write_many([ViewWrite(self, writes, tracking, after)])
        except (IntegrityError, DataError) as e:
            if not refused(e):
                raise
            done = self.max_tracking_id(tracking.application_name) or 0
            if done == after:
                raise
            raise PositionMovedError(done) from None

    def write_many(self, parts: Sequence["ViewWrite"]) -> None:
        """Apply several views' writes and move each one's position, in one transaction
        of this view's connection (the views share its database): all or nothing.  A view
        no longer at its ``after`` fails the whole transaction (``IntegrityError``, or on
        PostgreSQL a ``DataError`` naming :data:`MOVED`); the caller finds out which."""
        with self.transaction() as c:
            for part in parts:
                run_writes(c, self.db, part.writes)
                part.view._move_tracking(c, part.tracking, part.after)

    def transaction(self) -> AbstractContextManager[Any]:
        """A write transaction that commits without waiting for the disk, unlike an
        event's.  A power cut can then lose a view's last commits, positions with them
        but never half of one (SQLite's WAL, PostgreSQL's), and the view applies those
        events again from the log, whose own commits did wait.  Waiting would hold up
        every writer of the file."""
        raise NotImplementedError

    def _move_tracking(self, c: Any, tracking: Tracking, after: int) -> None:
        table = self.schema.tracking_table()
        if after == 0:
            statement = f"INSERT INTO {{s}}{table} VALUES (?, ?) RETURNING notification_id"
            params: tuple[Any, ...] = (tracking.application_name, tracking.notification_id)
        else:
            statement = (
                f"UPDATE {{s}}{table} SET notification_id=? "
                "WHERE application_name=? AND notification_id=? RETURNING notification_id"
            )
            params = (tracking.notification_id, tracking.application_name, after)
        c.execute(self.db.sql(statement), params)
        if c.fetchone() is None:
            msg = f"{self.schema.name} is no longer at position {after}"
            raise IntegrityError(msg)

    def close(self) -> None:
        self.db.close()

    def outdated(self) -> bool:
        """Whether a table of the view, made by an earlier definition, lacks a column the
        current one has.  ``CREATE TABLE IF NOT EXISTS`` leaves such a table as it was, and
        the current writes, queries and indexes would then fail on it."""
        for table, wanted in self.schema.columns().items():
            if self.db.is_postgres:
                rows = self.db.query(
                    "SELECT column_name AS name FROM information_schema.columns "
                    "WHERE table_schema=? AND table_name=?",
                    (self.datastore.schema, table),
                )
            else:
                rows = self.db.query(f"PRAGMA table_info({table})")
            have = {row["name"] for row in rows}
            if have and not set(wanted) <= have:  # no table at all: it is made afresh
                return True
        return False

    def drop(self) -> None:
        """Remove the view's tables and its position, in one transaction (for a rebuild,
        which then creates them afresh, so a changed view definition takes effect)."""
        self.db.execute(self.drop_statements())

    def drop_statements(self) -> list[Statement]:
        """The view's tables, its position and its quarantine rows."""
        tables = [*self.schema.tables, self.schema.tracking_table()]
        drops: list[Statement] = [(f"DROP TABLE IF EXISTS {{s}}{t}", ()) for t in tables]
        return [*drops, (quarantine.FORGET_VIEW, (self.schema.name,))]


class SQLiteView(SQLiteTrackingRecorder, View):
    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.datastore.get_connection(commit=True) as connection:
            # A setting of this connection (views' connections alone), which SQLite
            # changes only outside a transaction.
            connection.cursor().execute("PRAGMA synchronous=NORMAL")
            with connection.transaction(commit=True) as c:
                check_file(self.datastore)
                yield c

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        table = self.schema.tracking_table()
        # Every view keeps its own position: they share one database file.
        self.insert_tracking_statement = self.insert_tracking_statement.replace(
            "INTO tracking", f"INTO {table}"
        ).replace("WHERE tracking.", f"WHERE {table}.")
        self.select_max_tracking_id_statement = self.select_max_tracking_id_statement.replace(
            "FROM tracking", f"FROM {table}"
        )
        self.db = Database(datastore)
        watch(datastore)

    def drop(self) -> None:
        # Builds of SQLite with secure_delete on (Debian's) overwrite every page a DROP
        # frees, a noticeable part of rebuilding a large view.  It hides nothing here: the
        # rows are copies of events this same file keeps, and the rebuild that follows
        # writes its rows into the freed pages.
        with self.db.cursor(commit=True) as c:
            c.execute("PRAGMA secure_delete")
            setting = int(c.fetchone()[0])
            c.execute("PRAGMA secure_delete=0")
            try:
                run_writes(c, self.db, self.drop_statements())
            finally:
                c.execute(f"PRAGMA secure_delete={setting}")  # the pooled connection's own

    def construct_create_table_statements(self) -> list[str]:
        table = self.schema.tracking_table()
        statements = [
            s.replace("IF NOT EXISTS tracking (", f"IF NOT EXISTS {table} (")
            for s in super().construct_create_table_statements()
        ]
        ddl = [table_ddl(s.replace("{s}", ""), postgres=False) for s in self.schema.ddl]
        return statements + ddl


# A live batch of at most this many statements is sent in one flight (pipeline mode); a
# larger one (a catch-up page) statement by statement: in pipeline mode psycopg sends what
# is queued and then only reads, so a batch larger than the socket buffers would stall
# (persistence/postgres_flights.py).
ONE_FLIGHT_WRITES = 64
# What the guarded move of a view's position casts to a number when the view is no
# longer where it was: an error that aborts the transaction, so its COMMIT rolls back.
MOVED = "view position moved"


def moves(parts: Sequence["ViewWrite"]) -> tuple[str, list[Any]]:
    """One statement that moves every view's position of a batch, each only from its
    ``after``. Moved one by one, the positions would be most of a live batch's statements:
    a note writes a row or two in all the views, and each of the eight views has one."""
    updates, checks, params = [], [], []
    for i, part in enumerate(parts):
        table = part.view.schema.tracking_table()
        updates.append(
            f"m{i} AS (UPDATE {{s}}{table} SET notification_id=? "
            "WHERE application_name=? AND notification_id=? RETURNING 1)"
        )
        checks.append(f"(SELECT count(*) FROM m{i}) = 1")
        tracking = part.tracking
        params += [tracking.notification_id, tracking.application_name, part.after]
    statement = (
        f"WITH {', '.join(updates)} "
        f"SELECT (CASE WHEN {' AND '.join(checks)} THEN '1' ELSE '{MOVED}' END)::int"
    )
    return statement, params


class PostgresView(PostgresTrackingRecorder, View):
    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=True) as c:
            c.execute("SET LOCAL synchronous_commit TO OFF")  # this transaction's alone
            yield c

    def write_many(self, parts: Sequence["ViewWrite"]) -> None:
        """As :meth:`View.write_many`, a live batch in one round trip: BEGIN, each view's
        writes and its position moved only if it is still at its ``after`` (else an error
        aborts the transaction), and COMMIT, sent together."""
        writes = sum(len(part.writes) + 1 for part in parts)
        if writes > ONE_FLIGHT_WRITES or any(part.after == 0 for part in parts):
            super().write_many(parts)
            return
        with self.datastore.get_connection() as conn:
            try:
                with conn.pipeline(), conn.cursor() as c:
                    c.execute(SQL("BEGIN"))
                    c.execute(SQL("SET LOCAL synchronous_commit TO OFF"))
                    for part in parts:
                        run_writes(c, self.db, part.writes)
                    move, params = moves(parts)
                    c.execute(self.db.sql(move).encode(), params)
                    c.execute(SQL("COMMIT"))
            except BaseException:
                if conn.info.transaction_status != TransactionStatus.IDLE:
                    conn.rollback()
                raise

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        kwargs["tracking_table_name"] = self.schema.tracking_table()
        super().__init__(datastore, **kwargs)
        self.db = Database(datastore)
        for statement in self.schema.ddl:
            ddl = self.db.sql(table_ddl(statement, postgres=True))
            self.sql_create_statements.append(SQL(ddl).format())
