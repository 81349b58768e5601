"""Instruments on the case aggregate: an administration as the service scored it, its
safety flag due until reviewed, and goals that target a score."""

from dataclasses import replace
from typing import Any

import pytest

from caserecord.domain.case import Case
from caserecord.domain.entities import SafetyFlag
from caserecord.domain.errors import (
    AlreadyInErrorError,
    CaseClosedError,
    InvalidValueError,
    SafetyFlagNotFoundError,
)
from caserecord.domain.replay import apply_next
from tests.unit.case_builders import last_event, mapper, opened_case, with_plan

pytestmark = pytest.mark.usefixtures("as_worker")


def administer(case: Case, **changes: Any) -> None:
    values: dict[str, Any] = {
        "instrument": "phq-9",
        "definition_version": 1,
        "respondent": "client",
        "responses": {str(i): 1 for i in range(1, 10)},
        "context": {},
        "total": 9,
        "band": "mild",
        "flags": ["self-harm-thoughts"],
        "safety_flags": ["self-harm-thoughts"],
        "outcome": {},
    } | changes
    case.administer_instrument(**values)


def test_an_administration_records_the_score_it_was_given_and_its_safety_flag() -> None:
    case = opened_case()

    administer(case)

    event = last_event(case)
    assert isinstance(event, Case.InstrumentAdministered)
    assert (event.instrument, event.definition_version, event.total) == ("phq-9", 1, 9)
    assert event.index_entry() == ("score", "phq-9")
    assert case.open_safety_flags() == [SafetyFlag(2, "phq-9", ["self-harm-thoughts"])]


def test_an_administration_without_a_safety_flag_leaves_nothing_due() -> None:
    case = opened_case()

    administer(case, flags=[], safety_flags=[])

    assert case.safety_flags == []


@pytest.mark.parametrize(
    "changes",
    [{"respondent": "neighbour"}, {"instrument": " "}, {"responses": {}}, {"flags": "x"}],
)
def test_an_administration_must_name_respondent_instrument_and_responses(
    changes: dict[str, Any],
) -> None:
    case = opened_case()

    with pytest.raises(InvalidValueError):
        administer(case, **changes)

    assert case.version == 1


def test_a_closed_case_takes_no_administration() -> None:
    case = opened_case()
    case.close("moved away", "transferred")

    with pytest.raises(CaseClosedError):
        administer(case)


def test_a_reviewed_safety_flag_is_no_longer_due_and_cannot_be_reviewed_twice() -> None:
    case = opened_case()
    administer(case)

    case.review_safety_flag(2, "Safety plan agreed.")

    assert case.open_safety_flags() == []
    assert case.safety_flags[0].reviewed_in == 3
    with pytest.raises(SafetyFlagNotFoundError):
        case.review_safety_flag(2, "again")


def test_a_review_records_what_was_done() -> None:
    case = opened_case()
    administer(case)

    with pytest.raises(InvalidValueError, match="what was done"):
        case.review_safety_flag(2, " ")


def test_marking_a_flagged_administration_in_error_sets_its_flag_aside_once() -> None:
    case = opened_case()
    administer(case)

    case.mark_entry_in_error(2, "wrong client")

    assert case.open_safety_flags() == []
    with pytest.raises(AlreadyInErrorError):
        case.mark_entry_in_error(2, "again")


def test_a_goal_targets_a_score_and_a_revision_keeps_the_target() -> None:
    case = opened_case()
    plan_id = with_plan(case)

    case.add_goal(
        "g1", plan_id, "Mood lifts", "psychiatric", "", None,
        target_instrument="phq-9", target_score=10, direction="below",
    )  # fmt: skip
    case.revise_goal("g1", "Mood lifts for good", "psychiatric", "", None)

    revision = case.goals["g1"].revisions[-1]
    assert (revision.target_instrument, revision.target_score, revision.direction) == (
        "phq-9",
        10,
        "below",
    )


@pytest.mark.parametrize(
    ("instrument", "score", "direction"),
    [("phq-9", None, "below"), ("phq-9", 10, "sideways"), ("", 10, ""), ("", None, "below")],
)
def test_a_score_target_names_instrument_score_and_direction_together(
    instrument: str, score: float | None, direction: str
) -> None:
    case = opened_case()
    plan_id = with_plan(case)

    with pytest.raises(InvalidValueError):
        case.add_goal(
            "g1", plan_id, "Mood", "psychiatric", "", None,
            target_instrument=instrument, target_score=score, direction=direction,
        )  # fmt: skip


def test_a_goal_stored_before_goals_could_target_a_score_reads_without_a_target() -> None:
    case = opened_case()
    plan_id = with_plan(case)
    case.add_goal("g1", plan_id, "Mood", "psychiatric", "", None)
    codec = mapper()
    events = [codec.to_stored_event(e) for e in case.collect_events()]
    older = codec.transcoder.decode(events[-1].state)
    for name in ("target_instrument", "target_score", "direction"):
        del older[name]
    events[-1] = replace(events[-1], state=codec.transcoder.encode(older))

    replayed: Any = None
    for stored in events:
        replayed = apply_next(replayed, codec.to_domain_event(stored))

    revision = replayed.goals["g1"].revisions[-1]
    assert (revision.target_instrument, revision.target_score, revision.direction) == ("", None, "")
