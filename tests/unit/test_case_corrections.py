"""Entries marked in error: content is set aside, the latest status change is undone, and
the intake and the markings themselves stay as recorded."""

import pytest

from caserecord.domain.case import Case
from caserecord.domain.errors import (
    AlreadyInErrorError,
    EntryNotCorrectableError,
    EntryNotFoundError,
    InvalidValueError,
    NoteNotFoundError,
    ReasonRequiredError,
)
from tests.unit.case_builders import (
    SUPERVISOR,
    add_addendum,
    as_actor,
    last_event,
    mark_in_error,
    note_entry,
    opened_case,
    with_goal,
    with_note,
    with_plan,
    with_referral,
)

pytestmark = pytest.mark.usefixtures("as_worker")


def mark(case: Case, version: int, reason: str = "entered on the wrong case") -> None:
    mark_in_error(case, version, reason)


def test_marking_an_entry_in_error_records_the_target_version_and_reason() -> None:
    case = opened_case()
    with_note(case)

    with as_actor(SUPERVISOR, reason="audit finding"):
        mark(case, 2, "wrong client")

    event = last_event(case)
    assert isinstance(event, Case.EntryMarkedInError)
    assert (event.originator_version, event.target_version, event.reason) == (3, 2, "wrong client")
    assert event.actor_id == "super-1"
    assert case.set_aside_versions() == {2}
    assert [(c.target_version, c.marked_in) for c in case.corrections] == [(2, 3)]


def test_a_marked_note_is_set_aside_but_kept() -> None:
    case = opened_case()
    note_id = with_note(case)

    mark(case, 2)

    assert note_entry(case, note_id) is not None  # the note's own event is untouched
    assert case.set_aside_versions() == {2}
    assert case.notes_recorded == 1
    with pytest.raises(NoteNotFoundError):
        add_addendum(case, note_id, "no longer stands")


def test_a_marked_addendum_is_set_aside_and_the_note_stays() -> None:
    case = opened_case()
    note_id = with_note(case)
    add_addendum(case, note_id, "Wrong addendum")

    mark(case, 3)

    assert case.set_aside_versions() == {3}
    add_addendum(case, note_id, "The note itself stands")
    assert case.version == 5


def test_a_marked_assessment_sets_aside_every_domain_it_rated() -> None:
    case = opened_case()
    case.assess_needs(
        [{"domain": "medical", "level": "low"}, {"domain": "psychiatric", "level": "high"}]
    )
    case.assess_needs([{"domain": "therapeutic", "level": "moderate"}])

    mark(case, 2)

    assert [(a.domain, a.in_error) for a in case.assessments] == [
        ("medical", True),
        ("psychiatric", True),
        ("therapeutic", False),
    ]


def test_a_marked_prior_treatment_is_set_aside() -> None:
    case = opened_case()
    case.review_prior_treatment("Detox", "", None, None, "", 2, "")

    mark(case, 2)

    assert case.prior_treatments[0].in_error


def test_a_marked_plan_revision_brings_back_the_previous_version() -> None:
    case = opened_case()
    plan_id = with_plan(case)
    case.revise_plan(plan_id, "Typo plan", [], None, "update")

    mark(case, case.version)

    plan = case.current_plan
    assert plan is not None
    assert (plan.current_version.number, plan.current_version.title) == (
        1,
        "Stabilisation plan",
    )


def test_a_marked_plan_draft_sets_the_plan_aside_so_a_new_one_can_be_drafted() -> None:
    case = opened_case()
    with_plan(case, activate=False)

    mark(case, 2)
    case.draft_plan("plan-2", "Right plan", [], None)

    assert case.current_plan is not None and case.current_plan.plan_id == "plan-2"


def test_a_marked_goal_and_a_marked_progress_entry_are_set_aside() -> None:
    case = opened_case()
    plan_id = with_plan(case)
    kept = with_goal(case, plan_id)
    case.record_goal_progress(kept, "improving", "", "")
    case.record_goal_progress(kept, "achieved", "", "typo")
    wrong = with_goal(case, plan_id, lifecycle=None)

    mark(case, case.version)  # the wrong goal's GoalAdded
    mark(case, case.version - 2)  # the "achieved" progress

    assert case.goals[wrong].in_error
    assert case.set_aside_versions() == {case.version - 3, case.version - 2}
    assert case.goals[kept].progress == 2


def test_a_marked_goal_revision_brings_back_the_earlier_wording() -> None:
    case = opened_case()
    goal_id = with_goal(case, with_plan(case))
    case.revise_goal(goal_id, "Wrong", "medical", "", None)

    mark(case, case.version)

    revisions = [r for r in case.goals[goal_id].revisions if not r.in_error]
    assert [r.description for r in revisions] == ["Sleep through the night"]


def test_a_marked_referral_is_set_aside() -> None:
    case = opened_case()
    referral_id = with_referral(case)

    mark(case, 2)

    assert case.referrals[referral_id].in_error


def test_the_latest_plan_status_change_returns_the_plan_to_its_previous_status() -> None:
    case = opened_case()
    plan_id = with_plan(case)
    case.suspend_plan(plan_id, "hospital")

    mark(case, case.version)

    assert case.plans[0].status == "active"


def test_a_mistaken_plan_completion_makes_the_plan_current_again() -> None:
    case = opened_case()
    plan_id = with_plan(case)
    case.complete_plan(plan_id)

    mark(case, case.version)

    assert case.current_plan is not None and case.current_plan.status == "active"


