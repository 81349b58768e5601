"""Plain data out: aggregates and events as dicts, so no aggregate leaks past the service."""

import dataclasses
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from operator import attrgetter
from types import UnionType
from typing import Any, TypeVar, get_args
from uuid import UUID

from eventsourcing.utils import get_topic

from caserecord.domain.base import RecordAggregate
from caserecord.domain.benefits import BenefitApplication
from caserecord.domain.case import Case
from caserecord.domain.client import Client
from caserecord.domain.entities import Addendum, Change, Goal, Note, Referral, Task, current
from caserecord.domain.values import EXPIRED, referral_expired
from caserecord.entries import Entries

SCALARS = frozenset({str, int, float, bool, type(None), datetime, date, UUID})
Shape = tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]], tuple[str, ...]]
_SHAPES: dict[type, Shape] = {}
T = TypeVar("T")


def shape(cls: type) -> Shape:
    """A dataclass's field names, a getter of all their values at once, and the fields
    whose values may need converting in turn (those not declared as plain scalars)."""
    fields = dataclasses.fields(cls)
    names = tuple(f.name for f in fields)
    nested = tuple(f.name for f in fields if not is_scalar_type(f.type))
    get = attrgetter(*names) if len(names) > 1 else (lambda o: (getattr(o, names[0]),))
    return names, get, nested


def is_scalar_type(declared: Any) -> bool:
    if isinstance(declared, UnionType):
        return all(is_scalar_type(t) for t in get_args(declared))
    return declared in SCALARS


