"""Command path: notes recorded through CaseRecords against the bare library and raw commits.

Three things run in alternating rounds on the same store kind:
- CaseRecords.record_note (domain guards, envelope, hash chain, snapshots every 100 events);
- the bare eventsourcing library: repository.get + one event + save, same cache size and
  snapshot interval, the library's own recorder (no chain);
- one-row INSERT + COMMIT with the raw driver (the physical reference).
"""

import itertools
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL

from benchmarks.common import Row, interleaved_rates, load_average, temp_store
from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.persistence.chain import chain
from caserecord.persistence.entries import ENTRY_TABLE, LINK_TABLE, entry_rows, link_rows
from caserecord.persistence.feed import FEED_TABLE, agencies, identity_changes, index_rows
from caserecord.persistence.idempotency import IdempotencyRecord
from caserecord.persistence.identity import IDENTITY_TABLE, update_statement
from caserecord.persistence.postgres import ChainedPostgresApplicationRecorder
from caserecord.persistence.sqlite import ChainedSQLiteApplicationRecorder, group
from caserecord.persistence.sqlite_file import check_file
from caserecord.store import open_records

ACTOR = Actor("bench-worker", "caseworker", "agency-bench")
NOTE = "Phoned client; attended the group session and reports two weeks sober."
CASES = 50


class Ledger(Aggregate):
    """The smallest aggregate that records a note: what the bare library baseline saves."""

    def __init__(self) -> None:
        self.count = 0
        self.last = ""

    @event("Noted")
    def note(self, text: str) -> None:
        self.count += 1
        self.last = text


class BareApp(Application[UUID]):
    snapshotting_intervals = {Ledger: 100}


@contextmanager
def caserecords_op(settings: Settings) -> Iterator[Callable[[], object]]:
    app = open_records(settings)
    try:
        cases = itertools.cycle([open_case(app) for _ in range(CASES)])

        def op() -> object:
            return app.record_note(
                ACTOR, next(cases), text=NOTE, contact_kind="client", contact_mode="phone"
            )

        yield op
    finally:
        app.close()


def open_case(app: Any) -> UUID:
    client = app.register_client(ACTOR, given_name="Bench", family_name="Client").id
    result = app.open_case(
        ACTOR,
        client_id=client,
        specialty="substance_abuse",
        referral_source="self",
        presenting_needs=["housing"],
        interview_summary="Benchmark case.",
        case_manager_id=ACTOR.id,
    )
    return UUID(str(result.id))


@contextmanager
def bare_library_op(settings: Settings) -> Iterator[Callable[[], object]]:
    env = settings.eventsourcing_env(create_table=True)
    env.pop("APPLICATION_RECORDER_TOPIC")  # the library's own recorder, no hash chain
    app = BareApp(env=env)
    try:
        ids = []
        for _ in range(CASES):
            ledger = Ledger()
            app.save(ledger)
            ids.append(ledger.id)
        cycle = itertools.cycle(ids)

        def op() -> object:
            ledger: Ledger = app.repository.get(next(cycle))
            ledger.note(NOTE)
            return app.save(ledger)

        yield op
    finally:
        app.close()


FRAMES_OF = 40


def wal_frames(op: Callable[[], object], settings: Settings) -> tuple[float, dict[str, float]]:
    """Pages a command appends to SQLite's write-ahead log, on average: what its commit
    writes and syncs, and later copies back into the database file; and the same by the
    table or index each page belongs to (SQLite's ``dbstat``).  The log is emptied first;
    40 commands stay below the automatic checkpoint (1,000 pages), which would start the
    log over."""
    path = settings.database_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0, "the log could not be emptied"
        for _ in range(FRAMES_OF):
            op()
        data = Path(f"{path}-wal").read_bytes()
        owner = dict(conn.execute("SELECT pageno, name FROM dbstat").fetchall())
    finally:
        conn.close()
    page_size = int.from_bytes(data[8:12], "big")
    salts = data[16:24]
    pages = [
        int.from_bytes(data[offset : offset + 4], "big")
        for offset in range(32, len(data) - 24 - page_size + 1, 24 + page_size)
        if data[offset + 8 : offset + 16] == salts
    ]
    by_tree: dict[str, float] = {}
    for page in pages:
        name = owner.get(page, "(free or header)")
        by_tree[name] = by_tree.get(name, 0.0) + 1 / FRAMES_OF
    return len(pages) / FRAMES_OF, by_tree


