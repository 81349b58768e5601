"""Group commit, on both stores: saves of one process that wait for the store's write lock
at the same moment are committed in one transaction, each with its own rows beside its
events; a group the store refuses is sent again save by save, so only the save at fault
fails."""

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

import pytest

from caserecord.api.feed import agency_events
from caserecord.application import CaseRecords, CommandResult
from caserecord.audit import verify_all
from caserecord.config import Settings
from caserecord.domain.errors import ConcurrencyConflictError
from caserecord.domain.recording import Actor
from caserecord.persistence.postgres import ChainedPostgresApplicationRecorder
from caserecord.persistence.sqlite import ChainedSQLiteApplicationRecorder
from caserecord.provision import init_store
from caserecord.store import open_records
from tests.factories import all_notes, an_open_case
from tests.integration.stored_rows import StoredRows

WRITERS = 6
Grouping = ChainedPostgresApplicationRecorder | ChainedSQLiteApplicationRecorder


@pytest.fixture
def grouped(database_url: str) -> Iterator[CaseRecords]:
    init_store(Settings(database_url=database_url))
    app = open_records(Settings(database_url=database_url))
    yield app
    app.close()


def recorder_of(app: CaseRecords) -> Grouping:
    recorder = app.recorder
    assert isinstance(recorder, Grouping)
    return recorder


def hold_first_flight(
    app: CaseRecords, queued: int, meanwhile: Callable[[], object] = lambda: None
) -> None:
    """Keep the first flight from leaving until ``queued`` saves wait behind it, then run
    ``meanwhile`` (another process's write, say) and let it go."""
    group = recorder_of(app).group_commit
    flight = group.flight
    held: list[bool] = []

    def held_flight(events: Sequence[Any], records: list[Any]) -> Sequence[int]:
        if not held:
            held.append(True)
            deadline = time.monotonic() + 30
            while len(group._queue) < queued and time.monotonic() < deadline:
                time.sleep(0.005)
            meanwhile()
        return flight(events, records)

    group.flight = held_flight


def write_note(app: CaseRecords, actor: Actor, case_id: UUID, **opts: Any) -> CommandResult:
    return app.record_note(
        actor, case_id, text=f"Note on {case_id}.", contact_kind="client", contact_mode="phone",
        **opts,
    )  # fmt: skip


def outcome(call: Callable[[], CommandResult]) -> CommandResult | Exception:
    try:
        return call()
    except ConcurrencyConflictError as e:
        return e


def transactions_of(database_url: str, cases: list[UUID], version: int) -> int:
    """How many transactions wrote these cases' events at ``version`` (PostgreSQL's
    ``xmin``; SQLite keeps no such mark, so there the group counters stand for it: 1)."""
    if database_url.startswith("sqlite"):
        return 1
    rows = StoredRows(database_url)
    found = rows._run(
        "SELECT COUNT(DISTINCT xmin::text) FROM stored_events "
        "WHERE originator_version = ? AND originator_id = ANY(?::uuid[])",
        version,
        [str(c) for c in cases],
    )
    return int(found[0][0])


def test_saves_waiting_together_are_committed_in_one_transaction_each_with_its_rows(
    grouped: CaseRecords, worker: Actor, database_url: str
) -> None:
    first = an_open_case(grouped, worker)
    cases = [an_open_case(grouped, worker) for _ in range(WRITERS)]
    group = recorder_of(grouped).group_commit
    before = (group.groups, group.saves)
    hold_first_flight(grouped, queued=WRITERS)

    with ThreadPoolExecutor(WRITERS + 1) as pool:
        lead = pool.submit(write_note, grouped, worker, first)
        while not group._flying and not lead.done():
            time.sleep(0.001)  # the first save has taken off and is held
        results = list(
            pool.map(
                lambda n: write_note(grouped, worker, cases[n], idempotency=(f"k{n}", "fp")),
                range(WRITERS),
            )
        )
        lead.result()

    assert (group.groups - before[0], group.saves - before[1]) == (2, WRITERS + 1)
    assert transactions_of(database_url, cases, 2) == 1
    assert sorted(r.version for r in results) == [2] * WRITERS
    assert len({r.position for r in results}) == WRITERS
    for n, (case_id, result) in enumerate(zip(cases, results, strict=True)):
        assert [note["text"] for note in all_notes(grouped, worker, case_id)] == [
            f"Note on {case_id}."
        ]
        kept = grouped.find_idempotent_result(worker, f"k{n}")
        assert kept is not None and kept.result["version"] == result.version
        assert grouped.verify_stream(case_id).ok
    assert grouped.verify_stream(first).ok


