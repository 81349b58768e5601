"""Benefits applications on a case: each step of the lifecycle and the guard that keeps it."""

from datetime import date
from typing import Any

import pytest
from eventsourcing.domain import Snapshot

from caserecord.domain.case import Case
from caserecord.domain.errors import (
    AlreadyInErrorError,
    BenefitApplicationNotFoundError,
    CaseClosedError,
    DuplicateIdError,
    EntryNotCorrectableError,
    InvalidTransitionError,
    InvalidValueError,
    ReasonRequiredError,
)
from caserecord.projections.worklist import benefit_items
from tests.unit.case_builders import mapper, opened_case

pytestmark = pytest.mark.usefixtures("as_worker")
SUBMITTED = date(2027, 1, 4)


def submitted(case: Case, program: str = "snap", app_id: str = "app-1") -> str:
    case.start_benefit_application(app_id, program, "County DSS")
    case.submit_benefit_application(app_id, SUBMITTED, None)
    return app_id


def approve(case: Case, app_id: str = "app-1", **overrides: Any) -> None:
    values: dict[str, Any] = {
        "application_id": app_id,
        "amount": 291.0,
        "frequency": "monthly",
        "starts_on": date(2027, 2, 1),
        "ends_on": date(2027, 7, 31),
        "renews_on": date(2027, 7, 1),
    } | overrides
    case.approve_benefit_application(**values)


def denied(case: Case) -> str:
    app_id = submitted(case)
    case.deny_benefit_application(app_id, "income over the limit", date(2027, 3, 1))
    return app_id


def test_an_application_starts_with_its_program_and_the_agency_applied_to() -> None:
    case = opened_case()

    case.start_benefit_application("app-1", "medicaid", "State Medicaid office")

    application = case.benefit_applications["app-1"]
    assert (application.program, application.agency_name) == ("medicaid", "State Medicaid office")
    assert application.status == "started"


def test_an_unknown_program_or_a_blank_agency_is_refused() -> None:
    case = opened_case()

    with pytest.raises(InvalidValueError, match="program must be one of"):
        case.start_benefit_application("app-1", "lottery", "County DSS")
    with pytest.raises(InvalidValueError, match="agency_name"):
        case.start_benefit_application("app-1", "snap", " ")
    assert case.benefit_applications == {}


def test_a_second_application_with_the_same_id_is_refused() -> None:
    case = opened_case()
    submitted(case)

    with pytest.raises(DuplicateIdError):
        case.start_benefit_application("app-1", "wic", "WIC clinic")


def test_a_submission_expects_a_decision_by_the_programs_processing_standard() -> None:
    case = opened_case()
    submitted(case, "snap")
    submitted(case, "medicaid", "app-2")

    assert case.benefit_applications["app-1"].expected_decision_on == date(2027, 2, 3)
    assert case.benefit_applications["app-2"].expected_decision_on == date(2027, 2, 18)


def test_a_submission_keeps_an_expected_decision_day_it_is_given() -> None:
    case = opened_case()
    case.start_benefit_application("app-1", "ssi", "SSA field office")

    case.submit_benefit_application("app-1", SUBMITTED, date(2027, 5, 1))

    assert case.benefit_applications["app-1"].expected_decision_on == date(2027, 5, 1)


def test_a_decision_expected_before_the_submission_is_refused() -> None:
    case = opened_case()
    case.start_benefit_application("app-1", "ssi", "SSA field office")

    with pytest.raises(InvalidValueError, match="before the submission"):
        case.submit_benefit_application("app-1", SUBMITTED, date(2027, 1, 1))


def test_a_step_on_an_application_the_case_does_not_hold_is_not_found() -> None:
    case = opened_case()

    with pytest.raises(BenefitApplicationNotFoundError):
        case.submit_benefit_application("nope", SUBMITTED, None)


