"""CaseRecords on both stores: benefits applications from start to renewal, as of a moment,
on the timeline, and as worklist items."""

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.errors import (
    BenefitApplicationNotFoundError,
    EntryNotFoundError,
    InvalidTransitionError,
)
from caserecord.domain.recording import Actor
from caserecord.history import case_as_of, case_diff, case_timeline
from caserecord.projections import ProjectionService
from caserecord.projections.worklist import Window, contact_standards
from tests.factories import an_open_case

TODAY = datetime.now(UTC).date()
SUBMITTED = date(2027, 1, 4)


def snap_application(records: CaseRecords, worker: Actor, case_id: UUID) -> str:
    application_id = records.start_benefit_application(
        worker, case_id, program="snap", agency_name="County DSS", submitted_on=SUBMITTED
    ).entity_id
    assert application_id is not None
    return application_id


def test_an_application_is_submitted_documented_approved_and_renewed(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    app_id = snap_application(records, worker, case_id)
    request_id = records.request_benefit_documents(
        worker, case_id, application_id=app_id, documents=["pay stubs"], due_on=date(2027, 1, 20)
    ).entity_id
    assert request_id is not None
    records.provide_benefit_documents(
        worker, case_id, application_id=app_id, request_id=request_id, provided_on=date(2027, 1, 15)
    )
    records.decide_benefit_application(
        worker, case_id, application_id=app_id, decision="approved", amount=291.0,
        frequency="monthly", starts_on=date(2027, 2, 1), renews_on=date(2027, 7, 1),
    )  # fmt: skip
    records.renew_benefit(worker, case_id, application_id=app_id, renews_on=date(2028, 1, 1))

    application = records.get_benefit_application(worker, case_id, app_id)
    page = records.case_benefit_applications(worker, case_id, limit=10)
    case = records.get_case(worker, case_id)

    assert application["status"] == "approved"
    assert application["expected_decision_on"] == date(2027, 2, 3)
    assert application["decision"]["amount"] == 291.0
    assert application["renews_on"] == date(2028, 1, 1)
    assert application["documents"][0]["provided_on"] == date(2027, 1, 15)
    assert (page["application_count"], page["items"][0]["application_id"]) == (1, app_id)
    assert application.pop("case_version") == case["version"]
    assert case["benefit_applications"] == [application]


def test_a_denial_names_its_reason_and_the_appeal_follows_it(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    app_id = snap_application(records, worker, case_id)

    records.decide_benefit_application(
        worker, case_id, application_id=app_id, decision="denied", reason="income over limit"
    )
    records.file_benefit_appeal(worker, case_id, application_id=app_id, hearing_on=TODAY)
    records.decide_benefit_appeal(worker, case_id, application_id=app_id, outcome="upheld")

    application = records.get_benefit_application(worker, case_id, app_id)
    assert application["status"] == "denied"
    assert application["decision"]["reason"] == "income over limit"
    with pytest.raises(InvalidTransitionError):
        records.renew_benefit(worker, case_id, application_id=app_id)
    with pytest.raises(BenefitApplicationNotFoundError):
        records.get_benefit_application(worker, case_id, "nope")


def test_as_of_the_diff_and_the_timeline_show_applications(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    app_id = snap_application(records, worker, case_id)
    before = datetime.now(UTC)
    records.withdraw_benefit_application(
        worker, case_id, application_id=app_id, reason="moved away"
    )

    then = case_as_of(records, worker, case_id, recorded_at=before)
    diff = case_diff(records, worker, case_id, t1=before, t2=datetime.now(UTC))
    summaries = [e["summary"] for e in case_timeline(records, worker, case_id)]

    assert [a["status"] for a in then["benefit_applications"]] == ["submitted"]
    changed = {c["path"]: c["after"] for c in diff["changes"]}
    assert changed[f"benefit_applications[{app_id}].status"] == "withdrawn"
    assert f"Benefits application {app_id[:8]} started: snap to County DSS" in summaries
    assert f"Benefits application {app_id[:8]} withdrawn" in summaries


def test_each_step_awaited_is_a_worklist_item_of_the_case_manager(
    records: CaseRecords, projections: ProjectionService, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    pending = records.start_benefit_application(
        worker, case_id, program="medicaid", agency_name="State office",
        submitted_on=TODAY - timedelta(days=60),
    ).entity_id  # fmt: skip
    assert pending is not None
    records.request_benefit_documents(
        worker, case_id, application_id=pending, documents=["ID"], due_on=TODAY
    )
    records.schedule_benefit_appointment(
        worker, case_id, application_id=pending, kind="interview", on=TODAY + timedelta(days=2)
    )
    approved = snap_application(records, worker, case_id)
    records.decide_benefit_application(
        worker, case_id, application_id=approved, decision="approved", amount=100.0,
        frequency="monthly", starts_on=TODAY, renews_on=TODAY + timedelta(days=30),
    )  # fmt: skip
    projections.catch_up()

    rows = projections.queries.worklist(
        "agency-a",
        owner_id="worker-1",
        standards=contact_standards(""),
        window=Window(kinds=("benefit_decision", "benefit_documents", "benefit_appointment",
                             "benefit_renewal")),
    )  # fmt: skip

    assert [(r["kind"], r["overdue"]) for r in rows] == [
        ("benefit_decision", True),
        ("benefit_documents", False),
        ("benefit_appointment", False),
        ("benefit_renewal", False),
    ]
    assert rows[0]["link"] == f"/v1/cases/{case_id}/benefit-applications/{pending}"
    assert rows[0]["title"] == "Medicaid: decision expected"


def test_the_agency_sees_its_applications_by_status_and_program_and_a_rebuild_agrees(
    records: CaseRecords, projections: ProjectionService, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    snap = snap_application(records, worker, case_id)
    wic = records.start_benefit_application(
        worker, case_id, program="wic", agency_name="WIC clinic"
    ).entity_id
    records.withdraw_benefit_application(worker, case_id, application_id=snap, reason="moved")
    projections.catch_up()

    everything = projections.queries.benefit_applications("agency-a")
    started = projections.queries.benefit_applications("agency-a", status="started")
    snaps = projections.queries.benefit_applications("agency-a", program="snap")
    page = projections.queries.benefit_applications("agency-a", limit=1)
    rest = projections.queries.benefit_applications(
        "agency-a", after=(page[0]["started_at"], page[0]["application_id"])
    )

    assert [(r["application_id"], r["status"]) for r in everything] == [
        (snap, "withdrawn"),
        (wic, "started"),
    ]
    assert [r["application_id"] for r in started] == [wic]
    assert [(r["program"], r["decision_overdue"]) for r in snaps] == [("snap", False)]
    assert [r["application_id"] for r in page + rest] == [snap, wic]
    assert projections.queries.benefit_applications("agency-b") == []
    followed = projections.digests(["benefits"])
    projections.rebuild(["benefits"])
    assert projections.digests(["benefits"]) == followed


def test_a_step_marked_in_error_shows_as_such_and_the_views_follow(
    records: CaseRecords, projections: ProjectionService, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    app_id = snap_application(records, worker, case_id)
    requested = records.request_benefit_documents(
        worker, case_id, application_id=app_id, documents=["pay stubs"], due_on=date(2027, 1, 20)
    )
    approved = records.decide_benefit_application(
        worker, case_id, application_id=app_id, decision="approved", amount=291.0,
        frequency="monthly", starts_on=date(2027, 2, 1), renews_on=date(2027, 7, 1),
    )  # fmt: skip
    other = records.start_benefit_application(
        worker, case_id, program="wic", agency_name="WIC clinic"
    ).entity_id
    assert other is not None

    for version, reason in ((approved.version, "another household's"), (requested.version, "dup")):
        records.mark_benefit_step_in_error(
            worker, case_id, application_id=app_id, target_version=version, reason=reason
        )
    with pytest.raises(EntryNotFoundError):
        records.mark_benefit_step_in_error(
            worker, case_id, application_id=other, target_version=requested.version, reason="x"
        )
    projections.catch_up()
    application = records.get_benefit_application(worker, case_id, app_id)
    timeline = {
        e["version"]: e
        for e in case_timeline(records, worker, case_id)
        if e["stream_kind"] == "case"
    }
    (row,) = projections.queries.benefit_applications("agency-a", program="snap")
    kinds = [
        i["kind"]
        for i in projections.queries.worklist(
            "agency-a", owner_id=worker.id, standards=contact_standards("")
        )
        if i["subject_id"] == app_id
    ]

    assert (application["status"], application["decision"], application["renews_on"]) == (
        "submitted",
        None,
        None,
    )
    assert [(c["value"], c["in_error"]) for c in application["status_history"]][-1] == (
        "approved",
        True,
    )
    assert application["documents"][0]["in_error"] is True
    assert timeline[approved.version]["in_error"] is True
    assert timeline[requested.version]["in_error"] is True
    assert row["status"] == "submitted" and row["renews_on"] is None
    assert kinds == ["benefit_decision"]
