"""Read side: view rebuild rate and "as of" latency, as ratios against baselines measured
in the same run.

    .venv/bin/python benchmarks/bench_read_side.py [--quick] [--stores sqlite postgres]

* rebuild: each view replayed from the whole log (``ProjectionService.rebuild``), in
  events/s, against reading and decoding the same notification log without writing
  anything (``select_notifications`` + ``mapper.to_domain_event``), the floor any
  projection pays.  Target: >= 20,000 events/s on SQLite.
* "as of": ``history.case_as_of`` at random recorded times and at random effective times
  of one 10,000-event case, p50/p99, against reading the current state of the same case
  (``repository.get`` without the cache).  Target: p50 <= 10 ms.

Importable: ``run(kind, quick=...) -> list[Row]`` for ``benchmarks/run.py``.
"""

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from benchmarks.common import Row, latencies, percentile, postgres_problem, temp_store  # noqa: E402
from caserecord.application import CaseRecords  # noqa: E402
from caserecord.domain.case import Case  # noqa: E402
from caserecord.domain.recording import Actor, Recording, recording  # noqa: E402
from caserecord.history import case_as_of  # noqa: E402
from caserecord.projections import VIEW_NAMES, ProjectionService  # noqa: E402
from caserecord.store import open_records  # noqa: E402

ACTOR = Actor("bench-worker", "caseworker", "agency-bench")
NOTE = "Phoned client; attended the group session and reports two weeks sober."
SAVE_EVERY = 500


def new_case(app: CaseRecords) -> tuple[UUID, str, str]:
    """A case with an active plan and one active goal: (case id, plan id, goal id)."""
    client = app.register_client(ACTOR, given_name="Bench", family_name=uuid4().hex[:8])
    case_id = app.open_case(
        ACTOR,
        client_id=client.id,
        specialty="substance_abuse",
        referral_source="court",
        presenting_needs=["alcohol use"],
        interview_summary="Benchmark case.",
        case_manager_id=ACTOR.id,
        effective_at=datetime.now(UTC) - timedelta(days=30),
    ).id
    plan_id = app.draft_plan(
        ACTOR, case_id, title="Plan", activities=[], next_review_on=date(2027, 1, 1)
    ).entity_id
    assert plan_id is not None
    app.change_plan_status(ACTOR, case_id, plan_id=plan_id, action="activate")
    goal_id = app.add_goal(
        ACTOR, case_id, plan_id=plan_id, description="Stay sober", need_domain="therapeutic"
    ).entity_id
    assert goal_id is not None
    app.change_goal_lifecycle(ACTOR, case_id, goal_id=goal_id, lifecycle="active")
    return case_id, plan_id, goal_id


def grow(app: CaseRecords, case_id: UUID, plan_id: str, goal_id: str, events: int) -> None:
    """Add a realistic mix (notes, progress, referrals, plan pauses), some entered late,
    saving a batch at a time; the application takes its snapshots every 100 events."""
    rnd = random.Random(str(case_id))
    case: Any = app.repository.get(case_id)
    start = datetime.now(UTC)
    while case.version < events:
        late = start - timedelta(hours=rnd.uniform(0, 48)) if rnd.random() < 0.2 else None
        with recording(Recording(ACTOR, effective_at=late)):
            for _ in range(min(SAVE_EVERY, events - case.version)):
                add_one(case, rnd, plan_id, goal_id)
        app.save(case)


def add_one(case: Case, rnd: random.Random, plan_id: str, goal_id: str) -> None:
    roll = rnd.random()
    if roll < 0.6:
        case.record_note(str(uuid4()), NOTE, "client", rnd.choice(["phone", "in_person"]), [])
    elif roll < 0.85:
        achievement = rnd.choice(["improving", "no-change", "worsening"])
        case.record_goal_progress(goal_id, achievement, "", "")
    elif roll < 0.95:
        referral_id = str(uuid4())
        case.make_referral(referral_id, "housing", "Trust", "Tenancy", "", "routine", None)
        case.accept_referral(referral_id)
    elif case.current_plan is not None and case.current_plan.status == "active":
        case.suspend_plan(plan_id, "client in hospital")
    else:
        case.resume_plan(plan_id)


def populate(app: CaseRecords, events: int, per_case: int) -> None:
    while (app.recorder.max_notification_id() or 0) < events:
        case_id, plan_id, goal_id = new_case(app)
        grow(app, case_id, plan_id, goal_id, per_case)


def read_rate(app: CaseRecords) -> float:
    """Events/s of reading and decoding the whole log: what a rebuild cannot beat."""
    start, count, t0 = 0, 0, time.perf_counter()
    while True:
        page = app.recorder.select_notifications(start, 1000, inclusive_of_start=False)
        if not page:
            break
        for n in page:
            app.mapper.to_domain_event(n)
        count += len(page)
        start = page[-1].id
    return count / (time.perf_counter() - t0)


