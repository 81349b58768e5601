"""Replay: "as of" reads of cases with 1,000 / 10,000 / 100,000 events.

Cases of 1,000 and 10,000 events are written through the application, so they carry the
snapshots production would take (every 100 events).  A case keeps an index entry per note
(about 44 bytes; the text stays in the events), so snapshotting a 100,000-note case every
100 events would still write about 2 GB (quadratic); that case is written through the
library's event store without snapshots, and its row says so.  Baseline: reading the
current state of the same case (no cache) in the same run.
"""

import random
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID, uuid4

from benchmarks.bench_commands import ACTOR, NOTE, open_case
from benchmarks.common import Row, latencies, percentile, temp_store
from caserecord.application import CaseRecords
from caserecord.domain.case import Case
from caserecord.history import case_as_of
from caserecord.projections import ProjectionService
from caserecord.store import open_records

BATCH = 500


def as_of_reader(app: CaseRecords) -> tuple[str, Callable[[UUID, datetime], object]]:
    """The replay the API serves."""
    return "history.case_as_of(recorded_at=T)", (
        lambda case_id, at: case_as_of(app, ACTOR, case_id, recorded_at=at)
    )


def grow_case(app: CaseRecords, case_id: UUID, events: int, *, snapshots: bool) -> list[datetime]:
    """Append notes until the case has ``events`` events; the recorded times of them all."""
    case: Any = app.repository.get(case_id)
    times: list[datetime] = [case.modified_on]
    while case.version < events:
        with app._recording(ACTOR, {}):
            for _ in range(min(BATCH, events - case.version)):
                case.record_note(str(uuid4()), NOTE, "client", "phone", [])
        pending = case.collect_events()
        times.extend(e.timestamp for e in pending)
        if snapshots:
            app.events.put(pending)
            take_due_snapshots(app, case, pending)
        else:
            app.events.put(pending)
    return times


def take_due_snapshots(app: CaseRecords, case: Case, pending: list[Any]) -> None:
    # What Application.save does, without re-reading the aggregate for every snapshot.
    for event in pending:
        if event.originator_version % 100 == 0:
            app.take_snapshot(case.id, version=event.originator_version)


def run(kind: str, *, quick: bool) -> list[Row]:
    sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
    samples = 20 if quick else 30
    rows: list[Row] = []
    with temp_store(kind, "replay") as settings:
        app = open_records(settings)
        try:
            how, as_of = as_of_reader(app)
            for size in sizes:
                snapshots = size <= 10_000
                case_id = open_case(app)
                t0 = time.perf_counter()
                times = grow_case(app, case_id, size, snapshots=snapshots)
                written = time.perf_counter() - t0
                index = ProjectionService(settings)
                index.catch_up(["audit_trail"])  # the (version, time) index "as of" looks up
                index.close()
                app.repository.cache = None  # measure replay, not the cache
                rng = random.Random(size)
                picks = iter([rng.choice(times) for _ in range(samples + 5)])
                n = samples if snapshots else 5  # a full replay of 100,000 events takes seconds
                replay = latencies(partial(lambda c, p: as_of(c, next(p)), case_id, picks), n, 1)
                current = latencies(partial(app.repository.get, case_id), min(n, 3), 1)
                rows.append(
                    Row(
                        "replay",
                        f'"as of" p50, case of {size:,} events'
                        + ("" if snapshots else " (no snapshots)"),
                        kind,
                        percentile(replay, 50) * 1000,
                        "ms",
                        "current state of the same case",
                        percentile(current, 50) * 1000,
                        "",
                        f"{how}; {n} random recorded times; p99 "
                        f"{percentile(replay, 99) * 1000:.1f} ms",
                        {"p99_ms": percentile(replay, 99) * 1000, "write_seconds": written},
                    )
                )
        finally:
            app.close()
    return rows
