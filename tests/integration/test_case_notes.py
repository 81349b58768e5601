"""Notes read in pages from the log: the case holds only their index."""

from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.errors import CaseNotFoundError, InvalidValueError
from caserecord.domain.recording import Actor
from caserecord.presenters import RECENT
from tests.factories import an_active_plan, an_open_case


def notes(app: CaseRecords, actor: Actor, case_id: UUID, count: int) -> list[str]:
    ids = []
    for i in range(count):
        noted = app.record_note(
            actor, case_id, text=f"note {i}", contact_kind="client", contact_mode="phone"
        )
        ids.append(str(noted.entity_id))
    return ids


def test_notes_come_newest_first_in_pages_that_chain_by_version(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    ids = notes(sqlite_records, worker, case_id, 5)

    first = sqlite_records.case_notes(worker, case_id, limit=2)
    second = sqlite_records.case_notes(worker, case_id, limit=2, before=first["next_before"])
    last = sqlite_records.case_notes(worker, case_id, limit=2, before=second["next_before"])

    assert [n["note_id"] for n in first["items"]] == [ids[4], ids[3]]
    assert [n["note_id"] for n in second["items"]] == [ids[2], ids[1]]
    assert [n["note_id"] for n in last["items"]] == [ids[0]]
    assert (first["next_before"], second["next_before"], last["next_before"]) == (5, 3, None)
    assert first["note_count"] == 5


def test_a_page_leaves_out_notes_and_addenda_marked_in_error(
    sqlite_records: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    kept, wrong = notes(sqlite_records, worker, case_id, 2)
    sqlite_records.append_addendum(worker, case_id, note_id=kept, text="stands")
    slip = sqlite_records.append_addendum(worker, case_id, note_id=kept, text="slip")
    sqlite_records.mark_entry_in_error(supervisor, case_id, target_version=3, reason="wrong")
    sqlite_records.mark_entry_in_error(
        supervisor, case_id, target_version=slip.version, reason="typo"
    )

    page = sqlite_records.case_notes(worker, case_id, limit=10)

    assert [n["note_id"] for n in page["items"]] == [kept]
    assert [a["text"] for a in page["items"][0]["addenda"]] == ["stands"]
    assert page["note_count"] == 1
    assert wrong not in {n["note_id"] for n in sqlite_records.get_case(worker, case_id)["notes"]}


def test_a_case_shows_its_latest_notes_in_recording_order_and_counts_them_all(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    ids = notes(sqlite_records, worker, case_id, RECENT + 3)

    case = sqlite_records.get_case(worker, case_id)

    assert [n["note_id"] for n in case["notes"]] == ids[3:]
    assert case["note_count"] == RECENT + 3


def test_notes_of_an_earlier_version_are_those_standing_then(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    ids = notes(sqlite_records, worker, case_id, 3)

    page = sqlite_records.case_notes(worker, case_id, limit=10, version=3)

    assert [n["note_id"] for n in page["items"]] == [ids[1], ids[0]]


def test_a_page_needs_a_positive_limit_and_the_callers_own_case(
    sqlite_records: CaseRecords, worker: Actor, outsider: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)

    with pytest.raises(InvalidValueError, match="limit must be at least 1"):
        sqlite_records.case_notes(worker, case_id, limit=0)
    with pytest.raises(CaseNotFoundError):
        sqlite_records.case_notes(outsider, case_id, limit=10)


def test_a_plan_shows_its_latest_status_changes_and_counts_them_all(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    plan_id = an_active_plan(sqlite_records, worker, case_id)
    for _ in range(RECENT):
        for action in ("suspend", "resume"):
            sqlite_records.change_plan_status(
                worker, case_id, plan_id=plan_id, action=action, reason="in hospital"
            )

    (plan,) = sqlite_records.get_case(worker, case_id)["plans"]
    every = sqlite_records.case_state(sqlite_records.repository.get(case_id), every=True)

    assert plan["status_change_count"] == 2 + 2 * RECENT  # drafted, activated, then pairs
    assert len(plan["status_history"]) == RECENT
    assert [c["value"] for c in plan["status_history"][-2:]] == ["suspended", "active"]
    assert len(every["plans"][0]["status_history"]) == 2 + 2 * RECENT
