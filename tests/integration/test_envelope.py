"""The envelope every event carries: actor, recorded and effective time, reason, correlation."""

from datetime import UTC, date, datetime, timedelta, timezone
from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.base import RecordAggregate
from caserecord.domain.case import Case
from caserecord.domain.client import Client
from caserecord.domain.errors import (
    EffectiveTimeInFutureError,
    InvalidValueError,
    MissingActorError,
)
from caserecord.domain.recording import Actor, Recording
from tests.factories import a_client, an_active_plan, an_open_case
from tests.unit.case_builders import opened_case


def catalogue(aggregate: type[RecordAggregate]) -> set[str]:
    """The event classes an aggregate declares itself."""
    return {
        name
        for name, value in vars(aggregate).items()
        if isinstance(value, type)
        and issubclass(value, RecordAggregate.Event)
        and name not in ("Event", "Created")
    }


def record_every_event(app: CaseRecords, actor: Actor, boss: Actor) -> UUID:
    """One command for every event type of the catalogue, on one case and its client."""
    client_id = a_client(app, actor)
    contact = app.add_support_contact(actor, client_id, name="Eva", relationship="family")
    assert contact.entity_id is not None
    app.remove_support_contact(actor, client_id, contact_id=contact.entity_id, reason="asked")
    app.correct_client_details(actor, client_id, changes={"phone": "555-0199"}, reason="new")
    case_id = an_open_case(app, actor, client_id, waitlisted=True)
    app.start_service(actor, case_id)
    app.put_case_on_hold(actor, case_id, reason="inpatient stay")
    app.resume_case(actor, case_id)
    app.assess_needs(actor, case_id, assessments=[{"domain": "medical", "level": "low"}])
    app.review_prior_treatment(actor, case_id, treatment="Detox", effectiveness=3)
    app.assign_case_manager(boss, case_id, case_manager_id="worker-2", reason="leave")
    # The case's manager writes to it (ADR 0023) until the transfer back below.
    worker, actor = actor, Actor("worker-2", actor.role, actor.agency_id)
    plan_id = an_active_plan(app, actor, case_id)
    app.revise_plan(actor, case_id, plan_id=plan_id, title="v2", activities=[], reason="why")
    for action in ("suspend", "resume"):
        app.change_plan_status(actor, case_id, plan_id=plan_id, action=action, reason="r")
    goal = app.add_goal(actor, case_id, plan_id=plan_id, description="G", need_domain="medical")
    assert goal.entity_id is not None
    app.revise_goal(actor, case_id, goal_id=goal.entity_id, description="G2", need_domain="medical")
    app.change_goal_lifecycle(actor, case_id, goal_id=goal.entity_id, lifecycle="active")
    app.record_goal_progress(actor, case_id, goal_id=goal.entity_id, achievement="improving")
    app.review_plan(
        actor, case_id, plan_id=plan_id, outcome="continue", next_review_on=date(2999, 1, 1)
    )
    app.settle_goal(actor, case_id, goal_id=goal.entity_id, settlement="carried-over")
    app.change_plan_status(actor, case_id, plan_id=plan_id, action="complete")
    plan_id = an_active_plan(app, actor, case_id)
    task = app.create_task(
        actor, case_id, title="Call", owner_id="worker-1", due_on=date(2027, 1, 1)
    )
    assert task.entity_id is not None
    app.reassign_task(actor, case_id, task_id=task.entity_id, owner_id="worker-2")
    app.complete_task(actor, case_id, task_id=task.entity_id)
    app.create_task(actor, case_id, title="Visit", owner_id="worker-1", due_on=date(2027, 1, 1))
    app.change_plan_status(
        actor, case_id, plan_id=plan_id, action="revoke", reason="r",
        goals={goal.entity_id: "no-longer-relevant"},
    )  # fmt: skip
    refs = [
        app.make_referral(actor, case_id, resource_kind="legal", organisation="O", service_name=s)
        for s in ("a", "b", "c")
    ]
    a, b, c = (r.entity_id or "" for r in refs)
    app.accept_referral(actor, case_id, referral_id=a)
    app.complete_referral(actor, case_id, referral_id=a, outcome="need_met")
    app.decline_referral(actor, case_id, referral_id=b, declined_by="provider", reason="full")
    app.withdraw_referral(actor, case_id, referral_id=c, reason="not needed")
    loop = app.make_referral(
        actor, case_id, resource_kind="legal", organisation="O", service_name="e"
    ).entity_id
    assert loop is not None
    for move in ("receive", "waitlist", "accept", "start"):
        getattr(app, f"{move}_referral")(actor, case_id, referral_id=loop)
    app.complete_referral(actor, case_id, referral_id=loop, outcome="partly_met")
    note = app.record_note(actor, case_id, text="Hi", contact_kind="client", contact_mode="phone")
    assert note.entity_id is not None
    app.append_addendum(actor, case_id, note_id=note.entity_id, text="later")
    app.mark_entry_in_error(boss, case_id, target_version=note.version + 1, reason="wrong")
    member = app.add_care_team_member(actor, case_id, role="guardian", name="Gil").entity_id
    assert member is not None
    app.end_care_team_member(actor, case_id, member_id=member, reason="moved")
    for answer in ("decline", "cancel", "accept"):
        transfer = app.request_transfer(
            actor, case_id, to_staff_id=worker.id, handoff_summary="over to you"
        ).entity_id
        assert transfer is not None
        getattr(app, f"{answer}_transfer")(boss, case_id, transfer_id=transfer, reason="r")
    actor = worker
    flagged = app.administer_instrument(
        actor, case_id, instrument="phq-9", respondent="client",
        responses={str(i): 1 for i in range(1, 10)},
    )  # fmt: skip
    app.review_safety_flag(actor, case_id, flag_version=flagged.version, note="Called.")
    kept = app.make_referral(
        actor, case_id, resource_kind="legal", organisation="O", service_name="d"
    )
    assert kept.entity_id is not None
    app.relabel_entry(boss, case_id, target_version=note.version, labels=["hiv"], reason="said")
    record_every_benefits_step(app, actor, case_id)
    app.open_break_glass(boss, case_id, minutes=5, reason="crisis")
    consent = app.grant_consent(
        actor,
        client_id,
        recipient_kind="organisation",
        recipient="O",
        purpose="legal",
        data=["all"],
        form_sha256="0" * 64,
        expires_on_event="case_closed",
        expires_with_case=case_id,
    ).entity_id
    app.revoke_consent(actor, client_id, consent_id=consent or "")
    app.record_disclosure(
        boss,
        client_id,
        recipient_kind="organisation",
        recipient="County Hospital",
        purpose="treatment",
        channel="phone",
        data_classes=["hiv"],
        basis="medical_emergency",
        reason="unconscious in the office",
    )
    app.request_accounting(actor, client_id, since=datetime(2020, 1, 1, tzinfo=UTC), part2=False)
    app.close_case(
        boss, case_id, outcome="met", reason="done",
        referrals={kept.entity_id: {"settlement": "leave_open", "reason": "awaiting"}},
    )  # fmt: skip
    app.reopen_case(boss, case_id, reason="back")
    return case_id