def test_a_save_that_lost_its_race_fails_alone_and_the_rest_of_its_group_is_recorded(
    grouped: CaseRecords, worker: Actor, database_url: str
) -> None:
    first = an_open_case(grouped, worker)
    cases = [an_open_case(grouped, worker) for _ in range(WRITERS)]
    contested = cases[0]
    rival = open_records(Settings(database_url=database_url))
    try:
        # Another worker writes the contested case after this one loaded it at version 1.
        def rival_note() -> object:
            return rival.record_note(
                worker, contested, text="The rival's note.", contact_kind="client",
                contact_mode="phone",
            )  # fmt: skip

        hold_first_flight(grouped, queued=WRITERS, meanwhile=rival_note)
        group = recorder_of(grouped).group_commit
        with ThreadPoolExecutor(WRITERS + 1) as pool:
            lead = pool.submit(write_note, grouped, worker, first)
            while not group._flying and not lead.done():
                time.sleep(0.001)
            found = list(
                pool.map(
                    lambda case_id: outcome(
                        lambda: write_note(grouped, worker, case_id, expected_version=1)
                    ),
                    cases,
                )
            )
            lead.result()
    finally:
        rival.close()

    assert isinstance(found[0], ConcurrencyConflictError)  # If-Match 1, and it is at 2
    assert [getattr(r, "version", None) for r in found[1:]] == [2] * (WRITERS - 1)
    assert [n["text"] for n in all_notes(grouped, worker, contested)] == ["The rival's note."]
    for case_id in [first, *cases]:
        assert grouped.verify_stream(case_id).ok


def test_a_lone_save_does_not_wait_for_a_group(grouped: CaseRecords, worker: Actor) -> None:
    case_id = an_open_case(grouped, worker)
    group = recorder_of(grouped).group_commit
    before = (group.groups, group.saves)

    write_note(grouped, worker, case_id)

    assert (group.groups - before[0], group.saves - before[1]) == (1, 1)
    assert not group._queue


def test_commands_on_one_case_queue_behind_the_save_before_and_are_committed_together(
    grouped: CaseRecords, worker: Actor, database_url: str
) -> None:
    case_id = an_open_case(grouped, worker)
    write_note(grouped, worker, case_id)  # in the cache
    group = recorder_of(grouped).group_commit
    before = (group.groups, group.saves)
    hold_first_flight(grouped, queued=WRITERS - 1)

    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(lambda _: write_note(grouped, worker, case_id), range(WRITERS)))

    assert (group.groups - before[0], group.saves - before[1]) == (2, WRITERS)
    assert sorted(r.version for r in results) == list(range(3, 3 + WRITERS))
    if not database_url.startswith("sqlite"):
        found = StoredRows(database_url)._run(
            "SELECT COUNT(DISTINCT xmin::text) FROM stored_events "
            "WHERE originator_id = ?::uuid AND originator_version > 3",
            str(case_id),
        )
        assert int(found[0][0]) == 1
    assert len(all_notes(grouped, worker, case_id)) == WRITERS + 1
    assert grouped.verify_stream(case_id).ok


def test_commands_made_from_a_save_that_lost_its_race_run_again_and_leave_no_gap(
    grouped: CaseRecords, worker: Actor, database_url: str
) -> None:
    case_id = an_open_case(grouped, worker)
    write_note(grouped, worker, case_id)  # in the cache, at version 2
    rival = open_records(Settings(database_url=database_url))
    try:
        # Another worker takes version 3 while this one's first save of it is held.
        hold_first_flight(
            grouped, queued=WRITERS - 1, meanwhile=lambda: write_note(rival, worker, case_id)
        )
        with ThreadPoolExecutor(WRITERS) as pool:
            results = list(pool.map(lambda _: write_note(grouped, worker, case_id), range(WRITERS)))
    finally:
        rival.close()

    assert sorted(r.version for r in results) == list(range(4, 4 + WRITERS))
    assert len(all_notes(grouped, worker, case_id)) == WRITERS + 2
    check = grouped.verify_stream(case_id)
    assert (check.ok, check.versions_checked) == (True, 3 + WRITERS)


def test_a_groups_saves_of_two_agencies_are_numbered_in_each_agencys_feed_without_a_gap(
    grouped: CaseRecords, worker: Actor, outsider: Actor, database_url: str
) -> None:
    first = an_open_case(grouped, worker)
    writers = [worker, outsider] * (WRITERS // 2)
    cases = [an_open_case(grouped, actor) for actor in writers]
    group = recorder_of(grouped).group_commit
    before = group.groups
    hold_first_flight(grouped, queued=WRITERS)

    with ThreadPoolExecutor(WRITERS + 1) as pool:
        lead = pool.submit(write_note, grouped, worker, first)
        while not group._flying and not lead.done():
            time.sleep(0.001)
        list(pool.map(lambda n: write_note(grouped, writers[n], cases[n]), range(WRITERS)))
        lead.result()

    assert group.groups - before == 2
    assert transactions_of(database_url, cases, 2) == 1
    rows = StoredRows(database_url)
    for agency in ("agency-a", "agency-b"):
        numbers = [
            int(n)
            for (n,) in rows._run(
                "SELECT seq FROM event_agency WHERE agency_id=? ORDER BY notification_id", agency
            )
        ]
        assert numbers == list(range(1, len(numbers) + 1))
        *_, integrity = agency_events(grouped, agency, after=0, limit=1000)
        assert integrity.intact
    assert verify_all(grouped).ok
