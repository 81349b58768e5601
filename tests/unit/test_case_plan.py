"""Treatment and recovery plan: versions, status lifecycle, and goals on the current plan."""

import re
from datetime import date
from typing import Any
from uuid import uuid4

import pytest

from caserecord.domain.case import Case
from caserecord.domain.errors import (
    DuplicateIdError,
    GoalNotFoundError,
    GoalNotOnCurrentPlanError,
    InvalidTransitionError,
    InvalidValueError,
    PlanAlreadyCurrentError,
    PlanNotFoundError,
    ReasonRequiredError,
)
from tests.unit.case_builders import (
    last_event,
    opened_case,
    with_goal,
    with_plan,
)

ROUTINES = [
    {"activity": "Counselling", "cadence": "weekly", "time": "10:00"},
    {"activity": "Medication review", "cadence": "monthly"},
]


pytestmark = pytest.mark.usefixtures("as_worker")


def test_a_drafted_plan_records_title_routines_and_review_date() -> None:
    case = opened_case()
    case.collect_events()

    case.draft_plan("plan-1", "Stabilisation", ROUTINES, date(2027, 1, 1))

    event = last_event(case)
    assert isinstance(event, Case.PlanDrafted)
    assert (event.plan_id, event.title) == ("plan-1", "Stabilisation")
    assert event.activities == ROUTINES
    assert event.next_review_on == date(2027, 1, 1)
    plan = case.current_plan
    assert plan is not None
    assert (plan.plan_id, plan.status, plan.current_version.number) == ("plan-1", "draft", 1)


@pytest.mark.parametrize(
    ("activities", "message"),
    [
        ([{"activity": "", "cadence": "weekly"}], "activities[0].activity is required"),
        ([{"activity": "Walk", "cadence": "hourly"}], "activities[0].cadence must be one of"),
        ([{"activity": "Walk"}], "activities[0].cadence must be one of"),
    ],
)
def test_a_plan_with_a_bad_routine_is_refused(
    activities: list[dict[str, Any]], message: str
) -> None:
    case = opened_case()

    with pytest.raises(InvalidValueError, match=re.escape(message)):
        case.draft_plan("plan-1", "Plan", activities, None)

    assert case.plans == []


def test_a_plan_needs_a_title() -> None:
    with pytest.raises(InvalidValueError, match="needs a title"):
        opened_case().draft_plan("plan-1", " ", [], None)


def test_only_one_plan_is_current_at_a_time() -> None:
    case = opened_case()
    with_plan(case)

    with pytest.raises(PlanAlreadyCurrentError) as refused:
        case.draft_plan("plan-2", "Another", [], None)

    assert refused.value.code == "plan_already_current"


def test_a_new_plan_can_be_drafted_once_the_current_one_is_completed() -> None:
    case = opened_case()
    first = with_plan(case)
    case.complete_plan(first)

    case.draft_plan("plan-2", "Maintenance", [], None)

    assert case.current_plan is not None and case.current_plan.plan_id == "plan-2"


def test_a_plan_id_cannot_be_reused() -> None:
    case = opened_case()
    first = with_plan(case)
    case.revoke_plan(first, "wrong approach")

    with pytest.raises(DuplicateIdError):
        case.draft_plan(first, "Again", [], None)


def test_a_revision_adds_a_numbered_version_and_keeps_the_previous_one() -> None:
    case = opened_case()
    plan_id = with_plan(case)
    case.collect_events()

    case.revise_plan(plan_id, "Stabilisation v2", ROUTINES, None, "sleep improved")

    event = last_event(case)
    assert isinstance(event, Case.PlanRevised)
    assert (event.plan_id, event.title, event.rationale) == (
        plan_id,
        "Stabilisation v2",
        "sleep improved",
    )
    plan = case.current_plan
    assert plan is not None
    assert [(v.number, v.title) for v in plan.versions] == [
        (1, "Stabilisation plan"),
        (2, "Stabilisation v2"),
    ]
    assert plan.current_version.rationale == "sleep improved"
    assert plan.status == "active"


