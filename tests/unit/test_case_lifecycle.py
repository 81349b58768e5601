"""The case lifecycle beyond open and closed: waitlisted, on hold, and a closure with a
discharge reason and an aftercare plan, with what each status refuses."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from caserecord.domain.case import Case
from caserecord.domain.errors import (
    CaseClosedError,
    CaseNotInServiceError,
    InvalidTransitionError,
    InvalidValueError,
    ReasonRequiredError,
)
from tests.unit.case_builders import (
    last_event,
    mapper,
    opened_case,
    with_goal,
    with_note,
    with_plan,
    with_referral,
)

pytestmark = pytest.mark.usefixtures("as_worker")


def test_an_intake_can_open_a_case_waitlisted() -> None:
    case = opened_case(waitlisted=True)

    event = last_event(case)
    assert isinstance(event, Case.Opened)
    assert event.waitlisted is True
    assert case.status == "waitlisted"


def test_starting_service_opens_a_waitlisted_case() -> None:
    case = opened_case(waitlisted=True)

    case.start_service()

    assert isinstance(last_event(case), Case.ServiceStarted)
    assert [s.value for s in case.statuses] == ["waitlisted", "open"]


def test_service_starts_only_on_a_waitlisted_case() -> None:
    case = opened_case()

    with pytest.raises(InvalidTransitionError, match="only a waitlisted case"):
        case.start_service()


def test_a_case_is_put_on_hold_with_a_reason_and_an_end_date() -> None:
    case = opened_case()

    case.put_on_hold("inpatient stay", date(2027, 2, 1))

    event = last_event(case)
    assert isinstance(event, Case.CasePutOnHold)
    assert (event.reason, event.until) == ("inpatient stay", date(2027, 2, 1))
    assert case.status == "on_hold"
    assert case.statuses[-1].details == {"reason": "inpatient stay", "until": date(2027, 2, 1)}


def test_a_hold_without_a_reason_is_refused() -> None:
    with pytest.raises(ReasonRequiredError, match="put a case on hold"):
        opened_case().put_on_hold(" ", None)


def test_a_hold_until_something_other_than_a_date_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="until must be a date"):
        opened_case().put_on_hold("away", "soon")  # type: ignore[arg-type]


def test_a_waitlisted_case_cannot_be_put_on_hold() -> None:
    with pytest.raises(InvalidTransitionError, match="from waitlisted to on_hold"):
        opened_case(waitlisted=True).put_on_hold("away", None)


def test_a_case_on_hold_is_resumed() -> None:
    case = opened_case()
    case.put_on_hold("away", None)

    case.resume()

    assert isinstance(last_event(case), Case.CaseResumed)
    assert case.status == "open"


def test_only_a_case_on_hold_is_resumed() -> None:
    with pytest.raises(InvalidTransitionError, match="only a case on hold"):
        opened_case().resume()


def test_a_closure_records_the_discharge_reason_and_the_aftercare_plan() -> None:
    case = opened_case()

    case.close("done", "sober 6 months", "goals_met", "", "Weekly AA", date(2027, 5, 1))

    event = last_event(case)
    assert isinstance(event, Case.Closed)
    assert (event.discharge_reason, event.aftercare_plan) == ("goals_met", "Weekly AA")
    assert event.follow_up_on == date(2027, 5, 1)
    assert case.statuses[-1].details["discharge_reason"] == "goals_met"


def test_an_unknown_discharge_reason_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="discharge_reason must be one of"):
        opened_case().close("done", "", "bored")


def test_a_discharge_for_another_reason_must_say_which() -> None:
    with pytest.raises(InvalidValueError, match="discharge_detail"):
        opened_case().close("done", "", "other", " ")


def test_a_follow_up_date_needs_an_aftercare_plan() -> None:
    with pytest.raises(InvalidValueError, match="aftercare plan"):
        opened_case().close("done", "", "moved", "", "", date(2027, 1, 1))


@pytest.mark.parametrize("status", ["waitlisted", "on_hold"])
def test_a_waitlisted_case_or_one_on_hold_can_be_closed(status: str) -> None:
    case = opened_case(waitlisted=status == "waitlisted")
    if status == "on_hold":
        case.put_on_hold("away", None)

    case.close("client declined", "", "declined_services")

    assert case.status == "closed"


def test_a_reopened_case_keeps_its_whole_status_history() -> None:
    case = opened_case(waitlisted=True)
    case.start_service()
    case.put_on_hold("away", None)
    case.close("moved", "", "moved")

    case.reopen("came back")

    assert [s.value for s in case.statuses] == [
        "waitlisted",
        "open",
        "on_hold",
        "closed",
        "open",
    ]


def not_in_service_commands() -> dict[str, Callable[[Case, dict[str, Any]], None]]:
    return {
        "activate a plan": lambda c, i: c.activate_plan(i["draft"]),
        "resume a plan": lambda c, i: c.resume_plan(i["plan"]),
        "record goal progress": lambda c, i: c.record_goal_progress(i["goal"], "improving", "", ""),
        "make a referral": lambda c, _: c.make_referral(
            "ref-9", "legal", "O", "S", "", "routine", None
        ),
    }


REFUSED = {
    ("waitlisted", "activate a plan"),
    ("on_hold", "activate a plan"),
    ("on_hold", "resume a plan"),
    ("on_hold", "record goal progress"),
    ("on_hold", "make a referral"),
}


@pytest.mark.parametrize(("status", "command"), sorted(REFUSED))
def test_what_a_case_not_in_service_refuses(status: str, command: str) -> None:
    case = opened_case(waitlisted=status == "waitlisted")
    items: dict[str, Any] = {"draft": with_plan(case, activate=False)}
    if status == "on_hold":
        case.revoke_plan(items["draft"], "replaced")
        items["plan"] = with_plan(case)
        items["goal"] = with_goal(case, items["plan"])
        case.suspend_plan(items["plan"], "away")
        case.put_on_hold("away", None)
    case.collect_events()

    with pytest.raises(CaseNotInServiceError, match=f"to {command}") as refused:
        not_in_service_commands()[command](case, items)

    assert refused.value.code == "case_not_in_service"
    assert case.collect_events() == []


def test_a_waitlisted_case_accepts_notes_referrals_and_a_draft_plan() -> None:
    case = opened_case(waitlisted=True)

    with_note(case)
    with_referral(case)
    plan_id = with_plan(case, activate=False)
    with_goal(case, plan_id, lifecycle=None)

    assert case.status == "waitlisted"
    assert case.notes_recorded == 1


def test_a_case_on_hold_accepts_notes() -> None:
    case = opened_case()
    case.put_on_hold("in hospital", None)

    with_note(case)

    assert case.notes_recorded == 1


def test_a_closed_case_is_not_put_on_hold() -> None:
    case = opened_case()
    case.close("done", "")

    with pytest.raises(CaseClosedError):
        case.put_on_hold("away", None)


def test_events_of_the_first_versions_read_as_the_current_ones() -> None:
    case = opened_case()
    case.close("done", "ok")
    opened, closed = case.collect_events()
    codec = mapper()
    stored = [codec.to_stored_event(e) for e in (opened, closed)]
    old = []
    for s, drop in zip(
        stored,
        (
            {"waitlisted"},
            {"discharge_reason", "discharge_detail", "aftercare_plan", "follow_up_on"},
        ),
        strict=True,
    ):
        state = codec.transcoder.decode(s.state)
        state.pop("class_version")
        for name in drop:
            state.pop(name)
        old.append(
            type(s)(s.originator_id, s.originator_version, s.topic, codec.transcoder.encode(state))
        )

    read = [codec.to_domain_event(s) for s in old]

    assert read[0].waitlisted is False  # type: ignore[attr-defined]
    assert read[1].discharge_reason == ""  # type: ignore[attr-defined]
    assert read[1].follow_up_on is None  # type: ignore[attr-defined]
    assert read[1].mutate(read[0].mutate(None)).status == "closed"  # type: ignore[attr-defined]
