"""Closing and reopening: nothing but reopen on a closed case."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from caserecord.domain.case import Case
from caserecord.domain.entities import Recorded
from caserecord.domain.errors import CaseClosedError, CaseNotClosedError, ReasonRequiredError
from tests.unit.case_builders import (
    last_event,
    opened_case,
    with_goal,
    with_note,
    with_plan,
    with_referral,
    with_task,
)

pytestmark = pytest.mark.usefixtures("as_worker")


def test_a_case_is_closed_with_a_reason_and_an_outcome() -> None:
    case = opened_case()
    case.collect_events()

    case.close("treatment completed", "goals met")

    event = last_event(case)
    assert isinstance(event, Case.Closed)
    assert (event.reason, event.outcome) == ("treatment completed", "goals met")
    assert case.status == "closed"


def test_closing_without_a_reason_is_refused() -> None:
    case = opened_case()

    with pytest.raises(ReasonRequiredError, match="close a case"):
        case.close("", "goals met")

    assert case.status == "open"


def test_a_closed_case_is_reopened_with_a_reason() -> None:
    case = opened_case()
    case.close("moved away", "unknown")
    case.collect_events()

    case.reopen("moved back")

    event = last_event(case)
    assert isinstance(event, Case.Reopened)
    assert event.reason == "moved back"
    assert case.status == "open"
    assert [s.value for s in case.statuses] == ["open", "closed", "open"]


def test_reopening_without_a_reason_is_refused() -> None:
    case = opened_case()
    case.close("moved away", "")

    with pytest.raises(ReasonRequiredError, match="reopen a case"):
        case.reopen(" ")

    assert case.status == "closed"


def test_an_open_case_cannot_be_reopened() -> None:
    with pytest.raises(CaseNotClosedError) as refused:
        opened_case().reopen("why not")

    assert refused.value.code == "case_not_closed"


def closed_case_commands() -> dict[str, Callable[[Case, dict[str, Any]], None]]:
    """Every command of a case, applied to the items made before the case closed."""
    return {
        "assess": lambda c, _: c.assess_needs([{"domain": "medical", "level": "low"}]),
        "prior": lambda c, _: c.review_prior_treatment("Detox", "", None, None, "", 3, ""),
        "assign": lambda c, _: c.assign_case_manager("worker-9", "cover"),
        "close": lambda c, _: c.close("again", ""),
        "start_service": lambda c, _: c.start_service(),
        "hold": lambda c, _: c.put_on_hold("hospital", None),
        "resume_case": lambda c, _: c.resume(),
        "draft": lambda c, _: c.draft_plan("plan-9", "New", [], None),
        "revise_plan": lambda c, i: c.revise_plan(i["plan"], "v2", [], None, "why"),
        "activate": lambda c, i: c.activate_plan(i["plan"]),
        "suspend": lambda c, i: c.suspend_plan(i["plan"], "why"),
        "resume": lambda c, i: c.resume_plan(i["plan"]),
        "complete_plan": lambda c, i: c.complete_plan(i["plan"]),
        "revoke": lambda c, i: c.revoke_plan(i["plan"], "why"),
        "add_goal": lambda c, i: c.add_goal("goal-9", i["plan"], "New", "medical", "", None),
        "revise_goal": lambda c, i: c.revise_goal(i["goal"], "New", "medical", "", None),
        "goal_lifecycle": lambda c, i: c.change_goal_lifecycle(i["goal"], "completed"),
        "goal_progress": lambda c, i: c.record_goal_progress(i["goal"], "improving", "", ""),
        "refer": lambda c, _: c.make_referral("ref-9", "legal", "O", "S", "", "routine", None),
        "accept": lambda c, i: c.accept_referral(i["referral"]),
        "decline": lambda c, i: c.decline_referral(i["referral"], "client", "why"),
        "complete_referral": lambda c, i: c.complete_referral(i["referral"], "need_met"),
        "withdraw": lambda c, i: c.withdraw_referral(i["referral"], "why"),
        "note": lambda c, _: c.record_note("note-9", "Hi", "client", "phone", []),
        "addendum": lambda c, i: c.append_addendum(i["note"], "later", i["note_entry"]),
        "mark_in_error": lambda c, i: c.mark_entry_in_error(
            i["note_version"], "wrong", i["note_entry"]
        ),
        "review_plan": lambda c, i: c.review_plan(
            i["plan"], "continue", date(2027, 1, 1), [], True, True, date(2027, 4, 1), ""
        ),
        "settle_goal": lambda c, i: c.settle_goal(i["goal"], "achieved", ""),
        "leave_open": lambda c, i: c.leave_referral_open(i["referral"], "still waiting"),
        "create_task": lambda c, _: c.create_task(
            "task-9", "Call", "worker-1", date(2027, 1, 1), "case", ""
        ),
        "complete_task": lambda c, i: c.complete_task(i["task"], ""),
        "reassign_task": lambda c, i: c.reassign_task(i["task"], "worker-9"),
        "cancel_task": lambda c, i: c.cancel_task(i["task"], "why"),
    }


@pytest.mark.parametrize("command", sorted(closed_case_commands()))
def test_a_closed_case_refuses_everything_but_reopening(command: str) -> None:
    case = opened_case()
    plan_id = with_plan(case)
    items: dict[str, Any] = {
        "plan": plan_id,
        "goal": with_goal(case, plan_id),
        "referral": with_referral(case),
        "note": with_note(case),
    }
    items["note_version"] = case.version
    items["note_entry"] = Recorded(case.version, "note", items["note"])
    items["task"] = with_task(case)
    case.complete_task(items["task"], "done")
    case.leave_referral_open(items["referral"], "awaiting the housing list")
    case.close("client disengaged", "not met")
    case.collect_events()
    version = case.version

    with pytest.raises(CaseClosedError) as refused:
        closed_case_commands()[command](case, items)

    assert refused.value.code == "case_closed"
    assert case.version == version
    assert case.collect_events() == []


def test_a_reopened_case_accepts_work_again() -> None:
    case = opened_case()
    case.close("disengaged", "")
    case.reopen("re-engaged")

    case.assess_needs([{"domain": "medical", "level": "low"}])

    assert case.assessments[0].version == 4
    assert case.status == "open"
