"""History growth: the cost of a command on a case that already holds 0 / 1k / 10k / 30k
events, against the same command on a new case in the same run (both stores).

Commands: record a note, an addendum to the case's oldest note, mark its oldest standing
note in error.  The long cases are written through the service's own recorder in batches
(hash chain and feed index included), not through 30,000 commands.  Also the size of the
latest snapshot of a case with 30,000 notes against one with 100.
"""

import os
import statistics
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any
from uuid import UUID

from benchmarks.common import Row, temp_store
from caserecord.application import CaseRecords
from caserecord.domain.case import Case
from caserecord.domain.recording import Actor, Recording, recording
from caserecord.store import open_records

ACTOR = Actor("bench-worker", "caseworker", "agency-bench")
NOTE = "Phoned client; attended the group session and reports two weeks sober."
BATCH = 500


def long_case(app: CaseRecords, events: int) -> tuple[UUID, list[tuple[str, int]]]:
    """A case of ``events`` events (intake plus notes), saved in batches; its notes."""
    client_id = app.register_client(ACTOR, given_name="Bench", family_name="Client").id
    notes: list[tuple[str, int]] = []
    with recording(Recording(ACTOR)):
        case = Case(
            client_id=client_id,
            agency_id=ACTOR.agency_id,
            specialty="substance_abuse",
            referral_source="bench",
            presenting_needs=["x"],
            interview_summary="bench",
            case_manager_id=ACTOR.id,
        )
        while case.version < max(events, 1):
            note_id = f"n{case.version}"
            case.record_note(note_id, NOTE, "client", "phone", [])
            notes.append((note_id, case.version))
            if len(case.pending_events) >= BATCH:
                app.save(case)
        app.save(case)
    if events >= 100 and case.version % 100:  # save() snapshots every hundredth
        app.take_snapshot(case.id)
    return case.id, notes


def timed(op: Callable[[], object], count: int) -> tuple[float, float]:
    """Milliseconds of wall time and of this process's CPU time per call of ``op``."""
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        op()
    return (
        (time.perf_counter() - start) / count * 1e3,
        (time.process_time() - cpu) / count * 1e3,
    )


def run(kind: str, *, quick: bool) -> list[Row]:
    """Every case is written before any command is timed, and the commands on the cases
    of every size run in alternating rounds: the store, its indexes and the machine's
    load are then the same for a long case and for the new one it is compared with (timed
    one size after another, a new case timed on an empty store was compared with a long
    one timed on a store grown by the long case's own events)."""
    sizes = (0, 1_000, 10_000) if quick else (0, 1_000, 10_000, 30_000)
    rounds, per_round = (3, 10) if quick else (5, 20)
    rows: list[Row] = []
    wall: dict[str, dict[int, list[float]]] = {w: {s: [] for s in sizes} for w in WHAT}
    cpu: dict[str, dict[int, list[float]]] = {w: {s: [] for s in sizes} for w in WHAT}
    with temp_store(kind, "history") as settings:
        app = open_records(settings)
        try:
            # The largest first, so the new case is the newest record of the store.
            cases = {size: long_case(app, size) for size in sorted(sizes, reverse=True)}
            ops: dict[str, dict[int, Callable[[], object]]] = {w: {} for w in WHAT}
            for size, (case_id, notes) in cases.items():
                ops["note"][size] = partial(record, app, case_id)
                if notes:
                    ops["addendum"][size] = partial(
                        app.append_addendum, ACTOR, case_id, note_id=notes[0][0], text="late"
                    )
                    # From the second note on: the first takes the addenda.
                    ops["in_error"][size] = partial(mark_next, app, case_id, iter(notes[1:]))
            for by_size in ops.values():  # warm: each case cached, each statement prepared
                for op in by_size.values():
                    op()
            for _ in range(rounds):
                for what, by_size in ops.items():
                    for size, op in by_size.items():
                        ms, cpu_ms = timed(op, per_round)
                        wall[what][size].append(ms)
                        cpu[what][size].append(cpu_ms)
            small_id, _ = long_case(app, 101)
            big_id, _ = long_case(app, 30_001 if not quick else 10_001)
            sizes_bytes = {i: snapshot_bytes(app, i) for i in (small_id, big_id)}
        finally:
            app.close()
    note = (
        f"median of {rounds} alternating rounds of {per_round} commands; "
        "load average " + "/".join(f"{v:.1f}" for v in os.getloadavg())
    )
    for what, label in WHAT.items():
        measured = {s: statistics.median(v) for s, v in wall[what].items() if v}
        per_cpu = {s: statistics.median(v) for s, v in cpu[what].items() if v}
        smallest, largest = min(measured), max(measured)
        base = measured[0] if what == "note" else measured[smallest]
        base_cpu = per_cpu[0] if what == "note" else per_cpu[smallest]
        base_rounds = wall[what][0 if what == "note" else smallest]
        for size, ms in measured.items():
            # Each round's long case against the same round's base: a burst of load on the
            # shared machine then moves both sides of the ratio.
            paired = statistics.median(
                b / m for b, m in zip(base_rounds, wall[what][size], strict=True)
            )
            rows.append(
                Row(
                    "history growth",
                    f"{label}, case of {size:,} events",
                    kind,
                    1e3 / ms,
                    "cmd/s",
                    "record_note on a new case" if what == "note" else f"{label}, smallest case",
                    1e3 / base,
                    ">= 0.8" if size == largest else "",
                    f"{note}; median of the rounds' ratios {paired:.2f}; per CPU second "
                    f"{1e3 / per_cpu[size]:,.0f} against {1e3 / base_cpu:,.0f} cmd/s "
                    f"({base_cpu / per_cpu[size]:.2f})",
                    {"wall_ms": wall[what][size], "cpu_ms": cpu[what][size]},
                )
            )
    rows.append(
        Row(
            "history growth",
            f"snapshot bytes, case of {'30,000' if not quick else '10,000'} notes",
            kind,
            float(sizes_bytes[big_id]),
            "bytes",
            "snapshot bytes, case of 100 notes",
            float(sizes_bytes[small_id]),
            "<= 2",
        )
    )
    return rows


WHAT = {
    "note": "record_note",
    "addendum": "addendum to oldest note",
    "in_error": "mark oldest note in error",
}


def mark_next(app: CaseRecords, case_id: UUID, oldest: Iterator[tuple[str, int]]) -> Any:
    return app.mark_entry_in_error(
        ACTOR, case_id, target_version=next(oldest)[1], reason="wrong client"
    )


def record(app: CaseRecords, case_id: UUID) -> Any:
    return app.record_note(ACTOR, case_id, text=NOTE, contact_kind="client", contact_mode="phone")


def snapshot_bytes(app: CaseRecords, stream_id: UUID) -> int:
    assert app.snapshots is not None
    stored = list(app.snapshots.recorder.select_events(stream_id, desc=True, limit=1))
    return len(stored[0].state) if stored else 0
