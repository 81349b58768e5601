"""Builders for domain unit tests: plain aggregates recorded under a recording context."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    UUIDAsHex,
)

from caserecord.domain.base import RecordAggregate
from caserecord.domain.case import Case
from caserecord.domain.entities import Recorded
from caserecord.domain.recording import Actor, Recording, recording
from caserecord.transcodings import all_transcodings

WORKER = Actor("worker-1", "caseworker", "agency-a")
SUPERVISOR = Actor("super-1", "supervisor", "agency-a")
CLIENT_ID = UUID("00000000-0000-4000-8000-000000000001")
CORRELATION_ID = "corr-1"


@contextmanager
def as_actor(actor: Actor = WORKER, **options: Any) -> Iterator[Recording]:
    with recording(Recording(actor, **options)) as rec:
        yield rec


def opened_case(**overrides: Any) -> Case:
    values: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "agency_id": "agency-a",
        "specialty": "mental_health",
        "referral_source": "GP",
        "presenting_needs": ["low mood"],
        "interview_summary": "Referred by GP after a crisis visit.",
        "case_manager_id": "worker-1",
    } | overrides
    return Case(**values)


def with_plan(case: Case, *, activate: bool = True) -> str:
    plan_id = str(uuid4())
    case.draft_plan(
        plan_id,
        "Stabilisation plan",
        [{"activity": "Counselling", "cadence": "weekly", "time": "10:00"}],
        date(2027, 1, 1),
    )
    if activate:
        case.activate_plan(plan_id)
    return plan_id


def with_goal(case: Case, plan_id: str, *, lifecycle: str | None = "active") -> str:
    goal_id = str(uuid4())
    case.add_goal(goal_id, plan_id, "Sleep through the night", "psychiatric", "6h", None)
    if lifecycle is not None:
        case.change_goal_lifecycle(goal_id, lifecycle)
    return goal_id


def with_referral(case: Case, *, accepted: bool = False) -> str:
    referral_id = str(uuid4())
    case.make_referral(
        referral_id, "support_group", "Mind", "Peer support", "isolation", "routine", None
    )
    if accepted:
        case.accept_referral(referral_id)
    return referral_id


def with_task(case: Case, *, owner: str = "worker-1", due_on: date | None = None) -> str:
    task_id = str(uuid4())
    case.create_task(
        task_id, "Call the housing office", owner, due_on or date(2027, 1, 1), "case", ""
    )
    return task_id


def with_note(case: Case) -> str:
    note_id = str(uuid4())
    case.record_note(note_id, "Client attended.", "client", "in_person", ["client"])
    return note_id


def recorded_entries(case: Case) -> dict[int, Recorded]:
    """What the record's entry index would say of the case's notes, addenda and progress,
    from its events not yet collected (a domain test saves none)."""
    found: dict[int, Recorded] = {}
    notes: dict[str, int] = {}
    for event in case.pending_events:
        v = event.originator_version
        if isinstance(event, Case.ProgressNoteRecorded):
            notes[event.note_id] = v
            found[v] = Recorded(v, "note", event.note_id)
        elif isinstance(event, Case.AddendumAppended):
            found[v] = Recorded(v, "addendum", event.note_id, notes.get(event.note_id))
        elif isinstance(event, Case.GoalProgressRecorded):
            found[v] = Recorded(v, "progress", event.goal_id)
    return found


def note_entry(case: Case, note_id: str) -> Recorded | None:
    """The note as the service would find it in the record's entry index."""
    found = recorded_entries(case).values()
    return next((e for e in found if e.kind == "note" and e.entity_id == note_id), None)


def add_addendum(case: Case, note_id: str, text: str) -> None:
    """``append_addendum`` with the note the service would hand it."""
    case.append_addendum(note_id, text, note_entry(case, note_id))


def mark_in_error(case: Case, version: int, reason: str) -> None:
    """``mark_entry_in_error`` with the entry the service would hand it."""
    case.mark_entry_in_error(version, reason, recorded_entries(case).get(version))


def last_event(case: Case) -> RecordAggregate.Event:
    """The most recent pending event (kept pending: the entries the service would find in
    the record are read from them)."""
    event = case.pending_events[-1]
    assert isinstance(event, RecordAggregate.Event)
    return event


def payload(event: RecordAggregate.Event) -> dict[str, Any]:
    return dict(vars(event))


def mapper() -> Mapper[UUID]:
    """The storage encoding CaseRecords uses (without a database)."""
    transcoder = JSONTranscoder()
    for transcoding in [UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), *all_transcodings()]:
        transcoder.register(transcoding)
    return Mapper(transcoder=transcoder)