def most_written(by_tree: dict[str, float]) -> str:
    """The B-trees a note writes most pages of, for the row's note."""
    ranked = sorted(by_tree.items(), key=lambda item: -item[1])
    return ", ".join(f"{name} {share:.2f}" for name, share in ranked if share >= 0.1)


@contextmanager
def raw_sqlite_op(path: Path) -> Iterator[Callable[[], object]]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT)")
    try:

        def op() -> object:
            conn.execute("BEGIN")
            conn.execute("INSERT INTO rows (body) VALUES (?)", (NOTE,))
            conn.execute("COMMIT")
            return None

        yield op
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def raw_postgres_op(settings: Settings) -> Iterator[Callable[[], object]]:
    url, _, query = settings.database_url.partition("?schema=")
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(f'SET search_path TO "{query}"')
    conn.execute("CREATE TABLE raw_rows (id bigserial PRIMARY KEY, body text)")
    try:

        def op() -> object:
            conn.execute("INSERT INTO raw_rows (body) VALUES (%s)", (NOTE,))
            return None

        yield op
    finally:
        conn.close()


def run(kind: str, *, quick: bool) -> list[Row]:
    rounds, seconds = (3, 1.0) if quick else (4, 2.5)
    with ExitStack() as stack:
        ours = stack.enter_context(temp_store(kind, "cmd"))
        bare = stack.enter_context(temp_store(kind, "bare", init=False))
        if kind == "sqlite":
            raw_path = Path(ours.database_url.removeprefix("sqlite:///") + ".raw")
            raw = stack.enter_context(raw_sqlite_op(raw_path))
        else:
            raw = stack.enter_context(raw_postgres_op(ours))
        ops = {
            "caserecords": stack.enter_context(caserecords_op(ours)),
            "bare": stack.enter_context(bare_library_op(bare)),
            "raw": raw,
        }
        rates = interleaved_rates(ops, rounds, seconds)
        pages = []
        if kind == "sqlite":
            ours_pages, ours_trees = wal_frames(ops["caserecords"], ours)
            bare_pages, _ = wal_frames(ops["bare"], bare)
            pages.append(
                Row(
                    "command path",
                    "pages written per note (WAL frames, record_note)",
                    kind,
                    ours_pages,
                    "pages",
                    "bare eventsourcing get+event+save",
                    bare_pages,
                    "reference",
                    f"{FRAMES_OF} commands after a checkpoint; counted in the WAL file, so "
                    f"the machine's load does not move it; by B-tree: {most_written(ours_trees)}",
                    extra={"by_btree": ours_trees},
                )
            )
    driver = "sqlite3" if kind == "sqlite" else "psycopg"
    note = f"median of {rounds} alternating rounds of {seconds:g}s"
    rows = [*sealing_cost(kind, quick), *pages]
    return [
        *rows,
        Row(
            "command path",
            "record note (CaseRecords) vs bare library",
            kind,
            rates["caserecords"],
            "cmd/s",
            "bare eventsourcing get+event+save",
            rates["bare"],
            ">= 0.8",
            note,
        ),
        Row(
            "command path",
            "record note (CaseRecords) vs raw commit",
            kind,
            rates["caserecords"],
            "cmd/s",
            f"raw {driver} one-row commit",
            rates["raw"],
            "reference",
            note,
        ),
        Row(
            "command path",
            "bare library vs raw commit",
            kind,
            rates["bare"],
            "cmd/s",
            f"raw {driver} one-row commit",
            rates["raw"],
            "reference",
            note,
        ),
    ]


# ---- the cost of the MACs and the Merkle tree ---------------------------------------------
class UnsealedSQLiteRecorder(ChainedSQLiteApplicationRecorder):
    """caserecord's SQLite recorder writing what it wrote before the MACs and the tree (the
    chain, the feed index, the entry and identity indexes, idempotency keys): the baseline
    for what sealing adds to a command."""

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        check_file(self.datastore)  # not part of sealing: the sealed recorder does it too
        agency_ids = agencies(stored_events)
        ids = SQLiteApplicationRecorder._insert_events(self, c, stored_events, **kwargs)
        c.executemany(
            f"INSERT INTO {FEED_TABLE} (agency_id, notification_id) VALUES (?,?)",
            index_rows(agency_ids, ids),
        )
        entries = entry_rows(stored_events)
        if entries:
            c.executemany(
                f"INSERT INTO {ENTRY_TABLE} (stream_id, version, kind, entity_id) VALUES (?,?,?,?)",
                entries,
            )
        links = link_rows(stored_events)
        if links:
            c.executemany(
                f"INSERT INTO {LINK_TABLE} (stream_id, version, kind, entity_id) VALUES (?,?,?,?)",
                links,
            )
        for stream_id, records in group(stored_events).items():
            prev = self._prev_hash(c, stream_id, records[0].version)
            c.executemany(
                "INSERT INTO event_chain (originator_id, originator_version, prev_hash, hash) "
                "VALUES (?,?,?,?)",
                [
                    (r.stream_id, r.version, link.prev_hash, link.hash)
                    for r, link in chain(prev, records)
                ],
            )
        for change in identity_changes(stored_events):
            if change.registered:
                c.execute(f"INSERT INTO {IDENTITY_TABLE} VALUES (?,?,?,?,?,?)", change.insert_row())
            else:
                c.execute(*update_statement(change, IDENTITY_TABLE, "?"))
        idempotency: IdempotencyRecord | None = kwargs.get("idempotency")
        if idempotency is not None:
            c.execute(
                "INSERT INTO idempotency_keys (agency_id, idem_key, fingerprint, result, "
                "created_at) VALUES (?,?,?,?,?)",
                idempotency.values(),
            )
        return ids