def rebuild_rows(kind: str, settings: Any, app: CaseRecords, events: int) -> list[Row]:
    service = ProjectionService(settings)
    rows = []
    try:
        # Median of reads before, between and after the rebuilds: the machine is shared.
        reads = [read_rate(app)]
        total_seconds = 0.0
        measured: dict[str, tuple[int, float]] = {}
        for name in VIEW_NAMES:
            t0 = time.perf_counter()
            applied = service.rebuild([name])[name]
            seconds = time.perf_counter() - t0
            total_seconds += seconds
            measured[name] = (applied, seconds)
            if name == VIEW_NAMES[len(VIEW_NAMES) // 2]:
                reads.append(read_rate(app))
        reads.append(read_rate(app))
        baseline = statistics.median(reads)
        for name, (applied, seconds) in measured.items():
            rows.append(
                Row(
                    "projections",
                    f"rebuild {name}",
                    kind,
                    applied / seconds,
                    "events/s",
                    "read + decode the log",
                    baseline,
                    ">= 20,000 events/s (SQLite)" if kind == "sqlite" else "",
                    f"{applied:,} events",
                )
            )
        t0 = time.perf_counter()
        service.rebuild()
        together = time.perf_counter() - t0
        rows.append(
            Row(
                "projections",
                "rebuild all five views in one pass",
                kind,
                events / together,
                "events/s",
                "read + decode the log",
                baseline,
                "",
                f"{together:.1f} s for {events:,} events: read, decoded and folded once",
            )
        )
        rows.append(
            Row(
                "projections",
                "rebuild the five views one by one",
                kind,
                events * len(VIEW_NAMES) / total_seconds,
                "view-events/s",
                "read + decode the log",
                baseline,
                "",
                f"{total_seconds:.1f} s for {events:,} events x {len(VIEW_NAMES)} views",
            )
        )
    finally:
        service.close()
    return rows


def as_of_rows(kind: str, settings: Any, app: CaseRecords, size: int, samples: int) -> list[Row]:
    case_id, plan_id, goal_id = new_case(app)
    grow(app, case_id, plan_id, goal_id, size)
    ProjectionService(settings).catch_up(["audit_trail"])  # the (version, time) index
    events: list[Any] = list(app.events.get(case_id))
    recorded: list[datetime] = [e.timestamp for e in events]
    effective: list[datetime] = [vars(e).get("effective_at", e.timestamp) for e in events]
    app.repository.cache = None  # measure replay, not the cache
    rnd = random.Random(size)

    def timed(axis: str, times: list[datetime]) -> list[float]:
        picks = iter([rnd.choice(times) for _ in range(samples + 5)])
        return latencies(lambda: case_as_of(app, ACTOR, case_id, **{axis: next(picks)}), samples)

    current = latencies(lambda: app.repository.get(case_id), samples)
    versions = iter([rnd.randint(1, size) for _ in range(samples + 5)])
    replay_only = latencies(lambda: app.repository.get(case_id, version=next(versions)), samples)
    rendering = latencies(lambda: app.case_state(app.repository.get(case_id)), samples // 2 or 1)
    from_scratch = latencies(lambda: fold(app, case_id), 5, warmup=1)
    rows = []
    for axis, times in (("recorded_at", recorded), ("effective_at", effective)):
        measured = timed(axis, times)
        rows.append(
            Row(
                "replay",
                f'"as of" {axis} p50, {size:,}-event case',
                kind,
                percentile(measured, 50) * 1000,
                "ms",
                "current state, no cache",
                percentile(current, 50) * 1000,
                "p50 <= 10 ms" if axis == "recorded_at" else "",
                f"p99 {percentile(measured, 99) * 1000:.1f} ms; {samples} random times; "
                f"state rebuild alone p50 {percentile(replay_only, 50) * 1000:.1f} ms, "
                f"current state as a dict p50 {percentile(rendering, 50) * 1000:.1f} ms; "
                f"a fold of all {size:,} events without snapshots p50 "
                f"{percentile(from_scratch, 50) * 1000:.1f} ms",
                {
                    "p99_ms": percentile(measured, 99) * 1000,
                    "rebuild_at_version_p50_ms": percentile(replay_only, 50) * 1000,
                    "to_dict_p50_ms": percentile(rendering, 50) * 1000,
                    "fold_without_snapshots_p50_ms": percentile(from_scratch, 50) * 1000,
                },
            )
        )
    return rows


def fold(app: CaseRecords, case_id: UUID) -> Any:
    """The case from all its events, no snapshot: what replay would cost without them."""
    case: Any = None
    events: list[Any] = list(app.events.get(case_id))
    for event in events:
        case = event.mutate(case)
    return case


def run(kind: str, *, quick: bool = False) -> list[Row]:
    # PostgreSQL is slower per row (a round trip per statement): fewer events keep the
    # whole `make bench` within its budget.
    events = 20_000 if quick else (100_000 if kind == "sqlite" else 50_000)
    size = 10_000
    samples = 30 if quick else (100 if kind == "sqlite" else 50)
    rows: list[Row] = []
    with temp_store(kind, "readside") as settings:
        app = open_records(settings)
        try:
            populate(app, events, per_case=200)
            rows += rebuild_rows(kind, settings, app, app.recorder.max_notification_id() or 0)
            rows += as_of_rows(kind, settings, app, size, samples)
        finally:
            app.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="20,000 events, not 100,000 (50,000 on PG)"
    )
    parser.add_argument("--stores", nargs="*", default=["sqlite", "postgres"])
    args = parser.parse_args(argv)
    stores = list(args.stores)
    if "postgres" in stores and (problem := postgres_problem()) is not None:
        print(f"PostgreSQL skipped: {problem}", file=sys.stderr)
        stores.remove("postgres")
    for kind in stores:
        for row in run(kind, quick=args.quick):
            ratio = f"{row.ratio:.2f}" if row.ratio is not None else "-"
            print(
                f"{row.store:8} {row.name:42} {row.value:12,.1f} {row.unit:14} "
                f"x{ratio:>6} of {row.baseline_name} ({row.baseline or 0:,.1f})  {row.note}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
