"""The case lifecycle through the service, on SQLite and PostgreSQL: waitlisted, on hold,
closed with a discharge reason; the caseload, "as of" and the timeline show each."""

from datetime import UTC, date, datetime, timedelta

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.errors import CaseNotInServiceError
from caserecord.domain.recording import Actor
from caserecord.history import case_as_of, case_timeline
from caserecord.projections import ProjectionService
from tests.factories import an_open_case


def test_a_waitlisted_case_starts_service_and_is_on_the_caseload_throughout(
    records: CaseRecords, worker: Actor, projections: ProjectionService
) -> None:
    case_id = an_open_case(records, worker, waitlisted=True)
    projections.catch_up()
    waiting = projections.queries.caseload("agency-a", status="waitlisted")

    records.start_service(worker, case_id)
    projections.catch_up()

    assert [r["case_id"] for r in waiting] == [case_id]
    assert records.get_case(worker, case_id)["status"] == "open"
    assert projections.queries.caseload("agency-a", status="waitlisted") == []
    [row] = projections.queries.caseload("agency-a")
    assert row["status"] == "open"


def test_a_case_on_hold_shows_why_and_until_when_and_refuses_plan_activation(
    records: CaseRecords, worker: Actor, projections: ProjectionService
) -> None:
    case_id = an_open_case(records, worker)
    plan_id = records.draft_plan(worker, case_id, title="Plan", activities=[]).entity_id
    assert plan_id is not None

    records.put_case_on_hold(worker, case_id, until=date(2027, 2, 1), reason="inpatient stay")
    with pytest.raises(CaseNotInServiceError, match="on_hold: resume it to activate a plan"):
        records.change_plan_status(worker, case_id, plan_id=plan_id, action="activate")
    projections.catch_up()

    case = records.get_case(worker, case_id)
    assert case["status"] == "on_hold"
    assert case["status_details"] == {"reason": "inpatient stay", "until": date(2027, 2, 1)}
    [row] = projections.queries.caseload("agency-a", status="on_hold")
    assert row["case_id"] == case_id
    records.resume_case(worker, case_id)
    assert records.get_case(worker, case_id)["status"] == "open"


def test_a_closure_with_a_discharge_reason_leaves_the_caseload_and_reopening_keeps_history(
    records: CaseRecords, worker: Actor, supervisor: Actor, projections: ProjectionService
) -> None:
    case_id = an_open_case(records, worker)
    records.close_case(
        supervisor,
        case_id,
        outcome="Housed, sober 6 months",
        discharge_reason="goals_met",
        aftercare_plan="Monthly call for three months",
        follow_up_on=date(2027, 3, 1),
        reason="goals met",
    )
    projections.catch_up()
    closed = records.get_case(worker, case_id)
    on_caseload = projections.queries.caseload("agency-a")

    records.reopen_case(supervisor, case_id, reason="relapse")

    assert closed["status_details"]["discharge_reason"] == "goals_met"
    assert closed["status_details"]["follow_up_on"] == date(2027, 3, 1)
    assert on_caseload == []
    history = records.get_case(worker, case_id)["status_history"]
    assert [h["value"] for h in history] == ["open", "closed", "open"]
    assert history[1]["details"]["aftercare_plan"] == "Monthly call for three months"


def test_as_of_and_the_timeline_show_the_lifecycle_events_at_their_effective_times(
    records: CaseRecords, worker: Actor
) -> None:
    now = datetime.now(UTC)
    case_id = an_open_case(records, worker, waitlisted=True, effective_at=now - timedelta(days=30))
    records.start_service(worker, case_id, effective_at=now - timedelta(days=20))
    records.put_case_on_hold(worker, case_id, reason="away", effective_at=now - timedelta(days=10))
    records.resume_case(worker, case_id)

    during = case_as_of(records, worker, case_id, effective_at=now - timedelta(days=15))
    timeline = case_timeline(records, worker, case_id)

    assert during["status"] == "open"
    assert (
        case_as_of(records, worker, case_id, effective_at=now - timedelta(days=25))["status"]
        == "waitlisted"
    )
    summaries = [e["summary"] for e in timeline if e["stream_kind"] == "case"]
    assert summaries[1:] == [
        "Service started (off the waitlist)",
        "Case put on hold",
        "Case resumed",
    ]
    assert summaries[0].endswith("waitlisted")
    assert [e["late"] for e in timeline if e["stream_kind"] == "case"][:3] == [True] * 3
