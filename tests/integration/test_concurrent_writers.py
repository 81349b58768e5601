"""Writers saving the same case version at once.  A writer that named the version it expects
(If-Match) and lost gets a conflict; one that named none is run again on the fresh case and
succeeds.  No acknowledged update is lost.  Threads and processes, both stores.
"""

import multiprocessing
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any
from uuid import UUID

import pytest

from caserecord.application import CaseRecords, CommandResult, one_read
from caserecord.config import Settings
from caserecord.domain.errors import ConcurrencyConflictError
from caserecord.domain.recording import Actor
from caserecord.store import open_records
from tests.factories import all_notes, an_open_case

WORKER = Actor("worker-1", "caseworker", "agency-a")
SPAWN = multiprocessing.get_context("spawn")


def hold_saves_at(app: CaseRecords, barrier: Any) -> None:
    """Make the service wait at ``barrier`` after loading and changing the case, just before
    saving, so two writers are sure to save the same version at the same moment."""
    save = app.save

    def held_save(*args: Any, **kwargs: Any) -> Any:
        barrier.wait(timeout=30)
        return save(*args, **kwargs)

    app.save = held_save  # type: ignore[method-assign]


def hold_first_save_at(app: CaseRecords, barrier: Any) -> None:
    """As ``hold_saves_at``, for the first save only: a retry goes straight through."""
    save = app.save
    held: list[int] = []

    def held_save(*args: Any, **kwargs: Any) -> Any:
        if not held:
            held.append(1)
            barrier.wait(timeout=30)
        return save(*args, **kwargs)

    app.save = held_save  # type: ignore[method-assign]


def write_note(app: CaseRecords, case_id: UUID, text: str, **opts: Any) -> CommandResult:
    return app.record_note(
        WORKER, case_id, text=text, contact_kind="internal", contact_mode="phone", **opts
    )


def write_with_retry(app: CaseRecords, case_id: UUID, text: str) -> tuple[CommandResult, int]:
    """What a client does with a conflict: reload (the service does) and try again."""
    conflicts = 0
    while True:
        try:
            return write_note(app, case_id, text), conflicts
        except ConcurrencyConflictError:
            conflicts += 1
            if conflicts > 200:
                raise


def outcome(call: Callable[[], CommandResult]) -> CommandResult | ConcurrencyConflictError:
    try:
        return call()
    except ConcurrencyConflictError as conflict:
        return conflict


def assert_nothing_lost(
    app: CaseRecords, case_id: UUID, acknowledged: list[tuple[str, int]]
) -> None:
    """Every acknowledged write is in the case at the version it was acknowledged with, the
    versions are contiguous and the chain verifies."""
    case = app.get_case(WORKER, case_id)
    notes = {n["note_id"]: n["version"] for n in all_notes(app, WORKER, case_id)}
    assert notes == dict(acknowledged)
    assert sorted(notes.values()) == list(range(2, 2 + len(acknowledged)))
    assert case["version"] == 1 + len(acknowledged)
    events = [e["version"] for e in app.case_events(WORKER, case_id) if e["stream_id"] == case_id]
    assert events == list(range(1, case["version"] + 1))
    check = app.verify_stream(case_id)
    assert (check.ok, check.versions_checked) == (True, case["version"])


@pytest.fixture
def two_apps(records: CaseRecords, settings: Settings) -> Iterator[tuple[CaseRecords, ...]]:
    """Two independent service instances on the same store, like two web workers."""
    apps = (open_records(settings), open_records(settings))
    yield apps
    for app in apps:
        app.close()


# ---- threads ------------------------------------------------------------------------


def test_two_threads_saving_the_expected_version_one_wins_one_conflicts(
    records: CaseRecords, two_apps: tuple[CaseRecords, ...]
) -> None:
    case_id = an_open_case(records, WORKER)
    barrier = threading.Barrier(2)
    for app in two_apps:
        hold_saves_at(app, barrier)

    with ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(
                outcome, partial(write_note, app, case_id, f"writer {i}", expected_version=1)
            )
            for i, app in enumerate(two_apps)
        ]
        results = [f.result(timeout=60) for f in futures]

    wins = [r for r in results if isinstance(r, CommandResult)]
    conflicts = [r for r in results if isinstance(r, ConcurrencyConflictError)]
    assert len(wins) == 1 and len(conflicts) == 1
    assert wins[0].version == 2
    assert conflicts[0].code == "concurrency_conflict"
    assert "reload and retry" in conflicts[0].message

    loser = two_apps[results.index(conflicts[0])]
    barrier.reset()
    loser.save = CaseRecords.save.__get__(loser)  # type: ignore[method-assign]
    retried = write_note(loser, case_id, "writer retried")

    assert retried.version == 3
    assert wins[0].entity_id and retried.entity_id
    assert_nothing_lost(records, case_id, [(wins[0].entity_id, 2), (retried.entity_id, 3)])


