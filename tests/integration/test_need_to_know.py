"""Need-to-know through the service, on both stores: who reads a Part 2 case in full, who
sees placeholders, who gets 404 for a psychotherapy note, and break-glass reads."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.consent import form_hash
from caserecord.domain.errors import (
    InvalidValueError,
    NoteNotFoundError,
    OverrideNotAllowedError,
    ReasonRequiredError,
)
from caserecord.domain.recording import Actor
from caserecord.history import case_as_of, case_timeline
from tests.factories import a_client

OTHER = Actor("worker-2", "caseworker", "agency-a")
TEAMMATE = Actor("worker-3", "caseworker", "agency-a")
REVIEWER = Actor("rita", "compliance_reviewer", "agency-a")


def a_part2_case(records: CaseRecords, worker: Actor) -> tuple[UUID, str, str]:
    """A substance-use case managed by ``worker``, with a note (a Part 2 record, as every
    entry of the case) and a psychotherapy note, both by ``worker``."""
    case_id = records.open_case(
        worker,
        client_id=a_client(records, worker),
        specialty="substance_abuse",
        referral_source="drug court",
        presenting_needs=["opioid use"],
        interview_summary="Wants treatment.",
        case_manager_id=worker.id,
    ).id
    note = records.record_note(
        worker, case_id, text="Talked about relapse.", contact_mode="in_person"
    )
    psy = records.record_note(
        worker,
        case_id,
        text="Session content.",
        contact_mode="in_person",
        labels=["psychotherapy_notes"],
    )
    assert note.entity_id and psy.entity_id
    return case_id, note.entity_id, psy.entity_id


def restricted_notes(case: dict[str, Any]) -> list[bool]:
    return [bool(n["restricted"]) for n in case["notes"]]


def test_the_case_manager_reads_the_part_2_case_and_their_own_psychotherapy_note(
    records: CaseRecords, worker: Actor
) -> None:
    case_id, _, psy = a_part2_case(records, worker)

    case = records.get_case(worker, case_id)

    assert case["read_basis"] == "own_case"
    assert case["interview_summary"] == "Wants treatment."
    assert restricted_notes(case) == [False, False]
    assert records.get_note(worker, case_id, psy)["text"] == "Session content."


def test_a_caseworker_outside_the_case_sees_placeholders_and_no_psychotherapy_note(
    records: CaseRecords, worker: Actor
) -> None:
    case_id, note_id, psy = a_part2_case(records, worker)

    case = records.get_case(OTHER, case_id)
    note = records.get_note(OTHER, case_id, note_id)
    page = records.case_notes(OTHER, case_id, limit=10)

    assert case["read_basis"] == "other"
    assert case["restricted"] is True
    assert case["interview_summary"] == "" and case["presenting_needs"] == []
    assert restricted_notes(case) == [True, True]
    assert all(n["text"] == "" for n in case["notes"])
    assert note["restricted"] is True and note["text"] == ""
    assert note["labels"] == ["substance_use"]
    assert [n["restricted"] for n in page["items"]] == [True, True]
    with pytest.raises(NoteNotFoundError):
        records.get_note(OTHER, case_id, psy)


def test_the_care_team_and_the_supervisor_read_all_but_psychotherapy_notes(
    records: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    admin = Actor("admin-1", "admin", "agency-a")
    for staff_id in (worker.id, TEAMMATE.id):
        records.add_staff_member(admin, staff_id=staff_id, name=staff_id, role="case_manager")
    case_id, _, psy = a_part2_case(records, worker)
    records.add_care_team_member(worker, case_id, role="therapist", staff_id=TEAMMATE.id)

    for reader, basis in ((TEAMMATE, "care_team"), (supervisor, "supervisor")):
        case = records.get_case(reader, case_id)
        assert case["read_basis"] == basis
        assert case["interview_summary"] == "Wants treatment."
        assert restricted_notes(case) == [False, True]
        with pytest.raises(NoteNotFoundError):
            records.get_note(reader, case_id, psy)


def test_a_reviewer_reads_everything_logged_but_psychotherapy_notes(
    records: CaseRecords, worker: Actor
) -> None:
    case_id, _, _ = a_part2_case(records, worker)

    case = records.get_case(REVIEWER, case_id)

    assert case["read_basis"] == "reviewer"
    assert restricted_notes(case) == [False, True]


def test_a_consent_naming_a_staff_member_opens_psychotherapy_notes_to_them(
    records: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    case_id, _, psy = a_part2_case(records, worker)
    client_id = records.client_of_case(worker, case_id)
    records.grant_consent(
        worker,
        client_id,
        recipient_kind="person",
        recipient=supervisor.id,
        purpose="treatment",
        data=["psychotherapy_notes"],
        form_sha256=form_hash(b"signed"),
        expires_on_event="end_of_treatment",
        expires_with_case=case_id,
    )

    assert records.get_note(supervisor, case_id, psy)["text"] == "Session content."


def test_a_break_glass_read_opens_the_case_for_its_minutes_with_its_reason(
    records: CaseRecords, worker: Actor
) -> None:
    case_id, _, psy = a_part2_case(records, worker)

    records.open_break_glass(OTHER, case_id, minutes=15, reason="client in crisis, CM away")
    case = records.get_case(OTHER, case_id)
    reading = records.read_basis(OTHER, case_id)

    assert case["read_basis"] == "break_glass"
    assert restricted_notes(case) == [False, True]
    assert reading.window is not None and reading.window.reason == "client in crisis, CM away"
    with pytest.raises(NoteNotFoundError):
        records.get_note(OTHER, case_id, psy)
    assert records.read_basis(TEAMMATE, case_id).basis == "other"


@pytest.mark.parametrize(
    ("actor", "minutes", "reason", "error"),
    [
        (REVIEWER, 10, "why", OverrideNotAllowedError),
        (OTHER, 0, "why", InvalidValueError),
        (OTHER, 241, "why", InvalidValueError),
        (OTHER, 10, " ", ReasonRequiredError),
    ],
)
def test_a_break_glass_read_is_refused_without_a_role_a_reason_or_sensible_minutes(
    records: CaseRecords,
    worker: Actor,
    actor: Actor,
    minutes: int,
    reason: str,
    error: type[Exception],
) -> None:
    case_id, _, _ = a_part2_case(records, worker)
    version = records.get_case(worker, case_id)["version"]

    with pytest.raises(error):
        records.open_break_glass(actor, case_id, minutes=minutes, reason=reason)
    assert records.get_case(worker, case_id)["version"] == version


def test_the_timeline_events_and_as_of_show_placeholders_to_a_caseworker_outside_the_case(
    records: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    case_id, _, _ = a_part2_case(records, worker)
    now = datetime.now(UTC)

    timeline = [e for e in case_timeline(records, OTHER, case_id) if e["stream_kind"] == "case"]
    events = [e for e in records.case_events(OTHER, case_id) if e["stream_id"] == case_id]
    as_of = case_as_of(records, OTHER, case_id, recorded_at=now)
    boss = [e for e in case_timeline(records, supervisor, case_id) if e["stream_kind"] == "case"]

    assert [e["restricted"] for e in timeline] == [True, True, True]
    assert all(e["data"] == {} and e["summary"] == e["event_type"] for e in timeline)
    assert [e["restricted"] for e in events] == [True, True, True]
    assert as_of["interview_summary"] == "" and as_of["read_basis"] == "other"
    assert [e["restricted"] for e in boss] == [False, False, True]  # the psychotherapy note