def record_every_benefits_step(app: CaseRecords, actor: Actor, case_id: UUID) -> None:
    day = date(2027, 1, 4)
    first = app.start_benefit_application(
        actor, case_id, program="snap", agency_name="DSS", submitted_on=day
    ).entity_id
    second = app.start_benefit_application(actor, case_id, program="ssi", agency_name="SSA")
    a, b = first or "", second.entity_id or ""
    request = app.request_benefit_documents(actor, case_id, application_id=a, documents=["ID"])
    app.provide_benefit_documents(
        actor, case_id, application_id=a, request_id=request.entity_id or "", provided_on=day
    )
    meeting = app.schedule_benefit_appointment(
        actor, case_id, application_id=a, kind="interview", on=day
    )
    app.record_benefit_appointment(
        actor, case_id, application_id=a, appointment_id=meeting.entity_id or "",
        outcome="attended",
    )  # fmt: skip
    app.decide_benefit_application(actor, case_id, application_id=a, decision="denied", reason="r")
    app.file_benefit_appeal(actor, case_id, application_id=a)
    app.decide_benefit_appeal(actor, case_id, application_id=a, outcome="reversed")
    app.decide_benefit_application(
        actor, case_id, application_id=a, decision="approved", amount=10.0,
        frequency="monthly", starts_on=day,
    )  # fmt: skip
    app.renew_benefit(actor, case_id, application_id=a)
    app.withdraw_benefit_application(actor, case_id, application_id=b, reason="moved")


