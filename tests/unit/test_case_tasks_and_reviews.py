"""Tasks, plan reviews, settling goals when a plan ends, measured goals, and what closing a
case settles: each rule and the guard that keeps it."""

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from caserecord.domain.case import Case
from caserecord.domain.errors import (
    DuplicateIdError,
    EntryNotCorrectableError,
    GoalsNotSettledError,
    InvalidTransitionError,
    InvalidValueError,
    NoteNotFoundError,
    OpenItemsOnClosingError,
    ReasonRequiredError,
    TaskNotFoundError,
)
from tests.unit.case_builders import (
    last_event,
    mark_in_error,
    note_entry,
    opened_case,
    with_goal,
    with_note,
    with_plan,
    with_referral,
    with_task,
)

pytestmark = pytest.mark.usefixtures("as_worker")
DAY = date(2027, 1, 10)


def review(case: Case, plan_id: str, outcome: str = "continue", **overrides: Any) -> None:
    values: dict[str, Any] = {
        "plan_id": plan_id,
        "outcome": outcome,
        "held_on": DAY,
        "attendees": ["worker-1", "client"],
        "client_participated": True,
        "client_agreed": True,
        "next_review_on": date(2027, 4, 10) if outcome != "discontinue" else None,
        "summary": "Going well",
    } | overrides
    case.review_plan(**values)


# ---- tasks --------------------------------------------------------------------------
def test_a_task_records_its_owner_due_date_and_what_it_concerns() -> None:
    case = opened_case()
    goal_id = with_goal(case, with_plan(case))
    case.collect_events()

    case.create_task("task-1", "Book the GP", "worker-2", DAY, "goal", goal_id)

    event = last_event(case)
    assert isinstance(event, Case.TaskCreated)
    assert (event.owner_id, event.due_on, event.concerns_id) == ("worker-2", DAY, goal_id)
    task = case.tasks["task-1"]
    assert (task.status, task.owner_id, task.version) == ("open", "worker-2", case.version)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("", "worker-1", DAY, "case", ""), InvalidValueError, "needs a title"),
        (("Call", " ", DAY, "case", ""), InvalidValueError, "has an owner"),
        (("Call", "worker-1", None, "case", ""), InvalidValueError, "has a due date"),
        (("Call", "worker-1", DAY, "invoice", ""), InvalidValueError, "concerns must be one of"),
        (("Call", "worker-1", DAY, "goal", "nope"), InvalidValueError, "concerns no goal nope"),
        (("Call", "worker-1", DAY, "case", "x"), InvalidValueError, "names no concerns_id"),
        (("Call", "worker-1", DAY, "note", "nope"), NoteNotFoundError, "no note nope"),
    ],
)
def test_a_task_without_what_it_needs_is_refused(
    args: tuple[Any, ...], error: type[Exception], message: str
) -> None:
    case = opened_case()

    with pytest.raises(error, match=re.escape(message)):
        case.create_task("task-1", *args)

    assert case.tasks == {}


def test_a_task_may_concern_a_note_the_record_holds() -> None:
    case = opened_case()
    note_id = with_note(case)

    case.create_task("t", "Follow up", "worker-1", DAY, "note", note_id, note_entry(case, note_id))

    assert case.tasks["t"].concerns == "note"


def test_task_ids_are_unique() -> None:
    case = opened_case()
    case.create_task("t", "Call", "worker-1", DAY, "case", "")

    with pytest.raises(DuplicateIdError):
        case.create_task("t", "Call again", "worker-1", DAY, "case", "")


def test_a_task_is_completed_reassigned_or_cancelled_only_while_open() -> None:
    case = opened_case()
    task_id = with_task(case)
    case.reassign_task(task_id, "worker-2")
    case.complete_task(task_id, "done")

    moves: list[Callable[[], None]] = [
        lambda: case.complete_task(task_id, ""),
        lambda: case.reassign_task(task_id, "worker-3"),
        lambda: case.cancel_task(task_id, "why"),
    ]
    for move in moves:
        with pytest.raises(InvalidTransitionError, match="no longer open"):
            move()

    task = case.tasks[task_id]
    assert (task.status, task.owner_id) == ("completed", "worker-2")


def test_reassigning_to_the_same_owner_or_cancelling_without_a_reason_is_refused() -> None:
    case = opened_case()
    task_id = with_task(case, owner="worker-1")

    with pytest.raises(InvalidTransitionError, match="already belongs"):
        case.reassign_task(task_id, "worker-1")
    with pytest.raises(ReasonRequiredError, match="cancel a task"):
        case.cancel_task(task_id, " ")
    with pytest.raises(TaskNotFoundError):
        case.complete_task("nope", "")


