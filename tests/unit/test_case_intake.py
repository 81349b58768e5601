"""Intake, needs assessment, prior treatment review and case manager transfer."""

import re
from datetime import date

import pytest

from caserecord.domain.case import Case
from caserecord.domain.errors import (
    InvalidTransitionError,
    InvalidValueError,
    ReasonRequiredError,
)
from tests.unit.case_builders import (
    CLIENT_ID,
    CORRELATION_ID,
    SUPERVISOR,
    as_actor,
    last_event,
    opened_case,
)

pytestmark = pytest.mark.usefixtures("as_worker")


def test_an_intake_interview_opens_a_case_with_its_manager() -> None:
    case = opened_case(specialty="geriatric", presenting_needs=["falls", "isolation"])

    event = last_event(case)

    assert isinstance(event, Case.Opened)
    assert event.originator_version == 1
    assert event.client_id == CLIENT_ID
    assert event.agency_id == "agency-a"
    assert event.specialty == "geriatric"
    assert event.referral_source == "GP"
    assert event.presenting_needs == ["falls", "isolation"]
    assert event.interview_summary == "Referred by GP after a crisis visit."
    assert event.case_manager_id == "worker-1"
    assert (event.actor_id, event.actor_role, event.actor_agency_id) == (
        "worker-1",
        "caseworker",
        "agency-a",
    )
    assert event.correlation_id == CORRELATION_ID
    assert event.effective_at == event.timestamp
    assert case.status == "open"
    assert case.case_manager_id == "worker-1"


@pytest.mark.parametrize(
    "specialty",
    [
        "correctional",
        "forensic",
        "geriatric",
        "juvenile",
        "child",
        "rehabilitation",
        "legal",
        "substance_abuse",
        "clinical",
        "mental_health",
        "social_work",
        "medical",
        "nurse",
    ],
)
def test_every_specialty_program_can_open_a_case(specialty: str) -> None:
    assert opened_case(specialty=specialty).specialty == specialty


def test_an_unknown_specialty_is_refused_naming_the_allowed_values() -> None:
    with pytest.raises(InvalidValueError) as refused:
        opened_case(specialty="astrology")

    assert refused.value.code == "invalid_value"
    assert "specialty must be one of" in refused.value.message
    assert "'astrology'" in refused.value.message


def test_an_intake_without_a_case_manager_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="assigns a case manager"):
        opened_case(case_manager_id="  ")


def test_needs_are_assessed_per_domain_with_level_notes_and_instrument() -> None:
    case = opened_case()
    case.collect_events()

    case.assess_needs(
        [
            {"domain": "therapeutic", "level": "high", "notes": "panic attacks"},
            {"domain": "psychiatric", "level": "critical", "instrument": "PHQ-9", "score": 22},
        ]
    )

    event = last_event(case)
    assert isinstance(event, Case.NeedsAssessed)
    assert event.originator_version == 2
    assert event.assessments[1] == {
        "domain": "psychiatric",
        "level": "critical",
        "instrument": "PHQ-9",
        "score": 22,
    }
    assert [(a.domain, a.level, a.score) for a in case.assessments] == [
        ("therapeutic", "high", None),
        ("psychiatric", "critical", 22),
    ]
    assert all(a.version == 2 for a in case.assessments)


@pytest.mark.parametrize(
    ("assessment", "message"),
    [
        ({"domain": "spiritual", "level": "low"}, "assessments[0].domain must be one of"),
        ({"domain": "medical", "level": "extreme"}, "assessments[0].level must be one of"),
        ({"level": "low"}, "assessments[0].domain must be one of"),
    ],
)
def test_an_assessment_with_an_unknown_domain_or_level_is_refused(
    assessment: dict[str, str], message: str
) -> None:
    case = opened_case()

    with pytest.raises(InvalidValueError, match=re.escape(message)):
        case.assess_needs([assessment])

    assert case.assessments == []
    assert case.version == 1


def test_an_empty_assessment_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="at least one need domain"):
        opened_case().assess_needs([])