def test_documents_are_requested_with_a_due_day_and_provided() -> None:
    case = opened_case()
    app_id = submitted(case)

    case.request_benefit_documents(app_id, "req-1", ["pay stubs", "lease"], date(2027, 1, 20))
    case.provide_benefit_documents(app_id, "req-1", date(2027, 1, 18))

    request = case.benefit_applications[app_id].documents[0]
    assert request.documents == ["pay stubs", "lease"]
    assert (request.due_on, request.provided_on) == (date(2027, 1, 20), date(2027, 1, 18))
    assert case.benefit_applications[app_id].outstanding() == []


def test_documents_are_requested_only_while_a_decision_is_awaited() -> None:
    case = opened_case()
    case.start_benefit_application("app-1", "snap", "County DSS")

    with pytest.raises(InvalidTransitionError, match="while a decision is awaited"):
        case.request_benefit_documents("app-1", "req-1", ["ID"], None)


def test_a_documents_request_names_a_document_and_is_met_once() -> None:
    case = opened_case()
    app_id = submitted(case)
    with pytest.raises(InvalidValueError, match="at least one document"):
        case.request_benefit_documents(app_id, "req-1", [], None)
    case.request_benefit_documents(app_id, "req-1", ["ID"], None)
    case.provide_benefit_documents(app_id, "req-1", date(2027, 1, 5))

    with pytest.raises(InvalidTransitionError, match="already met"):
        case.provide_benefit_documents(app_id, "req-1", date(2027, 1, 6))
    with pytest.raises(BenefitApplicationNotFoundError):
        case.provide_benefit_documents(app_id, "req-9", date(2027, 1, 6))


def test_an_appointment_is_scheduled_and_its_outcome_recorded_once() -> None:
    case = opened_case()
    app_id = submitted(case)

    case.schedule_benefit_appointment(app_id, "apt-1", "interview", date(2027, 1, 12), "Phone")
    case.record_benefit_appointment(app_id, "apt-1", "attended")

    appointment = case.benefit_applications[app_id].appointments[0]
    assert (appointment.kind, appointment.outcome) == ("interview", "attended")
    with pytest.raises(InvalidTransitionError, match="already recorded"):
        case.record_benefit_appointment(app_id, "apt-1", "missed")


def test_an_approval_records_the_amount_and_period_and_the_renewal() -> None:
    case = opened_case()
    app_id = submitted(case)

    approve(case, app_id)

    application = case.benefit_applications[app_id]
    assert application.status == "approved"
    assert application.statuses[-1].details == {
        "amount": 291.0,
        "frequency": "monthly",
        "starts_on": date(2027, 2, 1),
        "ends_on": date(2027, 7, 31),
    }
    assert application.renews_on == date(2027, 7, 1)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": -1.0}, "zero or more"),
        ({"amount": None}, "zero or more"),
        ({"frequency": "hourly"}, "frequency must be one of"),
        ({"starts_on": None}, "first day"),
        ({"ends_on": date(2027, 1, 1)}, "cannot end before it starts"),
    ],
)
def test_an_approval_without_a_sound_award_is_refused(
    overrides: dict[str, Any], message: str
) -> None:
    case = opened_case()
    app_id = submitted(case)

    with pytest.raises(InvalidValueError, match=message):
        approve(case, app_id, **overrides)
    assert case.benefit_applications[app_id].status == "submitted"


def test_an_application_not_yet_submitted_is_not_decided() -> None:
    case = opened_case()
    case.start_benefit_application("app-1", "snap", "County DSS")

    with pytest.raises(InvalidTransitionError, match="from started to approved"):
        approve(case)


def test_a_denial_says_why() -> None:
    case = opened_case()
    app_id = submitted(case)

    with pytest.raises(ReasonRequiredError):
        case.deny_benefit_application(app_id, "", None)


def test_a_denial_appealed_and_reversed_awaits_a_decision_again_then_is_approved() -> None:
    case = opened_case()
    app_id = denied(case)

    case.file_benefit_appeal(app_id, date(2027, 3, 15))
    assert case.benefit_applications[app_id].hearing_on == date(2027, 3, 15)
    case.decide_benefit_appeal(app_id, "reversed", "income miscounted")
    approve(case, app_id)

    statuses = [c.value for c in case.benefit_applications[app_id].statuses]
    assert statuses == ["started", "submitted", "denied", "appealed", "submitted", "approved"]
    assert case.benefit_applications[app_id].hearing_on is None


