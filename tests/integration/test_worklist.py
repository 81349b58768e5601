"""The worklist view on both stores: what it derives from a record, what it compares with
today when asked, the contact standard, and that the live runner and a rebuild agree."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.demo import DEMO_AGENCY, load_demo
from caserecord.domain.errors import OpenItemsOnClosingError
from caserecord.domain.recording import Actor
from caserecord.projections import ProjectionService
from caserecord.projections.worklist import DEFAULT_CONTACT_DAYS, Window, contact_standards
from tests.factories import an_open_case

TODAY = datetime.now(UTC).date()
STANDARDS = contact_standards("")


def busy_case(records: CaseRecords, worker: Actor) -> dict[str, str | UUID]:
    """A case of ``worker`` with a review three days overdue, a goal due tomorrow, a
    referral whose answer was due yesterday and a task of worker-2 due today."""
    case_id = an_open_case(records, worker)
    plan_id = records.draft_plan(
        worker, case_id, title="Plan", activities=[], next_review_on=TODAY - timedelta(days=3)
    ).entity_id
    assert plan_id is not None
    records.change_plan_status(worker, case_id, plan_id=plan_id, action="activate")
    goal_id = records.add_goal(
        worker, case_id, plan_id=plan_id, description="Keep the flat", need_domain="psycho_social",
        due_on=TODAY + timedelta(days=1),
    ).entity_id  # fmt: skip
    assert goal_id is not None
    records.change_goal_lifecycle(worker, case_id, goal_id=goal_id, lifecycle="active")
    referral_id = records.make_referral(
        worker, case_id, resource_kind="housing", organisation="Harbour", service_name="Rooms",
        respond_by=TODAY - timedelta(days=1),
    ).entity_id  # fmt: skip
    task_id = records.create_task(
        worker, case_id, title="Call the landlord", owner_id="worker-2", due_on=TODAY
    ).entity_id
    assert referral_id is not None and task_id is not None
    return {"case": case_id, "plan": plan_id, "goal": goal_id, "referral": referral_id,
            "task": task_id}  # fmt: skip


def kinds(projections: ProjectionService, owner: str, **window: object) -> list[tuple[str, bool]]:
    rows = projections.queries.worklist(
        "agency-a",
        owner_id=owner,
        standards=STANDARDS,
        window=Window(**window),  # type: ignore[arg-type]
    )
    return [(r["kind"], r["overdue"]) for r in rows]


def test_the_worklist_derives_what_is_due_from_the_record_by_due_date(
    records: CaseRecords, projections: ProjectionService, worker: Actor
) -> None:
    ids = busy_case(records, worker)

    projections.catch_up()

    assert kinds(projections, "worker-1") == [
        ("plan_review", True),
        ("referral_response", True),
        ("goal_due", False),
        ("client_contact", False),
    ]
    assert kinds(projections, "worker-2") == [("task", False)]
    rows = projections.queries.worklist("agency-a", owner_id="worker-1", standards=STANDARDS)
    links = {r["kind"]: r["link"] for r in rows}
    assert links["goal_due"] == f"/v1/cases/{ids['case']}/goals/{ids['goal']}"
    assert links["referral_response"] == f"/v1/cases/{ids['case']}/referrals/{ids['referral']}"
    assert rows[-1]["due_on"] == TODAY + timedelta(days=DEFAULT_CONTACT_DAYS["social_work"])
    assert projections.queries.worklist("agency-b", owner_id="worker-1", standards=STANDARDS) == []


def test_filters_by_kind_and_due_window_and_pages_by_due_date(
    records: CaseRecords, projections: ProjectionService, worker: Actor
) -> None:
    busy_case(records, worker)
    projections.catch_up()

    overdue = kinds(projections, "worker-1", due_before=TODAY - timedelta(days=1))
    soon = kinds(projections, "worker-1", due_after=TODAY, due_before=TODAY + timedelta(days=2))
    goals = kinds(projections, "worker-1", kinds=("goal_due", "task"))
    first = projections.queries.worklist(
        "agency-a", owner_id="worker-1", standards=STANDARDS, limit=2
    )
    rest = projections.queries.worklist(
        "agency-a", owner_id="worker-1", standards=STANDARDS,
        after=(first[-1]["due_on"].isoformat(), first[-1]["item_id"]),
    )  # fmt: skip

    assert overdue == [("plan_review", True), ("referral_response", True)]
    assert soon == [("goal_due", False)]
    assert goals == [("goal_due", False)]
    assert [r["kind"] for r in first + rest] == [k for k, _ in kinds(projections, "worker-1")]


def test_the_items_of_one_case_are_read_by_its_id_whoever_they_fall_to(
    records: CaseRecords, projections: ProjectionService, worker: Actor
) -> None:
    ids = busy_case(records, worker)
    other = busy_case(records, worker)
    projections.catch_up()

    rows = projections.queries.worklist(
        "agency-a", owner_id=None, standards=STANDARDS, case_id=UUID(str(ids["case"]))
    )
    elsewhere = projections.queries.worklist(
        "agency-b", owner_id=None, standards=STANDARDS, case_id=UUID(str(ids["case"]))
    )

    assert {r["case_id"] for r in rows} == {ids["case"]} != {other["case"]}
    assert sorted(r["kind"] for r in rows) == sorted(
        ["plan_review", "referral_response", "goal_due", "client_contact", "task"]
    )
    assert elsewhere == []


def test_the_contact_standard_of_the_specialty_comes_from_the_setting(
    records: CaseRecords, projections: ProjectionService, worker: Actor
) -> None:
    case_id = an_open_case(records, worker, effective_at=datetime.now(UTC) - timedelta(days=10))
    records.record_note(
        worker, case_id, text="Called the GP", contact_kind="provider", contact_mode="phone"
    )  # a collateral call is no client contact
    projections.catch_up()
    strict = contact_standards("social_work=3")

    [row] = projections.queries.worklist(
        "agency-a", owner_id="worker-1", standards=strict, window=Window(("client_contact",))
    )

    assert row["due_on"] == TODAY - timedelta(days=7)
    assert row["overdue"] is True
    with pytest.raises(ValueError, match="'astrology' is not a specialty"):
        contact_standards("astrology=3")
    with pytest.raises(ValueError, match="whole number"):
        contact_standards("child=0")


def test_done_work_leaves_the_worklist_and_a_review_moves_the_due_date(
    records: CaseRecords, projections: ProjectionService, worker: Actor
) -> None:
    ids = busy_case(records, worker)
    case_id = UUID(str(ids["case"]))
    records.complete_task(worker, case_id, task_id=str(ids["task"]))
    records.accept_referral(worker, case_id, referral_id=str(ids["referral"]))
    records.review_plan(
        worker, case_id, plan_id=str(ids["plan"]), outcome="modify", client_participated=True,
    )  # fmt: skip
    records.change_goal_lifecycle(worker, case_id, goal_id=str(ids["goal"]), lifecycle="completed")

    projections.catch_up()

    assert kinds(projections, "worker-2") == []
    assert kinds(projections, "worker-1", kinds=("plan_review", "plan_revision")) == [
        ("plan_review", True),
        ("plan_revision", False),
    ]


def test_closing_settles_open_items_and_leaves_nothing_overdue(
    records: CaseRecords, projections: ProjectionService, worker: Actor, supervisor: Actor
) -> None:
    ids = busy_case(records, worker)
    case_id = UUID(str(ids["case"]))
    with pytest.raises(OpenItemsOnClosingError):
        records.close_case(supervisor, case_id, outcome="moved", reason="moved away")

    records.close_case(
        supervisor, case_id, outcome="moved", reason="moved away",
        referrals={str(ids["referral"]): {"settlement": "leave_open", "reason": "waiting list"}},
    )  # fmt: skip
    projections.catch_up()

    task = records.get_task(worker, case_id, str(ids["task"]))
    assert (task["status"], task["status_history"][-1]["details"]) == (
        "cancelled",
        {"reason": "moved away"},
    )
    left = projections.queries.worklist("agency-a", owner_id="worker-1", standards=STANDARDS)
    assert {r["kind"] for r in left} == {"left_open"}
    assert {r["link"].rsplit("/", 2)[1] for r in left} == {"plans", "goals", "referrals"}
    assert not any(r["overdue"] for r in left)
    assert {r["due_on"] for r in left} == {TODAY}
    summary = projections.queries.worklist_summary("agency-a", standards=STANDARDS)
    assert {s["staff_id"]: (s["open_cases"], s["overdue"]) for s in summary} == {"worker-1": (0, 0)}


def test_the_live_runner_and_a_rebuild_give_the_same_worklist(
    records: CaseRecords, projections: ProjectionService, worker: Actor, supervisor: Actor
) -> None:
    projections.start(standby=False)
    ids = busy_case(records, worker)
    case_id = UUID(str(ids["case"]))
    records.reassign_task(worker, case_id, task_id=str(ids["task"]), owner_id="worker-3")
    records.assign_case_manager(supervisor, case_id, case_manager_id="worker-4", reason="leave")
    records.mark_entry_in_error(
        supervisor, case_id, target_version=records.get_case(worker, case_id)["version"] - 1,
        reason="wrong person",
    )  # fmt: skip
    head = int(records.recorder.max_notification_id() or 0)
    projections.wait(head, timeout=20)
    live = projections.digests(["worklist"])
    projections.stop()

    projections.rebuild(["worklist"])

    assert projections.digests(["worklist"]) == live
    assert kinds(projections, "worker-2") == [("task", False)]
    assert len(kinds(projections, "worker-4")) == 4


def test_the_demo_agency_gives_the_demo_caseworker_due_and_overdue_work(
    records: CaseRecords, projections: ProjectionService
) -> None:
    load_demo(records)
    projections.catch_up()

    rows = projections.queries.worklist(
        DEMO_AGENCY, owner_id="demo-caseworker", standards=STANDARDS
    )

    assert {
        ("task", True),
        ("task", False),
        ("goal_due", False),
        ("referral_response", True),
        ("plan_review", True),
    } <= {(r["kind"], r["overdue"]) for r in rows}


def test_a_safety_flag_is_due_for_the_case_manager_at_once_until_it_is_reviewed(
    records: CaseRecords, projections: ProjectionService, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    flagged = records.administer_instrument(
        worker, case_id, instrument="phq-9", respondent="client",
        responses={str(i): 1 for i in range(1, 10)},
    )  # fmt: skip
    projections.catch_up()
    rows = projections.queries.worklist("agency-a", owner_id="worker-1", standards=STANDARDS)
    flags = [r for r in rows if r["kind"] == "safety_flag"]

    records.review_safety_flag(worker, case_id, flag_version=flagged.version, note="Called.")
    projections.catch_up()

    assert [(r["due_on"], r["link"]) for r in flags] == [
        (TODAY, f"/v1/cases/{case_id}/scored-assessments/{flagged.version}")
    ]
    assert "safety_flag" not in [k for k, _ in kinds(projections, "worker-1")]


def test_a_no_show_does_not_count_as_contact_with_the_client(
    records: CaseRecords, projections: ProjectionService, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    projections.catch_up()
    before = projections.queries.worklist("agency-a", owner_id="worker-1", standards=STANDARDS)

    records.record_note(
        worker, case_id, text="Did not come.", contact_mode="in_person",
        participants={"client": True}, contact_status="no_show",
    )  # fmt: skip
    projections.catch_up()
    after = projections.queries.worklist("agency-a", owner_id="worker-1", standards=STANDARDS)

    contact = [
        [r["due_on"] for r in rows if r["kind"] == "client_contact"] for rows in (before, after)
    ]
    assert contact[0] == contact[1] and contact[0]
