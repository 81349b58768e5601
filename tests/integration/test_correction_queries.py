"""Entries marked in error, as the service's queries show them."""

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.errors import EntryNotCorrectableError
from caserecord.domain.recording import Actor
from tests.factories import an_active_plan, an_open_case


def test_the_case_query_leaves_out_marked_entries_and_lists_the_markings(
    sqlite_records: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    app = sqlite_records
    case_id = an_open_case(app, worker)
    app.assess_needs(worker, case_id, assessments=[{"domain": "medical", "level": "low"}])
    kept = app.record_note(worker, case_id, text="ok", contact_kind="client", contact_mode="phone")
    wrong = app.record_note(
        worker, case_id, text="wrong", contact_kind="client", contact_mode="phone"
    )

    marked = app.mark_entry_in_error(
        supervisor, case_id, target_version=wrong.version, reason="wrong client"
    )

    case = app.get_case(worker, case_id)
    assert [n["note_id"] for n in case["notes"]] == [kept.entity_id]
    assert case["entries_in_error"] == {wrong.version: marked.version}
    assert len(case["assessments"]) == 1
    event = app.case_events(worker, case_id)[-1]
    assert (event["type"], event["data"], event["reason"]) == (
        "EntryMarkedInError",
        {"target_version": wrong.version},
        "wrong client",
    )
    assert event["actor"]["id"] == "super-1"


def test_the_case_query_shows_the_status_an_item_returns_to(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    app = sqlite_records
    case_id = an_open_case(app, worker)
    plan_id = an_active_plan(app, worker, case_id)
    referral = app.make_referral(
        worker, case_id, resource_kind="housing", organisation="O", service_name="S"
    )
    assert referral.entity_id is not None
    app.accept_referral(worker, case_id, referral_id=referral.entity_id)
    withdrawn = app.withdraw_referral(
        worker, case_id, referral_id=referral.entity_id, reason="by mistake"
    )
    revised = app.revise_plan(
        worker, case_id, plan_id=plan_id, title="Wrong", activities=[], reason="typo"
    )

    app.mark_entry_in_error(worker, case_id, target_version=withdrawn.version, reason="mistake")
    app.mark_entry_in_error(worker, case_id, target_version=revised.version, reason="mistake")

    case = app.get_case(worker, case_id)
    (shown,) = case["referrals"]
    assert shown["status"] == "accepted"
    assert [h["in_error"] for h in shown["status_history"]] == [False, False, True]
    assert (case["current_plan"]["version_number"], case["current_plan"]["title"]) == (
        1,
        "Recovery plan",
    )


def test_a_refused_marking_through_the_service_stores_nothing(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)

    with pytest.raises(EntryNotCorrectableError):
        sqlite_records.mark_entry_in_error(worker, case_id, target_version=1, reason="oops")

    assert sqlite_records.get_case(worker, case_id)["version"] == 1