def test_an_appeal_upheld_leaves_the_application_denied() -> None:
    case = opened_case()
    app_id = denied(case)
    case.file_benefit_appeal(app_id, None)

    case.decide_benefit_appeal(app_id, "upheld", "")

    assert case.benefit_applications[app_id].status == "denied"


def test_only_a_denial_is_appealed_and_only_an_appeal_decided() -> None:
    case = opened_case()
    app_id = submitted(case)

    with pytest.raises(InvalidTransitionError):
        case.file_benefit_appeal(app_id, None)
    with pytest.raises(InvalidTransitionError, match="not appealed"):
        case.decide_benefit_appeal(app_id, "upheld", "")


def test_an_approved_benefit_renews_with_a_later_renewal_day() -> None:
    case = opened_case()
    app_id = submitted(case)
    approve(case, app_id)

    case.renew_benefit(app_id, date(2028, 1, 31), date(2028, 1, 1))

    application = case.benefit_applications[app_id]
    assert (application.status, application.renews_on) == ("approved", date(2028, 1, 1))
    assert application.statuses[-1].details["amount"] == 291.0
    with pytest.raises(InvalidValueError, match="falls after"):
        case.renew_benefit(app_id, None, date(2027, 12, 1))


def test_only_an_approved_benefit_renews() -> None:
    case = opened_case()
    app_id = denied(case)

    with pytest.raises(InvalidTransitionError, match="only an approved benefit renews"):
        case.renew_benefit(app_id, None, None)


def test_a_withdrawal_says_why_and_ends_the_application() -> None:
    case = opened_case()
    app_id = submitted(case)
    with pytest.raises(ReasonRequiredError):
        case.withdraw_benefit_application(app_id, " ")

    case.withdraw_benefit_application(app_id, "moved out of the county")

    assert case.benefit_applications[app_id].status == "withdrawn"
    with pytest.raises(InvalidTransitionError):
        approve(case, app_id)


def test_a_closed_case_takes_no_benefits_steps() -> None:
    case = opened_case()
    app_id = submitted(case)
    case.close("done", "ok")

    with pytest.raises(CaseClosedError):
        approve(case, app_id)


def test_the_lifecycle_replays_to_the_same_applications() -> None:
    case = opened_case()
    app_id = denied(case)
    case.file_benefit_appeal(app_id, date(2027, 3, 15))
    case.decide_benefit_appeal(app_id, "reversed", "")
    case.request_benefit_documents(app_id, "req-1", ["ID"], date(2027, 4, 1))
    approve(case, app_id)
    codec = mapper()

    stored = [codec.to_stored_event(e) for e in case.collect_events()]
    replayed: Any = None
    for s in stored:
        replayed = codec.to_domain_event(s).mutate(replayed)  # type: ignore[attr-defined]

    assert replayed.benefit_applications == case.benefit_applications


def test_a_snapshot_taken_before_cases_held_benefits_applications_reads_as_none() -> None:
    case = opened_case()
    case.collect_events()
    codec = mapper()
    stored = codec.to_stored_event(Snapshot.take(case))
    state = codec.transcoder.decode(stored.state)
    state["state"].pop("benefit_applications")
    state["state"]["class_version"] = 10
    old = type(stored)(
        stored.originator_id,
        stored.originator_version,
        stored.topic,
        codec.transcoder.encode(state),
    )

    read: Any = codec.to_domain_event(old).mutate(None)  # type: ignore[attr-defined]

    assert read.benefit_applications == {}


