"""CaseRecords on both stores: tasks, plan reviews, settling goals, measured goals and the
closing that settles open items; "as of" and the timeline show them."""

from datetime import UTC, date, datetime, timedelta

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.errors import GoalsNotSettledError, InvalidValueError
from caserecord.domain.recording import Actor
from caserecord.history import case_as_of, case_timeline
from tests.factories import an_active_plan, an_open_case

DAY = date(2027, 2, 1)


def test_tasks_are_created_read_and_listed_newest_first(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    made = [
        records.create_task(worker, case_id, title=f"Call {n}", owner_id="worker-2", due_on=DAY)
        for n in range(3)
    ]
    first = made[0].entity_id
    assert first is not None
    records.reassign_task(worker, case_id, task_id=first, owner_id="worker-3")

    page = records.case_tasks(worker, case_id, limit=2)
    rest = records.case_tasks(worker, case_id, limit=2, before=page["next_before"])
    task = records.get_task(worker, case_id, first)

    assert [t["title"] for t in page["items"] + rest["items"]] == ["Call 2", "Call 1", "Call 0"]
    assert (page["task_count"], rest["next_before"]) == (3, None)
    assert (task["owner_id"], [c["value"] for c in task["owner_history"]]) == (
        "worker-3",
        ["worker-2", "worker-3"],
    )
    assert records.get_case(worker, case_id)["task_count"] == 3


def test_a_review_that_modifies_records_its_revision_in_the_same_save(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    plan_id = an_active_plan(records, worker, case_id)

    result = records.review_plan(
        worker, case_id, plan_id=plan_id, outcome="modify", held_on=DAY,
        attendees=["worker-1", "client", "nurse"], client_participated=True,
        client_agreed=False, summary="Add a medication review",
        revision={"title": "Recovery and medication plan", "next_review_on": DAY + timedelta(90)},
    )  # fmt: skip

    plan = records.get_plan(worker, case_id, plan_id)
    assert plan["version_number"] == 2
    assert plan["rationale"] == "Add a medication review"
    assert plan["reviews"] == [
        {"version": result.version - 1, "outcome": "modify", "held_on": DAY,
         "next_review_on": None, "in_error": False, "labels": [], "restricted": False},
    ]  # fmt: skip
    assert (plan["next_review_on"], plan["revision_due"]) == (DAY + timedelta(90), False)
    with pytest.raises(InvalidValueError, match="only a review that modifies"):
        records.review_plan(
            worker, case_id, plan_id=plan_id, outcome="continue", held_on=DAY,
            next_review_on=DAY + timedelta(30), revision={"title": "No"},
        )  # fmt: skip


def test_completing_a_plan_settles_its_goals_as_told_and_carries_one_over(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    plan_id = an_active_plan(records, worker, case_id)
    kept, dropped = (
        records.add_goal(
            worker, case_id, plan_id=plan_id, description=d, need_domain="therapeutic",
            priority="high", need="alcohol use",
            measure={"kind": "value", "baseline": 0, "target": 90, "unit": "days"},
        ).entity_id
        for d in ("Stay sober", "Join a choir")
    )  # fmt: skip
    assert kept is not None and dropped is not None

    with pytest.raises(GoalsNotSettledError):
        records.change_plan_status(worker, case_id, plan_id=plan_id, action="complete")
    records.change_plan_status(
        worker, case_id, plan_id=plan_id, action="complete",
        goals={kept: "carried-over", dropped: "no-longer-relevant"},
    )  # fmt: skip
    new_plan = an_active_plan(records, worker, case_id)

    goal = records.get_goal(worker, case_id, kept)
    assert (goal["plan_id"], goal["lifecycle"], goal["priority"]) == (new_plan, "proposed", "high")
    assert goal["measure"] == {"kind": "value", "baseline": 0, "target": 90, "unit": "days"}
    assert records.get_goal(worker, case_id, dropped)["lifecycle"] == "no-longer-relevant"


def test_as_of_and_the_timeline_show_tasks_reviews_and_settlements(
    records: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    case_id = an_open_case(records, worker)
    plan_id = an_active_plan(records, worker, case_id)
    task_id = records.create_task(
        worker, case_id, title="Book the GP", owner_id="worker-1", due_on=DAY
    ).entity_id
    assert task_id is not None
    records.review_plan(
        worker, case_id, plan_id=plan_id, outcome="continue", held_on=DAY,
        next_review_on=DAY + timedelta(60),
    )  # fmt: skip
    before_close = datetime.now(UTC)
    records.close_case(supervisor, case_id, outcome="moved", reason="moved away")

    then = case_as_of(records, worker, case_id, recorded_at=before_close)
    now = records.get_case(worker, case_id)
    summaries = [e["summary"] for e in case_timeline(records, worker, case_id)]

    assert [(t["task_id"], t["status"]) for t in then["tasks"]] == [(task_id, "open")]
    assert [(t["task_id"], t["status"]) for t in now["tasks"]] == [(task_id, "cancelled")]
    assert then["current_plan"]["next_review_on"] == DAY + timedelta(60)
    assert "Task for worker-1 due 2027-02-01 (case)" in summaries
    assert "Plan reviewed (continue), next review 2027-04-02" in summaries
    assert f"Task {task_id[:8]} cancelled" in summaries