def test_two_threads_saving_without_a_version_both_succeed_in_turn(
    records: CaseRecords, two_apps: tuple[CaseRecords, ...]
) -> None:
    case_id = an_open_case(records, WORKER)
    barrier = threading.Barrier(2)
    for app in two_apps:
        hold_first_save_at(app, barrier)

    with ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(outcome, partial(write_note, app, case_id, f"writer {i}"))
            for i, app in enumerate(two_apps)
        ]
        results = [f.result(timeout=60) for f in futures]

    assert all(isinstance(r, CommandResult) for r in results), results
    written = sorted((r.version, r.entity_id) for r in results if isinstance(r, CommandResult))
    assert [v for v, _ in written] == [2, 3]
    assert_nothing_lost(records, case_id, [(str(i), v) for v, i in written])


def test_many_threads_without_a_version_all_succeed_and_each_note_is_there_once(
    records: CaseRecords, two_apps: tuple[CaseRecords, ...]
) -> None:
    case_id = an_open_case(records, WORKER)
    apps = [*two_apps, records]  # threads of one process, and other processes' writers

    def writer(n: int) -> list[tuple[str, int]]:
        acknowledged = []
        for i in range(8):
            result = write_note(apps[n % len(apps)], case_id, f"t{n}-{i}")
            assert result.entity_id is not None
            acknowledged.append((result.entity_id, result.version))
        return acknowledged

    with ThreadPoolExecutor(6) as pool:
        acknowledged = [ack for batch in pool.map(writer, range(6), timeout=120) for ack in batch]

    assert len(acknowledged) == 48
    assert_nothing_lost(records, case_id, acknowledged)


def test_an_idempotent_command_retried_after_a_lost_race_records_once(
    records: CaseRecords, two_apps: tuple[CaseRecords, ...]
) -> None:
    case_id = an_open_case(records, WORKER)
    rival, app = two_apps
    save = app.save
    raced: list[CommandResult] = []

    def save_after_a_rival(*args: Any, **kwargs: Any) -> Any:
        if not raced:
            raced.append(write_note(rival, case_id, "rival"))
        return save(*args, **kwargs)

    app.save = save_after_a_rival  # type: ignore[method-assign]
    written = write_note(app, case_id, "mine", idempotency=("key-1", "fingerprint"))

    assert (raced[0].version, written.version) == (2, 3)
    stored = records.find_idempotent_result(WORKER, "key-1")
    assert stored is not None
    assert stored.result == {
        "id": str(case_id),
        "version": 3,
        "entity_id": written.entity_id,
    }
    assert written.entity_id
    assert_nothing_lost(records, case_id, [(str(raced[0].entity_id), 2), (written.entity_id, 3)])


def test_a_duplicate_idempotent_command_that_lost_the_race_is_not_recorded_again(
    records: CaseRecords, two_apps: tuple[CaseRecords, ...]
) -> None:
    case_id = an_open_case(records, WORKER)
    barrier = threading.Barrier(2)
    for app in two_apps:
        hold_first_save_at(app, barrier)
    same = {"idempotency": ("key-2", "fingerprint")}

    with ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(outcome, partial(write_note, app, case_id, "the same request", **same))
            for app in two_apps
        ]
        results = [f.result(timeout=60) for f in futures]

    wins = [r for r in results if isinstance(r, CommandResult)]
    # The loser reports the conflict; the API answers it with the winner's stored result.
    assert len(wins) == 1 and isinstance(
        next(r for r in results if r is not wins[0]), ConcurrencyConflictError
    )
    stored = records.find_idempotent_result(WORKER, "key-2")
    assert stored is not None and stored.result["version"] == wins[0].version == 2
    assert wins[0].entity_id
    assert_nothing_lost(records, case_id, [(wins[0].entity_id, 2)])