def test_a_task_marked_in_error_is_gone_and_its_latest_change_can_be_undone() -> None:
    case = opened_case()
    task_id = with_task(case)
    case.reassign_task(task_id, "worker-2")

    mark_in_error(case, case.version, "wrong person")

    assert case.tasks[task_id].owner_id == "worker-1"
    mark_in_error(case, case.tasks[task_id].version, "no such task")
    assert case.open_tasks() == []


# ---- plan reviews ---------------------------------------------------------------------
def test_a_review_that_continues_moves_the_next_review_without_a_new_version() -> None:
    case = opened_case()
    plan_id = with_plan(case)
    case.collect_events()

    review(case, plan_id, "continue", next_review_on=date(2027, 5, 1))

    event = last_event(case)
    assert isinstance(event, Case.PlanReviewed)
    assert (event.attendees, event.client_agreed) == (["worker-1", "client"], True)
    plan = case.current_plan
    assert plan is not None
    assert len(plan.versions) == 1
    assert plan.next_review_on == date(2027, 5, 1)
    assert plan.revision_due is None


def test_a_review_that_modifies_leaves_a_revision_due_until_one_is_recorded() -> None:
    case = opened_case()
    plan_id = with_plan(case)

    review(case, plan_id, "modify", next_review_on=None)
    plan = case.current_plan
    assert plan is not None and plan.revision_due is not None
    case.revise_plan(plan_id, "Changed", [], date(2027, 6, 1), "review decided")

    assert plan.revision_due is None
    assert plan.next_review_on == date(2027, 6, 1)


def test_a_review_that_discontinues_ends_the_plan_once_its_goals_are_settled() -> None:
    case = opened_case()
    plan_id = with_plan(case)
    goal_id = with_goal(case, plan_id)

    with pytest.raises(GoalsNotSettledError) as refused:
        review(case, plan_id, "discontinue")
    assert refused.value.details == {"goal_ids": [goal_id]}
    case.settle_goal(goal_id, "no-longer-relevant", "")
    review(case, plan_id, "discontinue")

    assert case.current_plan is None
    assert case.plans[0].status == "discontinued"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"outcome": "postpone"}, "outcome must be one of"),
        ({"next_review_on": None}, "needs its next review date"),
        ({"next_review_on": DAY}, "must come after the review"),
        ({"client_participated": False}, "did not take part cannot have agreed"),
        ({"attendees": "everyone"}, "attendees must be a list"),
        ({"held_on": None}, "the day the meeting was held"),
    ],
)
def test_a_review_without_what_it_needs_is_refused(overrides: dict[str, Any], message: str) -> None:
    case = opened_case()
    plan_id = with_plan(case)

    with pytest.raises(InvalidValueError, match=re.escape(message)):
        review(case, plan_id, **overrides)


def test_a_draft_plan_is_not_reviewed_and_a_discontinued_one_has_no_next_review() -> None:
    case = opened_case()
    plan_id = with_plan(case, activate=False)

    with pytest.raises(InvalidTransitionError, match="active or suspended"):
        review(case, plan_id)
    case.activate_plan(plan_id)
    with pytest.raises(InvalidValueError, match="no next review"):
        review(case, plan_id, "discontinue", next_review_on=date(2027, 5, 1))


def test_a_continued_review_marked_in_error_gives_back_the_versions_review_date() -> None:
    case = opened_case()
    plan_id = with_plan(case)
    review(case, plan_id, next_review_on=date(2027, 5, 1))

    mark_in_error(case, case.version, "wrong plan")

    assert case.plans[0].next_review_on == date(2027, 1, 1)


# ---- settling goals when a plan ends ------------------------------------------------
@pytest.mark.parametrize("end", ["complete", "revoke"])
def test_a_plan_ends_only_once_its_open_goals_are_settled(end: str) -> None:
    case = opened_case()
    plan_id = with_plan(case)
    active = with_goal(case, plan_id)
    proposed = with_goal(case, plan_id, lifecycle=None)
    done = with_goal(case, plan_id)
    case.change_goal_lifecycle(done, "completed")

    def finish() -> None:
        if end == "complete":
            case.complete_plan(plan_id)
        else:
            case.revoke_plan(plan_id, "replaced")

    with pytest.raises(GoalsNotSettledError) as refused:
        finish()
    assert refused.value.details["goal_ids"] == [active, proposed]
    case.settle_goal(active, "achieved", "90 days sober")
    case.settle_goal(proposed, "not-achieved", "")
    finish()

    statuses = {g: case.goals[g].status for g in (active, proposed, done)}
    assert statuses == {active: "achieved", proposed: "not-achieved", done: "completed"}