def test_each_awaited_step_is_one_worklist_item_due_on_its_day() -> None:
    case = opened_case()
    app_id = submitted(case, "housing_assistance")
    case.request_benefit_documents(app_id, "req-1", ["ID"], date(2027, 2, 1))
    case.request_benefit_documents(app_id, "req-2", ["lease"], date(2027, 1, 25))
    case.schedule_benefit_appointment(app_id, "apt-1", "home_visit", date(2027, 1, 30), "")
    case.deny_benefit_application(app_id, "no vacancy", None)
    case.file_benefit_appeal(app_id, date(2027, 3, 1))

    appealed = benefit_items(case.benefit_applications[app_id])
    case.decide_benefit_appeal(app_id, "reversed", "")
    pending = benefit_items(case.benefit_applications[app_id])

    assert [(kind, due) for kind, _, due, _, _ in appealed] == [
        ("benefit_documents", date(2027, 1, 25)),
        ("benefit_appointment", date(2027, 1, 30)),
        ("benefit_hearing", date(2027, 3, 1)),
    ]
    assert pending[0][:3] == ("benefit_decision", app_id, date(2027, 4, 4))
    assert pending[0][3] == "Housing assistance: decision expected"


def test_a_decided_or_withdrawn_application_leaves_only_its_renewal_due() -> None:
    case = opened_case()
    approved = submitted(case)
    case.schedule_benefit_appointment(approved, "apt-1", "interview", date(2027, 1, 30), "")
    approve(case, approved)
    withdrawn = submitted(case, "wic", "app-2")
    case.withdraw_benefit_application(withdrawn, "moved")

    assert [i[0] for i in benefit_items(case.benefit_applications[approved])] == ["benefit_renewal"]
    assert benefit_items(case.benefit_applications[withdrawn]) == []


def test_a_submission_too_late_in_the_calendar_for_a_deadline_is_refused() -> None:
    case = opened_case()
    case.start_benefit_application("app-1", "snap", "County DSS")

    with pytest.raises(InvalidValueError, match="too late"):
        case.submit_benefit_application("app-1", date(9999, 12, 30), None)


# ---- steps marked in error -------------------------------------------------------------
def test_a_documents_request_marked_in_error_stands_aside_and_is_no_longer_due() -> None:
    case = opened_case()
    app_id = submitted(case)
    case.request_benefit_documents(app_id, "req-1", ["pay stubs"], date(2027, 2, 1))

    case.mark_entry_in_error(case.version, "asked of the wrong client")

    application = case.benefit_applications[app_id]
    assert application.documents[0].in_error is True  # shown, set aside
    assert application.outstanding() == []
    assert [kind for kind, *_ in benefit_items(application)] == ["benefit_decision"]
    with pytest.raises(BenefitApplicationNotFoundError):
        case.provide_benefit_documents(app_id, "req-1", date(2027, 1, 20))


def test_documents_provided_in_error_are_outstanding_again_and_provided_later() -> None:
    case = opened_case()
    app_id = submitted(case)
    case.request_benefit_documents(app_id, "req-1", ["pay stubs"], date(2027, 2, 1))
    case.provide_benefit_documents(app_id, "req-1", date(2027, 1, 20))

    case.mark_entry_in_error(case.version, "the stubs were for another month")
    outstanding = [r.request_id for r in case.benefit_applications[app_id].outstanding()]
    case.provide_benefit_documents(app_id, "req-1", date(2027, 1, 25))

    assert outstanding == ["req-1"]
    assert case.benefit_applications[app_id].documents[0].provided_on == date(2027, 1, 25)


def test_an_appointment_and_its_outcome_are_each_marked_in_error() -> None:
    case = opened_case()
    app_id = submitted(case)
    case.schedule_benefit_appointment(app_id, "apt-1", "interview", date(2027, 1, 20), "DSS")
    scheduled = case.version
    case.schedule_benefit_appointment(app_id, "apt-2", "interview", date(2027, 1, 27), "DSS")
    case.record_benefit_appointment(app_id, "apt-2", "missed")

    case.mark_entry_in_error(case.version, "the client did attend")
    case.mark_entry_in_error(scheduled, "scheduled twice")

    first, second = case.benefit_applications[app_id].appointments
    assert (first.in_error, second.outcome, second.outcome_in) == (True, "", None)
    assert [a.appointment_id for a in case.benefit_applications[app_id].upcoming()] == ["apt-2"]
    case.record_benefit_appointment(app_id, "apt-2", "attended")