def test_many_threads_with_retries_lose_no_acknowledged_write(
    records: CaseRecords, two_apps: tuple[CaseRecords, ...]
) -> None:
    case_id = an_open_case(records, WORKER)
    apps = [*two_apps, records]

    def writer(n: int) -> list[tuple[str, int]]:
        acknowledged = []
        for i in range(8):
            result, _ = write_with_retry(apps[n % len(apps)], case_id, f"t{n}-{i}")
            assert result.entity_id is not None
            acknowledged.append((result.entity_id, result.version))
        return acknowledged

    with ThreadPoolExecutor(4) as pool:
        acknowledged = [ack for batch in pool.map(writer, range(4), timeout=120) for ack in batch]

    assert len(acknowledged) == 32
    assert_nothing_lost(records, case_id, acknowledged)


# ---- processes ----------------------------------------------------------------------


def process_write_once(url: str, case_id: str, barrier: Any, results: Any, n: int) -> None:
    app = open_records(Settings(database_url=url))
    try:
        hold_saves_at(app, barrier)
        result = outcome(lambda: write_note(app, UUID(case_id), f"process {n}", expected_version=1))
        if isinstance(result, CommandResult):
            results.put((n, "won", result.entity_id, result.version))
        else:
            results.put((n, result.code, None, None))
    finally:
        app.close()


def process_write_many(args: tuple[str, str, int, int]) -> tuple[list[tuple[str, int]], int]:
    url, case_id, n, writes = args
    app = open_records(Settings(database_url=url))
    acknowledged, conflicts = [], 0
    try:
        for i in range(writes):
            result, retried = write_with_retry(app, UUID(case_id), f"p{n}-{i}")
            assert result.entity_id is not None
            acknowledged.append((result.entity_id, result.version))
            conflicts += retried
    finally:
        app.close()
    return acknowledged, conflicts


def test_two_processes_saving_the_expected_version_one_wins_one_conflicts(
    records: CaseRecords, database_url: str
) -> None:
    case_id = an_open_case(records, WORKER)
    barrier, results = SPAWN.Barrier(2), SPAWN.Queue()
    processes = [
        SPAWN.Process(
            target=process_write_once, args=(database_url, str(case_id), barrier, results, n)
        )
        for n in range(2)
    ]
    for p in processes:
        p.start()
    outcomes = sorted(results.get(timeout=60) for _ in processes)
    for p in processes:
        p.join(timeout=30)

    assert [p.exitcode for p in processes] == [0, 0]
    assert sorted(o[1] for o in outcomes) == ["concurrency_conflict", "won"]
    (winner,) = [o for o in outcomes if o[1] == "won"]
    assert winner[3] == 2
    assert_nothing_lost(records, case_id, [(winner[2], 2)])


def test_four_processes_with_retries_lose_no_acknowledged_write(
    records: CaseRecords, database_url: str
) -> None:
    case_id = an_open_case(records, WORKER)
    jobs = [(database_url, str(case_id), n, 10) for n in range(4)]

    with SPAWN.Pool(4) as pool:
        batches = pool.map(process_write_many, jobs, chunksize=1)

    acknowledged = [ack for batch, _ in batches for ack in batch]
    assert len(acknowledged) == 40
    assert sum(conflicts for _, conflicts in batches) == 0  # the service retried them
    assert_nothing_lost(records, case_id, acknowledged)


def test_a_command_run_within_a_read_retries_on_the_fresh_case_not_the_reads_copy(
    settings: Settings, records: CaseRecords
) -> None:
    case_id = an_open_case(records, WORKER)
    other = open_records(settings)
    try:
        with one_read():
            records.get_case(WORKER, case_id)  # the read's copy, held for the request
            other.record_note(
                WORKER,
                case_id,
                text="From another process.",
                contact_kind="client",
                contact_mode="phone",
            )

            recorded = records.record_note(
                WORKER,
                case_id,
                text="Within the read.",
                contact_kind="client",
                contact_mode="phone",
            )
    finally:
        other.close()

    texts = [n["text"] for n in all_notes(records, WORKER, case_id)]
    assert sorted(texts) == ["From another process.", "Within the read."]
    assert recorded.version == records.get_case(WORKER, case_id)["version"]
