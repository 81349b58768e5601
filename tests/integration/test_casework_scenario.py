"""A case manager's first morning, end to end on both stores: the directory, a transfer, the
care team, the worklist, a plan review, a task, a no-show and a discharge."""

from datetime import UTC, datetime, timedelta

from caserecord.application import CaseRecords
from caserecord.domain.recording import Actor
from caserecord.projections import ProjectionService
from caserecord.projections.worklist import contact_standards
from tests.factories import a_client

TODAY = datetime.now(UTC).date()
STANDARDS = contact_standards("")


def due(projections: ProjectionService, owner: str) -> list[tuple[str, bool]]:
    rows = projections.queries.worklist("agency-a", owner_id=owner, standards=STANDARDS)
    return [(r["kind"], r["overdue"]) for r in rows]


def test_a_case_goes_from_intake_through_a_transfer_and_a_review_to_a_discharge_leaving_nothing_due(
    records: CaseRecords, projections: ProjectionService, worker: Actor, supervisor: Actor
) -> None:
    admin = Actor("admin-1", "admin", "agency-a")
    for staff_id, role in (("worker-1", "case_manager"), ("worker-2", "case_manager")):
        records.add_staff_member(admin, staff_id=staff_id, name=staff_id.title(), role=role)
    records.add_staff_member(admin, staff_id="super-1", name="Sol", role="supervisor")
    records.add_staff_member(admin, staff_id="rn-sam", name="Sam", role="nurse")
    receiver = Actor("worker-2", "caseworker", "agency-a")
    case_id = records.open_case(
        worker, client_id=a_client(records, worker), specialty="mental_health",
        referral_source="GP", presenting_needs=["low mood"], interview_summary="Intake.",
        case_manager_id="worker-1",
    ).id  # fmt: skip

    transfer = records.request_transfer(
        worker, case_id, to_staff_id="worker-2", handoff_summary="Moving to the east team"
    ).entity_id
    assert transfer is not None
    records.accept_transfer(receiver, case_id, transfer_id=transfer)
    records.add_care_team_member(receiver, case_id, role="nurse", staff_id="rn-sam")
    plan_id = records.draft_plan(
        receiver, case_id, title="Plan", activities=[], next_review_on=TODAY - timedelta(days=2)
    ).entity_id
    assert plan_id is not None
    records.change_plan_status(receiver, case_id, plan_id=plan_id, action="activate")
    goal_id = records.add_goal(
        receiver, case_id, plan_id=plan_id, description="Walk daily", need_domain="medical",
        due_on=TODAY + timedelta(days=1),
    ).entity_id  # fmt: skip
    assert goal_id is not None
    records.change_goal_lifecycle(receiver, case_id, goal_id=goal_id, lifecycle="active")
    task_id = records.create_task(
        receiver, case_id, title="Call the GP", owner_id="worker-2", due_on=TODAY
    ).entity_id
    assert task_id is not None
    projections.catch_up()
    before = due(projections, "worker-2")

    records.review_plan(
        receiver, case_id, plan_id=plan_id, outcome="continue", attendees=["worker-2", "client"],
        client_participated=True, client_agreed=True, next_review_on=TODAY + timedelta(days=90),
    )  # fmt: skip
    records.complete_task(receiver, case_id, task_id=task_id, outcome="Appointment booked")
    records.record_note(
        receiver, case_id, text="Did not come to the session.", contact_mode="in_person",
        participants={"client": True}, contact_status="no_show",
    )  # fmt: skip
    records.settle_goal(receiver, case_id, goal_id=goal_id, settlement="achieved")
    records.close_case(
        supervisor, case_id, outcome="Stable", discharge_reason="goals_met",
        aftercare_plan="Monthly call", reason="goals met",
    )  # fmt: skip
    projections.catch_up()

    case = records.get_case(supervisor, case_id)
    assert case["case_manager_id"] == "worker-2"
    assert [m["staff_id"] for m in case["care_team"]] == ["rn-sam"]
    assert ("plan_review", True) in before and ("goal_due", False) in before
    assert ("task", False) in before
    assert case["status"] == "closed"
    assert [r for r in due(projections, "worker-2") if r[1]] == []
    assert [r["case_id"] for r in projections.queries.caseload("agency-a")] == []