def test_a_decision_in_error_returns_the_application_to_awaiting_one() -> None:
    case = opened_case()
    app_id = submitted(case)
    approve(case)

    case.mark_entry_in_error(case.version, "the approval was for another household")

    application = case.benefit_applications[app_id]
    assert (application.status, application.renews_on) == ("submitted", None)
    assert [(c.value, c.in_error) for c in application.statuses] == [
        ("started", False),
        ("submitted", False),
        ("approved", True),
    ]
    case.deny_benefit_application(app_id, "income over the limit", None)


def test_an_appeal_decision_in_error_leaves_the_appeal_awaiting_its_hearing() -> None:
    case = opened_case()
    app_id = denied(case)
    case.file_benefit_appeal(app_id, date(2027, 4, 2))
    case.decide_benefit_appeal(app_id, "upheld", "")

    case.mark_entry_in_error(case.version, "the hearing was postponed, not decided")

    application = case.benefit_applications[app_id]
    assert (application.status, application.hearing_on) == ("appealed", date(2027, 4, 2))


def test_a_submission_in_error_is_refused_while_steps_await_its_decision() -> None:
    case = opened_case()
    app_id = submitted(case)
    submission = case.version
    case.request_benefit_documents(app_id, "req-1", ["ID"], None)

    with pytest.raises(EntryNotCorrectableError, match="documents or appointments"):
        case.mark_entry_in_error(submission, "not submitted yet")
    case.mark_entry_in_error(case.version, "no documents were asked")
    case.mark_entry_in_error(submission, "not submitted yet")

    application = case.benefit_applications[app_id]
    assert (application.status, application.submitted_on) == ("started", None)
    assert application.expected_decision_on is None


def test_only_the_latest_status_step_and_never_a_renewal_is_marked_in_error() -> None:
    case = opened_case()
    app_id = submitted(case)
    submission = case.version
    approve(case)
    case.renew_benefit(app_id, date(2028, 1, 31), date(2028, 1, 1))

    with pytest.raises(EntryNotCorrectableError, match="renewal"):
        case.mark_entry_in_error(case.version, "renewed by mistake")
    with pytest.raises(EntryNotCorrectableError, match="only the latest"):
        case.mark_entry_in_error(submission, "wrong day")


def test_an_application_started_in_error_takes_no_more_steps() -> None:
    case = opened_case()
    app_id = submitted(case)
    started = case.benefit_applications[app_id].version

    case.mark_entry_in_error(started, "the client never applied")

    assert case.benefit_applications[app_id].in_error is True
    with pytest.raises(BenefitApplicationNotFoundError):
        case.request_benefit_documents(app_id, "req-1", ["ID"], None)
    with pytest.raises(AlreadyInErrorError):
        case.mark_entry_in_error(started + 1, "submitted in error too")


def test_marked_steps_replay_to_the_same_applications() -> None:
    case = opened_case()
    app_id = submitted(case)
    case.request_benefit_documents(app_id, "req-1", ["ID"], None)
    case.provide_benefit_documents(app_id, "req-1", date(2027, 1, 9))
    case.mark_entry_in_error(case.version, "not provided")
    approve(case)
    case.mark_entry_in_error(case.version, "not approved")
    codec = mapper()
    stored = [codec.to_stored_event(e) for e in case.collect_events()]

    replayed: Any = None
    for s in stored:
        replayed = codec.to_domain_event(s).mutate(replayed)  # type: ignore[attr-defined]

    assert replayed.benefit_applications == case.benefit_applications


def test_an_appeal_filed_in_error_is_undone_though_the_submission_had_documents() -> None:
    case = opened_case()
    app_id = submitted(case)
    case.request_benefit_documents(app_id, "req-1", ["ID"], None)
    case.deny_benefit_application(app_id, "income over the limit", None)
    case.file_benefit_appeal(app_id, date(2027, 4, 2))

    case.mark_entry_in_error(case.version, "the client chose not to appeal")

    application = case.benefit_applications[app_id]
    assert (application.status, application.hearing_on) == ("denied", None)