def plain(obj: Any) -> Any:
    # A long case is tens of thousands of values: scalars are settled by one set lookup,
    # and a part of a case is copied field by field in C, converting only the fields that
    # can hold more than a scalar.
    cls = type(obj)
    if cls in SCALARS:
        return obj
    if cls is dict:  # before asking whether it is a dataclass: most often it is a dict
        return {k: v if type(v) in SCALARS else plain(v) for k, v in obj.items()}
    found = _SHAPES.get(cls)
    if found is None and dataclasses.is_dataclass(cls):
        found = _SHAPES[cls] = shape(cls)
    if found is not None:
        names, get, nested = found
        data = dict(zip(names, get(obj), strict=True))
        for name in nested:
            data[name] = plain(data[name])
        return data
    if isinstance(obj, dict):
        return {k: v if type(v) in SCALARS else plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [v if type(v) in SCALARS else plain(v) for v in obj]
    return obj


def valid(items: list[Any]) -> list[Any]:
    return [plain(i) for i in items if not i.in_error]


def changes(items: list[Change]) -> list[dict[str, Any]]:
    # Field by field rather than through plain(): a plan suspended and resumed for years
    # has a status history of hundreds, shown on every read of the case.
    return [
        {
            "version": c.version,
            "value": c.value,
            "details": plain(c.details) if c.details else {},
            "in_error": c.in_error,
        }
        for c in items
    ]


def client_to_dict(client: Client) -> dict[str, Any]:
    return {
        "id": client.id,
        "version": client.version,
        "agency_id": client.agency_id,
        "given_name": client.given_name,
        "family_name": client.family_name,
        "date_of_birth": client.date_of_birth,
        "client_number": client.client_number,
        "preferred_language": client.preferred_language,
        "phone": client.phone,
        "email": client.email,
        "address": client.address,
        "support_contacts": [
            plain(c) for c in client.support_contacts.values() if c.removed_in is None
        ],
        "registered_at": client.created_on,
        "modified_at": client.modified_on,
    }


RECENT = 20
"""Entries of each long list a case shows when read whole (notes, referrals, each goal's
progress): the latest ones, with a count; the rest come in pages."""

Events = Mapping[int, Any]
"""The case's events by version: those ``shown_versions`` named, read from the log."""


@dataclasses.dataclass(frozen=True)
class Contents:
    """What a case view shows of the entries the case keeps only counts of (notes and
    their addenda, goal progress), as the record's entry index has them."""

    notes: dict[str, int]  # the latest notes standing, oldest first: id -> version
    addenda: dict[str, list[int]]  # each of those notes -> its addenda standing
    note_count: int
    progress: dict[str, list[int]]  # each shown goal -> its progress shown, oldest first
    progress_count: dict[str, int]


def contents_of(case: Case, entries: Entries, *, every: bool = False) -> Contents:
    """The latest notes and each shown goal's latest progress (with ``every``, all of its
    progress, as a diff compares them)."""
    notes = entries.latest_notes(RECENT)
    goals = shown_goals(case)
    count = None if every else RECENT
    return Contents(
        notes,
        entries.addenda(list(notes)),
        entries.note_count(case),
        {g.goal_id: entries.latest("progress", count, g.goal_id) for g in goals},
        {g.goal_id: entries.progress_count(g) for g in goals},
    )


def shown_versions(case: Case, contents: Contents, *, every: bool = False) -> list[int]:
    """The versions whose events a case view reads from the log: its latest notes with
    their addenda, its latest referrals and each shown goal's latest progress (with
    ``every``, all referrals and all progress, as a diff compares them)."""
    aside = case.set_aside_versions()
    wanted = [*contents.notes.values(), *(a for v in contents.addenda.values() for a in v)]
    wanted += window(list(case.standing_referral_versions(aside).values()), every)
    for progress in contents.progress.values():
        wanted += progress
    return wanted


def window(items: list[T], every: bool) -> list[T]:
    return items if every else items[-RECENT:]


def shown_goals(case: Case) -> list[Goal]:
    plans = {p.plan_id for p in case.plans if not p.in_error}
    return [g for g in case.goals.values() if g.plan_id in plans and not g.in_error]


def case_to_dict(
    case: Case,
    events: Events,
    contents: Contents,
    *,
    every: bool = False,
    on: date | None = None,
) -> dict[str, Any]:
    """``events``: at least those ``shown_versions`` names (the case holds only counts of
    its notes and progress, and what its referrals' rules need); ``on``: the day the read
    is about, which decides whether a referral has expired (today unless given)."""
    on = on or utc_today()
    aside = case.set_aside_versions()
    referrals = list(case.standing_referral_versions(aside))
    tasks = [t for t in case.tasks.values() if not t.in_error]
    current_id = case.current_plan.plan_id if case.current_plan else None
    plans = {
        p.plan_id: plan_to_dict(case, p, events, contents, every)
        for p in case.plans
        if not p.in_error
    }
    return {
        "id": case.id,
        "version": case.version,
        "client_id": case.client_id,
        "agency_id": case.agency_id,
        "specialty": case.specialty,
        "status": case.status,
        "status_details": plain(current(case.statuses).details),
        "case_manager_id": case.case_manager_id,
        "referral_source": case.referral_source,
        "presenting_needs": list(case.presenting_needs),
        "interview_summary": case.interview_summary,
        "opened_at": case.created_on,
        "modified_at": case.modified_on,
        "status_history": changes(case.statuses),
        "assignments": changes(case.managers),
        "assessments": valid(case.assessments),
        "prior_treatments": valid(case.prior_treatments),
        # The current plan is one of the plans: presented once (a long plan is costly).
        "current_plan": plans[current_id] if current_id else None,
        "plans": list(plans.values()),
        "referrals": [
            referral_to_dict(case.referrals[i], events, on) for i in window(referrals, every)
        ],
        "referral_count": len(referrals),
        "notes": [
            note_to_dict(events[v], [events[a] for a in contents.addenda[i]], case.labels_of(v))
            for i, v in contents.notes.items()
        ],
        "note_count": contents.note_count,
        "tasks": [task_to_dict(case.id, t) for t in window(tasks, every)],
        "task_count": len(tasks),
        "benefit_applications": [
            benefit_to_dict(case.id, a)
            for a in case.benefit_applications.values()
            if not a.in_error
        ],
        "safety_flags": [plain(f) for f in case.open_safety_flags()],
        "care_team": [plain(m) | {"current": m.current} for m in case.care_team.values()],
        "transfers": [plain(t) for t in case.transfers],
        "pending_transfer": None if case.pending_transfer is None else plain(case.pending_transfer),
        "entries_in_error": {
            c.target_version: c.marked_in
            for c in sorted(case.corrections, key=lambda c: c.target_version)
        },
        "labels": case.labelled_classes(),
        "default_labels": case.default_labels,
        "entry_labels": {int(v): list(labels) for v, labels in sorted(case.entry_labels.items())},
    }


def plan_to_dict(
    case: Case, plan: Any, events: Events, contents: Contents, every: bool
) -> dict[str, Any]:
    version = plan.current_version
    goals = [g for g in case.goals.values() if g.plan_id == plan.plan_id and not g.in_error]
    return {
        "plan_id": plan.plan_id,
        "status": plan.status,
        "version_number": version.number,
        "title": version.title,
        "activities": plain(version.activities),
        "next_review_on": plan.next_review_on,
        "rationale": version.rationale,
        "versions": valid(plan.versions),
        "reviews": valid(plan.reviews),
        "revision_due": plan.revision_due is not None,
        # A plan suspended and resumed for years has hundreds of changes: the latest few
        # are shown (all of them in a diff); the timeline holds every one.
        "status_history": changes(window(plan.statuses, every)),
        "status_change_count": len(plan.statuses),
        "goals": [
            goal_to_dict(
                g, contents.progress[g.goal_id], contents.progress_count[g.goal_id], events
            )
            for g in goals
        ],
    }


def goal_to_dict(
    goal: Goal,
    progress: list[int],
    count: int,
    events: Events,
    scores: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``progress``: the versions of the goal's progress shown, oldest first; ``count``:
    how many stand; ``scores``: the administrations of the instrument the goal targets
    (``score_progress``), when it targets one and they were read."""
    revision = [r for r in goal.revisions if not r.in_error][-1]
    shown = [progress_to_dict(events[v]) for v in progress]
    latest = shown[-1] if shown else None
    return {
        "goal_id": goal.goal_id,
        "plan_id": goal.plan_id,
        "description": revision.description,
        "need_domain": revision.need_domain,
        "target_measure": revision.target_measure,
        "due_on": revision.due_on,
        "priority": revision.priority,
        "need": revision.need,
        "measure": plain(revision.measure),
        "lifecycle": goal.status,
        "achievement": latest["achievement"] if latest else None,
        "latest_progress": latest,
        "progress": shown,
        "progress_count": count,
        "revisions": valid(goal.revisions),
        "score_target": score_target(revision),
        "scores": scores or [],
    }


def task_to_dict(case_id: Any, task: Task) -> dict[str, Any]:
    status = current(task.statuses)
    return {
        "task_id": task.task_id,
        "case_id": case_id,
        "title": task.title,
        "owner_id": task.owner_id,
        "due_on": task.due_on,
        "concerns": task.concerns,
        "concerns_id": task.concerns_id,
        "status": status.value,
        "outcome": status.details.get("outcome", ""),
        "created_in_version": task.version,
        "owner_history": changes(task.owners),
        "status_history": changes(task.statuses),
    }


def benefit_to_dict(case_id: Any, application: BenefitApplication) -> dict[str, Any]:
    status = current(application.statuses)
    decided = [
        c for c in application.statuses if c.value in ("approved", "denied") and not c.in_error
    ]
    return {
        "application_id": application.application_id,
        "case_id": case_id,
        "program": application.program,
        "agency_name": application.agency_name,
        "status": status.value,
        "submitted_on": application.submitted_on,
        "expected_decision_on": application.expected_decision_on,
        "decision": plain(decided[-1].details) | {"decision": decided[-1].value}
        if decided
        else None,
        "renews_on": application.renews_on,
        "hearing_on": application.hearing_on,
        "documents": [plain(r) for r in application.documents],
        "appointments": [plain(a) for a in application.appointments],
        "started_in_version": application.version,
        "status_history": changes(application.statuses),
    }


def score_target(revision: Any) -> dict[str, Any] | None:
    if not revision.target_instrument:
        return None
    return {
        "instrument": revision.target_instrument,
        "score": revision.target_score,
        "direction": revision.direction,
    }


def score_to_dict(event: Case.InstrumentAdministered) -> dict[str, Any]:
    return {
        "version": event.originator_version,
        "instrument": event.instrument,
        "definition_version": event.definition_version,
        "respondent": event.respondent,
        "responses": plain(event.responses),
        "context": dict(event.context),
        "total": event.total,
        "band": event.band,
        "flags": list(event.flags),
        "safety_flags": list(event.safety_flags),
        "outcome": plain(event.outcome),
        "effective_at": event.effective_at,
        "recorded_at": event.timestamp,
        "recorded_by": event.actor_id,
    }


def score_progress(target: dict[str, Any], score: dict[str, Any]) -> dict[str, Any]:
    """One administration as progress towards the score a goal targets."""
    total = score["total"]
    if total is None:
        met = None
    elif target["direction"] == "below":
        met = total < target["score"]
    else:
        met = total > target["score"]
    keys = ("version", "total", "band", "definition_version", "effective_at")
    return {k: score[k] for k in keys} | {"met": met}


def progress_to_dict(event: Case.GoalProgressRecorded) -> dict[str, Any]:
    return {
        "version": event.originator_version,
        "achievement": event.achievement,
        "measured_value": event.measured_value,
        "note": event.note,
        "effective_at": event.effective_at,
        "recorded_at": event.timestamp,
    }


def utc_today() -> date:
    return datetime.now(UTC).date()


def referral_to_dict(referral: Referral, events: Events, on: date) -> dict[str, Any]:
    """The referral as made (its event) with its status as it stands on day ``on``:
    ``expired`` if it still awaits an answer past its deadline then (derived as the
    tracker derives it; the status history holds what was written)."""
    made: Case.ReferralMade = events[referral.version]
    status = current(referral.statuses)
    expired = referral_expired(status.value, made.respond_by, on)
    return {
        "referral_id": referral.referral_id,
        "status": EXPIRED if expired else status.value,
        "resource_kind": made.resource_kind,
        "organisation": made.organisation,
        "service_name": made.service_name,
        "referral_reason": made.referral_reason,
        "urgency": made.urgency,
        "respond_by": made.respond_by,
        "made_in_version": referral.version,
        "effective_at": made.effective_at,
        "recorded_at": made.timestamp,
        "organization_id": made.organization_id,
        "service_id": made.service_id,
        "need": made.need,
        "goal_id": made.goal_id,
        "rerouted_from": made.rerouted_from,
        "rerouted_to": referral.rerouted_to,
        "outcome": status.details.get("outcome", ""),
        "declined_by": status.details.get("declined_by", ""),
        "reason_code": status.details.get("reason_code", ""),
        "contact": dict(made.contact or {}),
        "status_history": changes(referral.statuses),
    }


def note_to_dict(
    note: Case.ProgressNoteRecorded, addenda: list[Case.AddendumAppended], labels: list[str]
) -> dict[str, Any]:
    """A note from its event, with the addenda still standing and the sensitivity labels
    it carries now (``labels``: the case's, relabellings included)."""
    data: dict[str, Any] = plain(
        Note(
            note.note_id,
            note.originator_version,
            note.text,
            note.contact_kind,
            note.contact_mode,
            list(note.present),
            [
                Addendum(a.originator_version, a.text, False, a.effective_at, a.timestamp)
                for a in addenda
            ],
            False,
            note.effective_at,
            note.timestamp,
        )
    )
    data |= {
        "participants": {
            "client": note.client_participated,
            "support_contact_ids": list(note.support_contact_ids),
            "providers": plain(note.providers),
            "staff_ids": list(note.staff_ids),
        },
        "contact_status": note.contact_status,
        "location": note.location,
        "duration_minutes": note.duration_minutes,
        "goal_ids": list(note.goal_ids),
        "referral_ids": list(note.referral_ids),
        "labels": labels,
    }
    return data


ENVELOPE = ("actor_id", "actor_role", "actor_agency_id", "effective_at", "reason", "correlation_id")
INTERNAL = ("originator_id", "originator_version", "timestamp", "originator_topic")


def event_to_dict(event: RecordAggregate.Event) -> dict[str, Any]:
    fields = dict(vars(event))
    return {
        "stream_id": event.originator_id,
        "version": event.originator_version,
        "type": type(event).__name__,
        "topic": get_topic(type(event)),
        "recorded_at": event.timestamp,
        "effective_at": fields.get("effective_at", event.timestamp),
        "actor": {
            "id": fields.get("actor_id"),
            "role": fields.get("actor_role"),
            "agency_id": fields.get("actor_agency_id"),
        },
        "reason": fields.get("reason", ""),
        "correlation_id": fields.get("correlation_id", ""),
        "data": plain({k: v for k, v in fields.items() if k not in ENVELOPE + INTERNAL}),
    }