def test_a_revision_without_a_rationale_is_refused() -> None:
    case = opened_case()
    plan_id = with_plan(case)

    with pytest.raises(ReasonRequiredError, match="rationale"):
        case.revise_plan(plan_id, "v2", [], None, "")


def test_a_plan_goes_through_its_whole_lifecycle_with_an_event_for_each_move() -> None:
    case = opened_case()
    plan_id = with_plan(case, activate=False)
    case.collect_events()

    case.activate_plan(plan_id)
    case.suspend_plan(plan_id, "client in hospital")
    case.resume_plan(plan_id)
    case.complete_plan(plan_id)

    events = case.collect_events()
    assert [type(e) for e in events] == [
        Case.PlanActivated,
        Case.PlanSuspended,
        Case.PlanResumed,
        Case.PlanCompleted,
    ]
    assert all(vars(e)["plan_id"] == plan_id for e in events)
    assert vars(events[1])["reason"] == "client in hospital"
    assert [c.value for c in case.plans[0].statuses] == [
        "draft",
        "active",
        "suspended",
        "active",
        "completed",
    ]
    assert case.current_plan is None


def test_a_plan_is_revoked_with_a_reason() -> None:
    case = opened_case()
    plan_id = with_plan(case)
    case.collect_events()

    case.revoke_plan(plan_id, "client declined treatment")

    event = last_event(case)
    assert isinstance(event, Case.PlanRevoked)
    assert event.reason == "client declined treatment"
    assert case.plans[0].status == "revoked"


@pytest.mark.parametrize(
    ("action", "reason"),
    [("suspend", "suspend a plan"), ("revoke", "revoke a plan")],
)
def test_suspending_or_revoking_a_plan_needs_a_reason(action: str, reason: str) -> None:
    case = opened_case()
    plan_id = with_plan(case)

    with pytest.raises(ReasonRequiredError, match=reason):
        getattr(case, f"{action}_plan")(plan_id, "")

    assert case.plans[0].status == "active"


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ([], "resume"),  # draft
        ([], "complete"),
        ([], "suspend"),
        (["activate"], "activate"),
        (["activate"], "resume"),
        (["activate", "suspend"], "suspend"),
        (["activate", "suspend"], "complete"),
        (["activate", "suspend"], "activate"),
    ],
)
def test_a_plan_status_moves_only_along_its_lifecycle(path: list[str], refused: str) -> None:
    case = opened_case()
    plan_id = with_plan(case, activate=False)
    moves = {
        "activate": lambda: case.activate_plan(plan_id),
        "suspend": lambda: case.suspend_plan(plan_id, "because"),
        "resume": lambda: case.resume_plan(plan_id),
        "complete": lambda: case.complete_plan(plan_id),
    }
    for step in path:
        moves[step]()
    before = case.plans[0].status

    with pytest.raises(InvalidTransitionError) as error:
        moves[refused]()

    assert error.value.code == "invalid_transition"
    assert case.plans[0].status == before


@pytest.mark.parametrize("final", ["complete", "revoke"])
def test_a_completed_or_revoked_plan_no_longer_accepts_changes(final: str) -> None:
    case = opened_case()
    plan_id = with_plan(case)
    if final == "complete":
        case.complete_plan(plan_id)
    else:
        case.revoke_plan(plan_id, "stopped")

    with pytest.raises(PlanNotFoundError) as refused:
        case.revise_plan(plan_id, "v2", [], None, "late change")
    with pytest.raises(PlanNotFoundError):
        case.activate_plan(plan_id)

    assert refused.value.code == "plan_not_found"


def test_an_unknown_plan_is_a_domain_error() -> None:
    case = opened_case()
    with_plan(case)

    with pytest.raises(PlanNotFoundError, match="nope"):
        case.suspend_plan("nope", "reason")


# ---- goals -------------------------------------------------------------------------