class UnsealedPostgresRecorder(ChainedPostgresApplicationRecorder):
    """caserecord's PostgreSQL recorder writing what it wrote before the MACs and the tree:
    the baseline for what sealing adds to a command on PostgreSQL."""

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = PostgresApplicationRecorder._fetch_ids_after_insert_events(
            self, curs, stored_events, **kwargs
        )
        agency_ids = agencies(stored_events)
        columns = zip(*index_rows(agency_ids, ids), strict=True)
        curs.execute(
            SQL(
                "INSERT INTO {} (agency_id, notification_id) SELECT * FROM unnest(%s::text[], "
                "%s::bigint[])"
            ).format(self.feed_table),
            tuple(list(c) for c in columns),
        )
        links = [
            (r.stream_id, r.version, link.prev_hash, link.hash)
            for stream_id, records in group(stored_events).items()
            for r, link in chain(self._prev_hash(curs, stream_id, records[0].version), records)
        ]
        curs.execute(
            SQL(
                "INSERT INTO {} (originator_id, originator_version, prev_hash, hash) "
                "SELECT * FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::text[])"
            ).format(self.chain_table),
            tuple(list(c) for c in zip(*links, strict=True)),
        )
        for change in identity_changes(stored_events):
            if change.registered:
                curs.execute(
                    SQL("INSERT INTO {} VALUES (%s,%s,%s,%s,%s,%s)").format(self.identity_table),
                    change.insert_row(),
                )
            else:
                statement, params = update_statement(change, self.identity_name, "%s")
                curs.execute(statement.encode(), params)
        entries = entry_rows(stored_events)
        if entries:
            curs.execute(
                SQL(
                    "INSERT INTO {} (stream_id, version, kind, entity_id) SELECT * FROM unnest("
                    "%s::text[], %s::bigint[], %s::text[], %s::text[])"
                ).format(self.entry_table),
                tuple(list(c) for c in zip(*entries, strict=True)),
            )
        concerns = link_rows(stored_events)
        if concerns:
            curs.execute(
                SQL(
                    "INSERT INTO {} (stream_id, version, kind, entity_id) SELECT * FROM unnest("
                    "%s::text[], %s::bigint[], %s::text[], %s::text[])"
                ).format(self.link_table),
                tuple(list(c) for c in zip(*concerns, strict=True)),
            )
        idempotency: IdempotencyRecord | None = kwargs.get("idempotency")
        if idempotency is not None:
            curs.execute(
                SQL(
                    "INSERT INTO {} (agency_id, idem_key, fingerprint, result, created_at) "
                    "VALUES (%s,%s,%s,%s,%s)"
                ).format(self.idempotency_table),
                idempotency.values(),
            )
        return ids


UNSEALED_RECORDERS = {
    "sqlite": "benchmarks.bench_commands:UnsealedSQLiteRecorder",
    "postgres": "benchmarks.bench_commands:UnsealedPostgresRecorder",
}


class UnsealedRecords(CaseRecords):
    """CaseRecords with the library's own snapshot store (no snapshot MACs)."""

    name = "CaseRecords"  # PostgreSQL tables are named after the application

    def construct_snapshot_store(self) -> Any:
        return Application.construct_snapshot_store(self)