def test_every_event_of_the_catalogue_is_recorded_with_a_full_envelope(
    sqlite_records: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    case_id = record_every_event(sqlite_records, worker, supervisor)

    events = sqlite_records.case_events(worker, case_id)

    assert {e["type"] for e in events} == catalogue(Case) | catalogue(Client)
    assert len(catalogue(Case)) == 60 and len(catalogue(Client)) == 9
    for e in events:
        assert e["actor"]["id"] in ("worker-1", "worker-2", "super-1"), e["type"]
        assert e["actor"]["role"] in ("caseworker", "supervisor"), e["type"]
        assert e["actor"]["agency_id"] == "agency-a", e["type"]
        assert e["effective_at"] == e["recorded_at"], e["type"]
        assert e["recorded_at"].tzinfo is not None, e["type"]
        assert UUID(e["correlation_id"]), e["type"]
    # A command's events share its correlation id: the revocation settles a goal first,
    # the closing leaves a referral open and cancels a task, an application is started
    # already submitted, and a referral and the disclosure it makes are one request.
    shared = len([e for e in events if e["type"] == "DisclosureRecorded"])
    assert len({e["correlation_id"] for e in events}) == len(events) - 4 - shared


def test_reasons_given_to_a_command_travel_in_the_envelope(
    sqlite_records: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    sqlite_records.assign_case_manager(
        supervisor, case_id, case_manager_id="worker-2", reason="caseload", correlation_id="req-9"
    )

    event = sqlite_records.case_events(worker, case_id)[-1]

    assert event["type"] == "CaseManagerAssigned"
    assert (event["reason"], event["correlation_id"]) == ("caseload", "req-9")
    assert event["data"] == {"case_manager_id": "worker-2"}


def test_a_late_entry_keeps_when_it_happened_apart_from_when_it_was_recorded(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    happened = datetime.now(UTC) - timedelta(days=3)
    case_id = an_open_case(sqlite_records, worker, effective_at=happened)

    sqlite_records.record_note(
        worker, case_id, text="Visit", contact_kind="client", contact_mode="in_person",
        effective_at=happened,
    )  # fmt: skip

    event = sqlite_records.case_events(worker, case_id)[-1]
    assert event["effective_at"] == happened
    assert event["recorded_at"] > happened


def test_an_effective_time_in_the_future_is_refused_and_nothing_is_stored(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)

    with pytest.raises(EffectiveTimeInFutureError) as refused:
        sqlite_records.record_note(
            worker, case_id, text="Visit", contact_kind="client", contact_mode="phone",
            effective_at=datetime.now(UTC) + timedelta(minutes=5),
        )  # fmt: skip

    assert refused.value.code == "effective_time_in_future"
    assert "cannot be recorded before it happens" in refused.value.message
    assert sqlite_records.get_case(worker, case_id)["version"] == 1
    assert len(sqlite_records.case_events(worker, case_id)) == 2  # registered + opened


def test_an_effective_time_in_the_future_is_refused_for_a_new_case_too(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    client_id = a_client(sqlite_records, worker)

    with pytest.raises(EffectiveTimeInFutureError):
        sqlite_records.open_case(
            worker, client_id=client_id, specialty="medical", referral_source="GP",
            presenting_needs=[], interview_summary="", case_manager_id="worker-1",
            effective_at=datetime.now(UTC) + timedelta(days=1),
        )  # fmt: skip

    assert sqlite_records.recorder.max_notification_id() == 1


def test_an_effective_time_without_a_timezone_is_refused(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)

    with pytest.raises(InvalidValueError, match="timezone"):
        sqlite_records.close_case(
            worker, case_id, outcome="", reason="done", effective_at=datetime(2026, 1, 1)
        )


def test_an_event_cannot_be_recorded_without_an_actor() -> None:
    with pytest.raises(MissingActorError) as refused:
        opened_case()

    assert refused.value.code == "missing_actor"


@pytest.mark.parametrize(
    ("actor_id", "role", "agency", "message"),
    [
        ("w", "janitor", "a", "actor role must be one of"),
        (" ", "caseworker", "a", "actor id and agency are required"),
        ("w", "caseworker", "", "actor id and agency are required"),
    ],
)
def test_an_actor_needs_an_id_a_known_role_and_an_agency(
    actor_id: str, role: str, agency: str, message: str
) -> None:
    with pytest.raises(InvalidValueError, match=message):
        Actor(actor_id, role, agency)


def test_events_read_back_from_the_store_keep_their_envelope_types(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)

    (stored,) = sqlite_records.repository.event_store.get(case_id)

    assert isinstance(stored, Case.Opened)
    assert isinstance(stored.effective_at, datetime)
    assert stored.effective_at == stored.timestamp
    assert vars(stored)["actor_role"] == "caseworker"


def test_an_effective_time_is_kept_in_utc_whatever_offset_it_was_given_in() -> None:
    given = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=-5)))

    rec = Recording(Actor("w", "caseworker", "a"), effective_at=given)

    assert rec.effective_at == given
    assert rec.effective_at is not None and rec.effective_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),  # no UTC equivalent
        datetime(1899, 12, 31, tzinfo=UTC),
    ],
)
def test_an_effective_time_outside_the_record_s_range_is_refused(moment: datetime) -> None:
    with pytest.raises(InvalidValueError):
        Recording(Actor("w", "caseworker", "a"), effective_at=moment)
