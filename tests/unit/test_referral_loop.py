"""Referrals that close the loop: the provider's statuses, coded declines and outcomes, the
derived expiry, and re-routing a declined or expired referral."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from caserecord.domain.case import Case
from caserecord.domain.errors import (
    InvalidTransitionError,
    InvalidValueError,
    ReasonRequiredError,
    UnknownReferenceError,
)
from caserecord.domain.values import REFERRAL_TRANSITIONS, ReferralStatus, referral_expired
from tests.unit.case_builders import last_event, opened_case, with_goal, with_plan

pytestmark = pytest.mark.usefixtures("as_worker")

DEADLINE = date(2027, 1, 5)


def referral(case: Case, referral_id: str = "ref-1", **more: Any) -> str:
    values: dict[str, Any] = {
        "referral_id": referral_id,
        "resource_kind": "community_resource",
        "organisation": "City Food Bank",
        "service_name": "Emergency groceries",
        "referral_reason": "no food at home",
        "urgency": "urgent",
        "respond_by": DEADLINE,
        "organization_id": "org-food",
        "service_id": "svc-groceries",
        "need": "food",
    } | more
    case.make_referral(**values)
    return referral_id


def test_a_referral_names_the_directory_service_and_need_and_is_sent() -> None:
    case = opened_case()
    goal_id = with_goal(case, with_plan(case))

    referral(case, goal_id=goal_id)

    event = last_event(case)
    assert isinstance(event, Case.ReferralMade)
    assert (event.organization_id, event.service_id) == ("org-food", "svc-groceries")
    assert (event.need, event.goal_id, event.rerouted_from) == ("food", goal_id, "")
    made = case.referrals["ref-1"]
    assert (made.status, made.organization_id, made.respond_by) == ("sent", "org-food", DEADLINE)


def test_a_referral_for_an_unknown_need_or_goal_is_refused() -> None:
    case = opened_case()

    with pytest.raises(InvalidValueError, match="need must be one of"):
        referral(case, need="cake")
    with pytest.raises(UnknownReferenceError, match="no goal g-9"):
        referral(case, goal_id="g-9")

    assert len(case.referrals) == 0


def test_the_provider_receives_waitlists_accepts_starts_and_completes_with_a_coded_outcome() -> (
    None
):
    case = opened_case()
    referral(case)
    case.collect_events()

    case.receive_referral("ref-1")
    case.waitlist_referral("ref-1", "about two weeks")
    case.accept_referral("ref-1")
    case.start_referral("ref-1")
    case.complete_referral("ref-1", "need_met")

    events = case.collect_events()
    assert [type(e).__name__ for e in events] == [
        "ReferralReceived",
        "ReferralWaitlisted",
        "ReferralAccepted",
        "ReferralInProgress",
        "ReferralCompleted",
    ]
    statuses = [c.value for c in case.referrals["ref-1"].statuses]
    assert statuses == ["sent", "received", "waitlisted", "accepted", "in_progress", "completed"]
    assert case.referrals["ref-1"].statuses[-1].details == {"outcome": "need_met"}


@pytest.mark.parametrize("outcome", ["need_met", "partly_met", "not_met", "client_did_not_attend"])
def test_every_coded_outcome_completes_an_accepted_referral(outcome: str) -> None:
    case = opened_case()
    referral(case)
    case.accept_referral("ref-1")

    case.complete_referral("ref-1", outcome, "note")

    assert case.referrals["ref-1"].statuses[-1].details == {"outcome": outcome, "note": "note"}


def test_a_decline_carries_a_coded_reason_and_needs_words_only_for_other() -> None:
    case = opened_case()
    referral(case)
    referral(case, "ref-2")

    case.decline_referral("ref-1", "provider", "", "no_capacity")
    with pytest.raises(ReasonRequiredError):
        case.decline_referral("ref-2", "provider", "", "other")
    with pytest.raises(InvalidValueError, match="reason_code must be one of"):
        case.decline_referral("ref-2", "provider", "full", "busy")

    declined = case.referrals["ref-1"].statuses[-1]
    assert (declined.value, declined.details["reason_code"]) == ("declined", "no_capacity")
    assert case.referrals["ref-2"].status == "sent"


MOVES: dict[str, Callable[[Case, str], None]] = {
    "received": lambda c, r: c.receive_referral(r),
    "accepted": lambda c, r: c.accept_referral(r),
    "waitlisted": lambda c, r: c.waitlist_referral(r),
    "in_progress": lambda c, r: c.start_referral(r),
    "declined": lambda c, r: c.decline_referral(r, "provider", "", "not_eligible"),
    "completed": lambda c, r: c.complete_referral(r, "not_met"),
    "withdrawn": lambda c, r: c.withdraw_referral(r, "not needed"),
}
PATHS = {
    "sent": [],
    "received": ["received"],
    "waitlisted": ["waitlisted"],
    "accepted": ["accepted"],
    "in_progress": ["accepted", "in_progress"],
    "declined": ["declined"],
    "completed": ["accepted", "completed"],
    "withdrawn": ["withdrawn"],
}


@pytest.mark.parametrize("start", sorted(PATHS))
@pytest.mark.parametrize("move", sorted(MOVES))
def test_a_referral_moves_only_as_the_transitions_allow(start: str, move: str) -> None:
    case = opened_case()
    referral(case)
    for step in PATHS[start]:
        MOVES[step](case, "ref-1")
    allowed = ReferralStatus(move) in REFERRAL_TRANSITIONS[ReferralStatus(start)]

    if allowed:
        MOVES[move](case, "ref-1")
        assert case.referrals["ref-1"].status == move
    else:
        with pytest.raises(InvalidTransitionError):
            MOVES[move](case, "ref-1")
        assert case.referrals["ref-1"].status == start


@pytest.mark.parametrize(
    ("status", "respond_by", "today", "expired"),
    [
        ("sent", DEADLINE, date(2027, 1, 6), True),
        ("received", DEADLINE, date(2027, 1, 6), True),
        ("sent", DEADLINE, DEADLINE, False),
        ("sent", None, date(2030, 1, 1), False),
        ("accepted", DEADLINE, date(2027, 1, 6), False),
        ("waitlisted", DEADLINE, date(2027, 1, 6), False),
    ],
)
def test_a_referral_has_expired_only_awaiting_an_answer_past_its_deadline(
    status: str, respond_by: date | None, today: date, expired: bool
) -> None:
    assert referral_expired(status, respond_by, today) is expired


def test_an_expired_referral_is_rerouted_to_another_service_linked_to_the_first() -> None:
    case = opened_case()
    referral(case)
    case.collect_events()

    case.reroute_referral(
        "ref-1",
        date(2027, 1, 6),
        **reroute_values("ref-2"),
    )

    event = last_event(case)
    assert isinstance(event, Case.ReferralMade)
    assert (event.referral_id, event.rerouted_from) == ("ref-2", "ref-1")
    first = case.referrals["ref-1"]
    assert (first.status, first.rerouted_to) == ("sent", "ref-2")
    assert case.referrals["ref-2"].status == "sent"
    with pytest.raises(InvalidTransitionError, match="re-routed to ref-2"):
        case.accept_referral("ref-1")
    assert case.unsettled_referrals() == ["ref-2"]


def test_a_declined_referral_is_rerouted_and_keeps_its_decline() -> None:
    case = opened_case()
    referral(case)
    case.decline_referral("ref-1", "provider", "", "no_capacity")

    case.reroute_referral("ref-1", date(2026, 1, 1), **reroute_values("ref-2"))

    first = case.referrals["ref-1"].statuses[-1]
    assert (first.value, first.details["reason_code"], first.details["rerouted_to"]) == (
        "declined",
        "no_capacity",
        "ref-2",
    )


@pytest.mark.parametrize(
    ("steps", "today"),
    [([], date(2027, 1, 5)), (["accepted"], date(2027, 2, 1)), (["withdrawn"], date(2027, 2, 1))],
)
def test_only_a_declined_or_expired_referral_is_rerouted(steps: list[str], today: date) -> None:
    case = opened_case()
    referral(case)
    for step in steps:
        MOVES[step](case, "ref-1")

    with pytest.raises(InvalidTransitionError, match="only a declined or expired referral"):
        case.reroute_referral("ref-1", today, **reroute_values("ref-2"))

    assert "ref-2" not in case.referrals


def test_a_referral_is_rerouted_once() -> None:
    case = opened_case()
    referral(case)
    case.reroute_referral("ref-1", date(2027, 1, 6), **reroute_values("ref-2"))

    with pytest.raises(InvalidTransitionError, match="already re-routed to ref-2"):
        case.reroute_referral("ref-1", date(2027, 1, 6), **reroute_values("ref-3"))


def reroute_values(referral_id: str) -> dict[str, Any]:
    return {
        "referral_id": referral_id,
        "resource_kind": "community_resource",
        "organisation": "Northside Pantry",
        "service_name": "Food parcels",
        "referral_reason": "first food bank did not answer",
        "urgency": "urgent",
        "respond_by": date(2027, 1, 20),
        "organization_id": "org-pantry",
        "need": "food",
    }


def test_version_1_declines_and_completions_read_as_coded_other_and_uncoded() -> None:
    declined: dict[str, Any] = {"referral_id": "r", "declined_by": "client", "reason": "moved"}
    completed: dict[str, Any] = {"referral_id": "r", "outcome": "attended 6 sessions"}
    made: dict[str, Any] = {"referral_id": "r"}

    Case.ReferralDeclined.upcast_v1_v2(declined)
    Case.ReferralCompleted.upcast_v1_v2(completed)
    Case.ReferralMade.upcast_v1_v2(made)

    assert declined["reason_code"] == "other"
    assert (completed["outcome"], completed["note"]) == ("", "attended 6 sessions")
    assert made == {
        "referral_id": "r",
        "organization_id": "",
        "service_id": "",
        "need": "",
        "goal_id": "",
        "rerouted_from": "",
    }


def test_a_version_1_completion_replays_uncoded() -> None:
    case = opened_case()
    referral(case)
    case.accept_referral("ref-1")

    case.complete_referral("ref-1", "", "attended 6 sessions")

    assert case.referrals["ref-1"].statuses[-1].details == {
        "outcome": "",
        "note": "attended 6 sessions",
    }