@contextmanager
def unsealed_op(settings: Settings, kind: str) -> Iterator[Callable[[], object]]:
    env = settings.eventsourcing_env() | {"APPLICATION_RECORDER_TOPIC": UNSEALED_RECORDERS[kind]}
    app = UnsealedRecords(env=env)
    try:
        cases = itertools.cycle([open_case(app) for _ in range(CASES)])

        def op() -> object:
            return app.record_note(
                ACTOR, next(cases), text=NOTE, contact_kind="client", contact_mode="phone"
            )

        yield op
    finally:
        app.close()


def sealing_cost(kind: str, quick: bool) -> list[Row]:
    """record_note with and without the MACs and the tree, alternating, on two stores of
    the same schema; commands per second of wall time and per second of this process's
    CPU time (steadier on a shared machine, and what sealing adds: hashing and rows).
    Then the CPU sealing adds to a note as a share of the server's CPU per POST note, from
    a short HTTP load on the service (1 worker, 8 connections on distinct cases): the
    target of issue 16 is at most a tenth of a POST."""
    rounds, seconds = (3, 1.0) if quick else (6, 2.5)
    with ExitStack() as stack:
        sealed = stack.enter_context(temp_store(kind, "sealed"))
        unsealed = stack.enter_context(temp_store(kind, "unsealed"))
        ops = {
            "sealed": stack.enter_context(caserecords_op(sealed)),
            "unsealed": stack.enter_context(unsealed_op(unsealed, kind)),
        }
        wall: dict[str, list[float]] = {name: [] for name in ops}
        cpu: dict[str, list[float]] = {name: [] for name in ops}
        for _ in range(rounds):
            for name, op in ops.items():
                count, started, cpu_started = 0, time.perf_counter(), time.process_time()
                while time.perf_counter() - started < seconds:
                    op()
                    count += 1
                wall[name].append(count / (time.perf_counter() - started))
                cpu[name].append(count / (time.process_time() - cpu_started))
    rates = {name: statistics.median(values) for name, values in wall.items()}
    cpu_rates = {name: statistics.median(values) for name, values in cpu.items()}
    return [
        Row(
            "command path",
            "record note: with MACs and the Merkle tree vs the same write without them",
            kind,
            rates["sealed"],
            "cmd/s",
            "the same recorder writing chain, indexes and keys only",
            rates["unsealed"],
            "ratio >= 0.90",
            f"median of {rounds} alternating rounds of {seconds:g}s; per CPU second "
            f"{cpu_rates['sealed']:,.0f} against {cpu_rates['unsealed']:,.0f} cmd/s "
            f"({cpu_rates['sealed'] / cpu_rates['unsealed']:.2f}); load average {load_average()}",
            {"wall": wall, "cpu": cpu},
        ),
        share_of_a_post(kind, quick, cpu, rounds, seconds),
    ]


def share_of_a_post(
    kind: str, quick: bool, cpu: dict[str, list[float]], rounds: int, seconds: float
) -> Row:
    """Sealed minus unsealed CPU per note, the median of the rounds' differences (each pair
    measured back to back, so the machine's drift cancels), over the server's CPU per POST
    note."""
    # Imported here: bench_http imports this module's actor and cases at its top.
    from benchmarks.bench_http import CONCURRENCY, not_2xx, post_note_cpu

    per_note = [
        (1 / sealed - 1 / unsealed) * 1e3
        for sealed, unsealed in zip(cpu["sealed"], cpu["unsealed"], strict=True)
    ]
    load_seconds, warmup = (2.0, 0.5) if quick else (4.0, 1.0)
    post = post_note_cpu(kind, load_seconds, warmup)
    sealed_ms = 1e3 / statistics.median(cpu["sealed"])
    unsealed_ms = 1e3 / statistics.median(cpu["unsealed"])
    return Row(
        "command path",
        "CPU sealing adds to a note, as a share of a POST note's server CPU",
        kind,
        statistics.median(per_note),
        "ms",
        "server CPU per POST note, 1 worker",
        post.cpu_ms(),
        "<= 0.10",
        f"record_note CPU sealed minus unsealed, median of the {rounds} alternating rounds "
        f"of {seconds:g}s above (the rounds: {min(per_note):.3f} to {max(per_note):.3f} ms; "
        f"medians {sealed_ms:.2f} against {unsealed_ms:.2f} ms a note); POST: "
        f"the service alone, {CONCURRENCY} keep-alive connections on distinct cases, "
        f"{load_seconds:g}s after a warm-up, {post.merged.rps:.0f} req/s, "
        f"{not_2xx(post.merged)} non-2xx or failed; load average {load_average()}",
        {"per_note_ms": per_note, "post_cpu_seconds": post.cpu, "post_ok": post.merged.ok},
    )