def test_a_goal_carried_over_joins_the_next_plan_as_it_was() -> None:
    case = opened_case()
    old = with_plan(case)
    goal_id = with_goal(case, old)
    case.settle_goal(goal_id, "carried-over", "")
    case.complete_plan(old)

    new = with_plan(case)

    goal = case.goals[goal_id]
    assert (goal.plan_id, goal.status) == (new, "active")
    assert goal.lifecycle[-1].details == {"carried_from": old}
    case.record_goal_progress(goal_id, "improving", "", "")


def test_a_settled_goal_moves_no_further_and_an_unknown_settlement_is_refused() -> None:
    case = opened_case()
    plan_id = with_plan(case)
    goal_id = with_goal(case, plan_id)

    with pytest.raises(InvalidValueError, match="settlement must be one of"):
        case.settle_goal(goal_id, "abandoned", "")
    case.settle_goal(goal_id, "achieved", "")
    with pytest.raises(InvalidTransitionError):
        case.settle_goal(goal_id, "achieved", "")
    with pytest.raises(InvalidTransitionError):
        case.change_goal_lifecycle(goal_id, "active")


def test_no_correction_reopens_a_goal_on_an_ended_plan_or_unmakes_a_plan_goals_joined() -> None:
    case = opened_case()
    old = with_plan(case)
    goal_id = with_goal(case, old)
    case.settle_goal(goal_id, "carried-over", "")
    settled_at = case.version
    case.complete_plan(old)

    with pytest.raises(EntryNotCorrectableError, match="plan has ended"):
        mark_in_error(case, settled_at, "wrong")
    with_plan(case)
    with pytest.raises(EntryNotCorrectableError, match="carried over into this plan"):
        mark_in_error(case, case.plans[-1].versions[0].version, "wrong")


# ---- measured goals -------------------------------------------------------------------
def test_a_goal_records_priority_need_and_a_measured_target() -> None:
    case = opened_case()
    plan_id = with_plan(case)
    measure = {"kind": "instrument", "instrument": "PHQ-9", "baseline": 18, "target_score": 9,
               "direction": "at_most"}  # fmt: skip

    case.add_goal(
        "g", plan_id, "Less low mood", "psychiatric", "", None, "high", "low mood", measure
    )
    case.revise_goal("g", "Less low mood", "psychiatric", "", None, "medium", "low mood", measure)

    revisions = case.goals["g"].revisions
    assert [(r.priority, r.need) for r in revisions] == [
        ("high", "low mood"),
        ("medium", "low mood"),
    ]
    assert revisions[-1].measure == measure


@pytest.mark.parametrize(
    ("priority", "measure", "message"),
    [
        ("urgent", None, "priority must be one of"),
        ("", {"kind": "vibe"}, "measure.kind must be one of"),
        ("", {"kind": "value", "target": 5}, "names its unit"),
        ("", {"kind": "value", "unit": "kg"}, "has a target"),
        ("", {"kind": "value", "unit": "kg", "target": float("nan")}, "finite number"),
        ("", {"kind": "instrument", "instrument": "PHQ-9", "target_score": 9}, "direction"),
        ("", {"kind": "instrument", "direction": "at_most", "target_score": 9}, "instrument"),
    ],
)
def test_a_goal_with_a_bad_priority_or_measure_is_refused(
    priority: str, measure: dict[str, Any] | None, message: str
) -> None:
    case = opened_case()
    plan_id = with_plan(case)

    with pytest.raises(InvalidValueError, match=re.escape(message)):
        case.add_goal("g", plan_id, "Walk", "medical", "", None, priority, "", measure)


def test_a_goal_event_recorded_before_measures_reads_with_empty_ones() -> None:
    state: dict[str, Any] = {"goal_id": "g", "description": "Walk"}

    Case.GoalAdded.upcast_v1_v2(state)

    assert (state["priority"], state["need"], state["measure"]) == ("", "", None)


# ---- closing --------------------------------------------------------------------------
def test_a_case_closes_only_once_its_referrals_and_tasks_are_settled() -> None:
    case = opened_case()
    pending = with_referral(case)
    accepted = with_referral(case, accepted=True)
    task_id = with_task(case)

    with pytest.raises(OpenItemsOnClosingError) as refused:
        case.close("moved away", "")
    assert refused.value.details == {"referral_ids": [pending, accepted], "task_ids": [task_id]}
    case.withdraw_referral(pending, "moved away")
    case.leave_referral_open(accepted, "the clinic will still see her")
    case.cancel_task(task_id, "moved away")
    case.close("moved away", "")

    assert case.status == "closed"
    assert case.referrals[accepted].status == "accepted"


def test_only_an_open_referral_is_left_open_and_with_a_reason() -> None:
    case = opened_case()
    referral_id = with_referral(case)

    with pytest.raises(ReasonRequiredError):
        case.leave_referral_open(referral_id, "")
    case.withdraw_referral(referral_id, "not needed")
    with pytest.raises(InvalidTransitionError, match="not open"):
        case.leave_referral_open(referral_id, "why")