def test_a_prior_treatment_review_records_provider_period_outcome_and_rating() -> None:
    case = opened_case()
    case.collect_events()

    case.review_prior_treatment(
        "CBT course", "NHS Talking Therapies", date(2021, 2, 1), date(2021, 5, 1),
        "completed", 4, "helped with sleep",
    )  # fmt: skip

    event = last_event(case)
    assert isinstance(event, Case.PriorTreatmentReviewed)
    assert (event.treatment, event.provider, event.outcome) == (
        "CBT course",
        "NHS Talking Therapies",
        "completed",
    )
    assert (event.started_on, event.ended_on) == (date(2021, 2, 1), date(2021, 5, 1))
    assert (event.effectiveness, event.notes) == (4, "helped with sleep")
    assert case.prior_treatments[0].version == 2


@pytest.mark.parametrize(
    ("treatment", "start", "end", "rating", "message"),
    [
        ("", None, None, 3, "must be named"),
        ("CBT", None, None, 0, "rated from 1"),
        ("CBT", None, None, 6, "rated from 1"),
        ("CBT", date(2021, 5, 1), date(2021, 2, 1), 3, "cannot end before it starts"),
    ],
)
def test_an_invalid_prior_treatment_is_refused(
    treatment: str, start: date | None, end: date | None, rating: int, message: str
) -> None:
    case = opened_case()

    with pytest.raises(InvalidValueError, match=message):
        case.review_prior_treatment(treatment, "", start, end, "", rating, "")

    assert case.prior_treatments == []


def test_a_transfer_assigns_a_new_case_manager_with_its_reason() -> None:
    case = opened_case()
    case.collect_events()

    with as_actor(SUPERVISOR):
        case.assign_case_manager("worker-2", "worker-1 on long leave")

    event = last_event(case)
    assert isinstance(event, Case.CaseManagerAssigned)
    assert event.case_manager_id == "worker-2"
    assert event.reason == "worker-1 on long leave"
    assert event.actor_id == "super-1"
    assert case.case_manager_id == "worker-2"
    assert [m.value for m in case.managers] == ["worker-1", "worker-2"]


def test_a_transfer_without_a_reason_is_refused() -> None:
    case = opened_case()

    with pytest.raises(ReasonRequiredError) as refused:
        case.assign_case_manager("worker-2", " ")

    assert refused.value.code == "reason_required"
    assert case.case_manager_id == "worker-1"


def test_a_transfer_to_the_current_manager_is_refused() -> None:
    with pytest.raises(InvalidTransitionError, match="already assigned"):
        opened_case().assign_case_manager("worker-1", "no change")


def test_a_transfer_to_nobody_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="case_manager_id is required"):
        opened_case().assign_case_manager("", "leaving")


@pytest.mark.parametrize(
    ("needs", "message"),
    [("alcohol", "must be a list of text"), (["alcohol", 3], "must contain only text")],
)
def test_presenting_needs_must_be_a_list_of_text(needs: object, message: str) -> None:
    with pytest.raises(InvalidValueError, match=f"presenting_needs {message}"):
        opened_case(presenting_needs=needs)


@pytest.mark.parametrize(
    ("assessment", "message"),
    [
        ("medical", "assessments[0] must be an object"),
        ({"domain": "medical", "level": "low", "score": "high"}, "assessments[0].score"),
        ({"domain": "medical", "level": "low", "score": True}, "assessments[0].score"),
        ({"domain": "medical", "level": "low", "score": float("nan")}, "finite number"),
        ({"domain": "medical", "level": "low", "score": float("inf")}, "finite number"),
        ({"domain": "medical", "level": "low", "score": float("-inf")}, "finite number"),
    ],
)
def test_an_assessment_entry_must_be_an_object_with_a_numeric_score(
    assessment: object, message: str
) -> None:
    case = opened_case()

    with pytest.raises(InvalidValueError, match=re.escape(message)):
        case.assess_needs([assessment])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("start", "rating", "message"),
    [
        ("2021-01-01", 3, "started_on must be a date"),
        (None, "4", "whole number from 1 to 5"),
        (None, 3.5, "whole number from 1 to 5"),
    ],
)
def test_prior_treatment_dates_and_rating_must_have_the_right_type(
    start: object, rating: object, message: str
) -> None:
    case = opened_case()

    with pytest.raises(InvalidValueError, match=message):
        case.review_prior_treatment("CBT", "", start, None, "", rating, "")  # type: ignore[arg-type]