def test_a_completion_cannot_be_undone_once_a_later_plan_is_current() -> None:
    case = opened_case()
    first = with_plan(case)
    case.complete_plan(first)
    completed_in = case.version
    with_plan(case)

    with pytest.raises(EntryNotCorrectableError, match="later plan is current"):
        mark(case, completed_in)


def test_the_latest_goal_lifecycle_change_returns_the_goal_to_its_previous_status() -> None:
    case = opened_case()
    goal_id = with_goal(case, with_plan(case))
    case.change_goal_lifecycle(goal_id, "completed")

    mark(case, case.version)

    assert case.goals[goal_id].status == "active"


def test_the_latest_referral_status_change_returns_the_referral_to_its_previous_status() -> None:
    case = opened_case()
    referral_id = with_referral(case, accepted=True)
    case.decline_referral(referral_id, "provider", "no capacity")

    mark(case, case.version)

    assert case.referrals[referral_id].status == "accepted"
    case.complete_referral(referral_id, "need_met")
    assert case.referrals[referral_id].status == "completed"


def test_a_mistaken_transfer_returns_the_case_to_the_previous_manager() -> None:
    case = opened_case()
    case.assign_case_manager("worker-2", "leave")

    mark(case, 2)

    assert case.case_manager_id == "worker-1"


def test_a_mistaken_reopening_returns_the_case_to_closed() -> None:
    case = opened_case()
    case.close("done", "met")
    case.reopen("wrong case reopened")

    mark(case, case.version)

    assert case.status == "closed"


def test_only_the_latest_status_change_of_an_item_can_be_marked_in_error() -> None:
    case = opened_case()
    goal_id = with_goal(case, with_plan(case))
    activated = case.version
    case.change_goal_lifecycle(goal_id, "on-hold")

    with pytest.raises(EntryNotCorrectableError, match="only the latest goal lifecycle") as e:
        mark(case, activated)

    assert e.value.code == "entry_not_correctable"
    assert case.goals[goal_id].status == "on-hold"


def test_status_changes_can_be_undone_one_after_another_from_the_latest() -> None:
    case = opened_case()
    plan_id = with_plan(case)
    activated = case.version
    case.suspend_plan(plan_id, "hospital")

    mark(case, case.version)
    mark(case, activated)

    assert case.plans[0].status == "draft"


def test_the_initial_status_of_an_item_cannot_be_undone_alone() -> None:
    case = opened_case()
    goal_id = with_goal(case, with_plan(case), lifecycle=None)

    # Marking the GoalAdded sets the whole goal aside instead.
    mark(case, case.version)

    assert case.goals[goal_id].in_error


def test_the_intake_cannot_be_marked_in_error() -> None:
    case = opened_case()

    with pytest.raises(EntryNotCorrectableError, match="intake") as refused:
        mark(case, 1)

    assert refused.value.code == "entry_not_correctable"
    assert case.corrections == []


def test_a_marking_cannot_itself_be_marked_in_error() -> None:
    case = opened_case()
    with_note(case)
    mark(case, 2)

    with pytest.raises(EntryNotCorrectableError, match="version 3 is not an entry"):
        mark(case, 3)


def test_an_entry_cannot_be_marked_in_error_twice() -> None:
    case = opened_case()
    with_note(case)
    mark(case, 2)

    with pytest.raises(AlreadyInErrorError) as refused:
        mark(case, 2, "again")

    assert refused.value.code == "already_in_error"
    assert len(case.corrections) == 1


@pytest.mark.parametrize("version", [0, -1, 99])
def test_a_version_the_case_does_not_have_is_a_domain_error(version: int) -> None:
    case = opened_case()
    with_note(case)

    with pytest.raises(EntryNotFoundError, match=f"no version {version}") as refused:
        mark(case, version)

    assert refused.value.code == "entry_not_found"


def test_a_target_version_that_is_not_a_number_is_refused() -> None:
    case = opened_case()

    with pytest.raises(InvalidValueError, match="version number"):
        case.mark_entry_in_error("2", "wrong")  # type: ignore[arg-type]


def test_marking_in_error_needs_a_reason() -> None:
    case = opened_case()
    with_note(case)

    with pytest.raises(ReasonRequiredError, match="mark an entry in error"):
        mark(case, 2, "")

    assert case.corrections == []


def test_a_status_change_of_an_item_set_aside_cannot_be_marked_separately() -> None:
    case = opened_case()
    goal_id = with_goal(case, with_plan(case), lifecycle=None)
    added = case.version
    case.change_goal_lifecycle(goal_id, "active")
    mark(case, added)

    with pytest.raises(AlreadyInErrorError):
        mark(case, added + 1)


def test_an_addendum_of_a_note_set_aside_cannot_be_marked_separately() -> None:
    case = opened_case()
    note_id = with_note(case)
    add_addendum(case, note_id, "later")
    mark(case, 2)

    with pytest.raises(AlreadyInErrorError):
        mark(case, 3)


def test_a_completion_can_be_undone_once_the_later_plan_is_itself_set_aside() -> None:
    case = opened_case()
    first = with_plan(case)
    case.complete_plan(first)
    completed_in = case.version
    with_plan(case, activate=False)
    mark(case, case.version)  # the later plan was drafted by mistake

    mark(case, completed_in)

    assert case.current_plan is not None
    assert (case.current_plan.plan_id, case.current_plan.status) == (first, "active")