def test_a_goal_is_added_to_the_current_plan_as_proposed() -> None:
    case = opened_case()
    plan_id = with_plan(case)
    case.collect_events()

    case.add_goal(
        "goal-1", plan_id, "Return to work", "psycho_social", "20h/week", date(2027, 9, 1)
    )

    event = last_event(case)
    assert isinstance(event, Case.GoalAdded)
    assert (event.goal_id, event.plan_id, event.description) == (
        "goal-1",
        plan_id,
        "Return to work",
    )
    assert (event.need_domain, event.target_measure, event.due_on) == (
        "psycho_social",
        "20h/week",
        date(2027, 9, 1),
    )
    assert case.goals["goal-1"].status == "proposed"


def test_a_goal_can_be_added_to_a_draft_plan() -> None:
    case = opened_case()
    plan_id = with_plan(case, activate=False)

    goal_id = with_goal(case, plan_id, lifecycle=None)

    assert case.goals[goal_id].plan_id == plan_id


def test_a_goal_for_a_plan_that_is_not_current_is_refused() -> None:
    case = opened_case()
    old = with_plan(case)
    case.complete_plan(old)
    with_plan(case)

    with pytest.raises(PlanNotFoundError):
        case.add_goal("goal-1", old, "Too late", "medical", "", None)


def test_a_goal_of_a_completed_or_revoked_plan_cannot_change() -> None:
    case = opened_case()
    old = with_plan(case)
    goal_id = with_goal(case, old)
    case.settle_goal(goal_id, "no-longer-relevant", "")
    case.revoke_plan(old, "replaced")
    with_plan(case)

    with pytest.raises(GoalNotOnCurrentPlanError) as refused:
        case.record_goal_progress(goal_id, "improving", "", "")
    with pytest.raises(GoalNotOnCurrentPlanError):
        case.change_goal_lifecycle(goal_id, "completed")
    with pytest.raises(GoalNotOnCurrentPlanError):
        case.revise_goal(goal_id, "Changed", "medical", "", None)

    assert refused.value.code == "goal_not_on_current_plan"


def test_a_goal_is_refused_once_its_plan_is_completed_even_without_a_new_plan() -> None:
    case = opened_case()
    plan_id = with_plan(case)
    goal_id = with_goal(case, plan_id)
    case.settle_goal(goal_id, "achieved", "")
    case.complete_plan(plan_id)

    with pytest.raises(GoalNotOnCurrentPlanError):
        case.change_goal_lifecycle(goal_id, "completed")


def test_an_unknown_goal_is_a_domain_error() -> None:
    case = opened_case()
    with_plan(case)

    with pytest.raises(GoalNotFoundError) as refused:
        case.change_goal_lifecycle(str(uuid4()), "active")

    assert refused.value.code == "goal_not_found"


def test_a_goal_id_cannot_be_reused() -> None:
    case = opened_case()
    plan_id = with_plan(case)
    goal_id = with_goal(case, plan_id)

    with pytest.raises(DuplicateIdError):
        case.add_goal(goal_id, plan_id, "Again", "medical", "", None)


@pytest.mark.parametrize(
    ("description", "domain", "message"),
    [("", "medical", "needs a description"), ("Walk", "spiritual", "need_domain must be one of")],
)
def test_a_goal_needs_a_description_and_a_known_need_domain(
    description: str, domain: str, message: str
) -> None:
    case = opened_case()
    plan_id = with_plan(case)

    with pytest.raises(InvalidValueError, match=message):
        case.add_goal("goal-1", plan_id, description, domain, "", None)


def test_a_goal_revision_keeps_earlier_wording() -> None:
    case = opened_case()
    goal_id = with_goal(case, with_plan(case))
    case.collect_events()

    case.revise_goal(goal_id, "Sleep six hours", "psychiatric", "6h on 5 nights", date(2027, 2, 1))

    event = last_event(case)
    assert isinstance(event, Case.GoalRevised)
    assert (event.goal_id, event.description, event.target_measure) == (
        goal_id,
        "Sleep six hours",
        "6h on 5 nights",
    )
    assert [r.description for r in case.goals[goal_id].revisions] == [
        "Sleep through the night",
        "Sleep six hours",
    ]


def test_a_goal_lifecycle_change_is_recorded() -> None:
    case = opened_case()
    goal_id = with_goal(case, with_plan(case), lifecycle=None)
    case.collect_events()

    case.change_goal_lifecycle(goal_id, "active")

    event = last_event(case)
    assert isinstance(event, Case.GoalLifecycleChanged)
    assert (event.goal_id, event.lifecycle) == (goal_id, "active")


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ([], "on-hold"),
        ([], "completed"),
        (["active", "completed"], "active"),
        (["active", "completed"], "cancelled"),
        (["cancelled"], "active"),
        (["active", "on-hold"], "completed"),
        (["active"], "proposed"),
    ],
)
def test_a_goal_lifecycle_moves_only_along_its_lifecycle(path: list[str], refused: str) -> None:
    case = opened_case()
    goal_id = with_goal(case, with_plan(case), lifecycle=None)
    for step in path:
        case.change_goal_lifecycle(goal_id, step)

    with pytest.raises(InvalidTransitionError):
        case.change_goal_lifecycle(goal_id, refused)

    assert case.goals[goal_id].status == (path[-1] if path else "proposed")


def test_an_unknown_lifecycle_value_is_refused_naming_the_allowed_ones() -> None:
    case = opened_case()
    goal_id = with_goal(case, with_plan(case))

    with pytest.raises(InvalidValueError, match="lifecycle must be one of: proposed, active"):
        case.change_goal_lifecycle(goal_id, "paused")


@pytest.mark.parametrize(
    "achievement",
    ["in-progress", "improving", "worsening", "no-change", "achieved", "not-achieved"],
)
def test_progress_is_recorded_on_an_active_goal(achievement: str) -> None:
    case = opened_case()
    goal_id = with_goal(case, with_plan(case))
    case.collect_events()

    case.record_goal_progress(goal_id, achievement, "5h", "better week")

    event = last_event(case)
    assert isinstance(event, Case.GoalProgressRecorded)
    assert (event.goal_id, event.achievement, event.measured_value, event.note) == (
        goal_id,
        achievement,
        "5h",
        "better week",
    )
    assert case.goals[goal_id].progress == 1


def test_progress_is_recorded_on_an_on_hold_goal() -> None:
    case = opened_case()
    goal_id = with_goal(case, with_plan(case))
    case.change_goal_lifecycle(goal_id, "on-hold")

    case.record_goal_progress(goal_id, "no-change", "", "")

    assert case.goals[goal_id].progress == 1


@pytest.mark.parametrize("path", [[], ["active", "completed"], ["cancelled"]])
def test_progress_is_refused_on_proposed_completed_or_cancelled_goals(path: list[str]) -> None:
    case = opened_case()
    goal_id = with_goal(case, with_plan(case), lifecycle=None)
    for step in path:
        case.change_goal_lifecycle(goal_id, step)

    with pytest.raises(InvalidTransitionError, match="active or on-hold"):
        case.record_goal_progress(goal_id, "improving", "", "")

    assert case.goals[goal_id].progress == 0


def test_an_unknown_achievement_value_is_refused() -> None:
    case = opened_case()
    goal_id = with_goal(case, with_plan(case))

    with pytest.raises(InvalidValueError, match="achievement must be one of"):
        case.record_goal_progress(goal_id, "great", "", "")


@pytest.mark.parametrize(
    ("activities", "review", "message"),
    [
        ("weekly walk", None, "activities must be a list"),
        (["weekly walk"], None, "activities[0] must be an object"),
        ([], "2027-01-01", "next_review_on must be a date"),
    ],
)
def test_a_plan_with_badly_typed_values_is_refused(
    activities: object, review: object, message: str
) -> None:
    case = opened_case()

    with pytest.raises(InvalidValueError, match=re.escape(message)):
        case.draft_plan("plan-1", "Plan", activities, review)  # type: ignore[arg-type]


def test_a_goal_due_date_must_be_a_date() -> None:
    case = opened_case()
    plan_id = with_plan(case)

    with pytest.raises(InvalidValueError, match="due_on must be a date"):
        case.add_goal("goal-1", plan_id, "Walk", "medical", "", "soon")  # type: ignore[arg-type]
