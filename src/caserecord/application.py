"""The CaseRecords service: commands in (plain values and the actor), plain data out."""

import dataclasses
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, NotRequired, TypedDict, TypeVar, Unpack
from uuid import UUID, uuid4

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    Repository,
)
from eventsourcing.domain import Aggregate, OriginatorVersionError
from eventsourcing.persistence import IntegrityError, JSONTranscoder, PersistenceError
from eventsourcing.utils import get_topic, strtobool

from caserecord.domain.base import RecordAggregate
from caserecord.domain.case import Case
from caserecord.domain.client import Client
from caserecord.domain.entities import Goal, Plan
from caserecord.domain.errors import (
    CaseNotFoundError,
    ClientNotFoundError,
    ClientNumberTakenError,
    ConcurrencyConflictError,
    EffectiveBeforeOpeningError,
    EntryNotFoundError,
    GoalNotFoundError,
    InvalidValueError,
    NoteNotFoundError,
    NotFoundError,
    PlanNotFoundError,
    PossibleDuplicateError,
    ReferralNotFoundError,
    SupportContactNotFoundError,
    VersionMismatchError,
)
from caserecord.domain.recording import Actor, Recording, recording
from caserecord.domain.replay import apply_next
from caserecord.domain.values import text_list
from caserecord.entries import Entries
from caserecord.persistence.chain import (
    Link,
    MissingEventsError,
    Record,
    UnreadableEventError,
    Verification,
    stream_key,
    verify,
)
from caserecord.persistence.checkpoint import export_stream
from caserecord.persistence.idempotency import IdempotencyRecord
from caserecord.persistence.identity import name_key
from caserecord.persistence.recorder import CaseRecorder, case_recorder
from caserecord.presenters import (
    RECENT,
    Contents,
    case_to_dict,
    client_to_dict,
    contents_of,
    event_to_dict,
    goal_to_dict,
    note_to_dict,
    plain,
    plan_to_dict,
    progress_to_dict,
    referral_to_dict,
    shown_versions,
)
from caserecord.transcodings import all_transcodings

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")
READ_CHUNK = 500  # versions per query: SQLite caps the parameters of one statement
SAVE_ATTEMPTS = 16
"""How often a command that named no version is run on the fresh state after losing the
race to the store, before the conflict is reported."""
EAGER_RETRIES = 3
"""Retries run at once: the loser has just read the winner's event, and a pause would let
the other processes' next commands overtake it again and again."""
RETRY_JITTER = 0.002
"""Seconds: the longest first pause before a later retry (doubling each time), random so
that writers from other processes that keep colliding spread out."""
OWNERS_KEPT = 100_000  # streams whose agency is remembered (a stream id and a short text each)


class Options(TypedDict):
    """What every command accepts besides its own values."""

    effective_at: NotRequired[datetime | None]
    reason: NotRequired[str]
    correlation_id: NotRequired[str | None]
    expected_version: NotRequired[int | None]
    idempotency: NotRequired[tuple[str, str] | None]


@dataclass(frozen=True)
class Owner:
    """What a stream's first event says for good: its kind, its agency, when it opened."""

    kind: type
    agency_id: str
    opened_at: datetime


@dataclass(frozen=True)
class CommandResult:
    id: UUID
    version: int
    position: int
    entity_id: str | None = None


def as_bytes(state: object) -> bytes:
    # A tampered row can come back as text (SQLite keeps whatever type was written).
    if isinstance(state, bytes | bytearray | memoryview):
        return bytes(state)
    return str(state).encode()


def snapshot_state(aggregate: Aggregate) -> dict[str, Any]:
    """What the library's Snapshot.take() keeps of an aggregate, as the current class
    version reads it."""
    state = dict(vars(aggregate))
    for internal in ("_id", "_version", "_pending_events"):
        state.pop(internal, None)
    return state


def upcast_state(cls: type, stored: dict[str, Any]) -> dict[str, Any]:
    """A stored snapshot's state as the current class reads it (what Snapshot.mutate does
    before it builds the aggregate), so a snapshot of an older shape is still checked."""
    state = dict(stored)
    version = state.pop("class_version", 1)
    while version < getattr(cls, "class_version", 1):
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        version += 1
    return state


def compare_snapshot(snapshot: Any, aggregate: Aggregate) -> str:
    """What is wrong with a decoded snapshot, given the aggregate replayed to its version."""
    try:
        same = snapshot.topic == get_topic(type(aggregate)) and upcast_state(
            type(aggregate), snapshot.state
        ) == snapshot_state(aggregate)
    except Exception:  # a part restored unmade (Referrals) is made, and fails, only here
        return "the stored snapshot cannot be read"
    return "" if same else "the stored snapshot does not match the events"


def new_id() -> str:
    return str(uuid4())


class Unchanged(Enum):
    """A revision's value for a field it does not name: the field keeps its value."""

    KEEP = "keep"


KEEP = Unchanged.KEEP


def kept(value: T | Unchanged, current: T) -> T:
    return current if value is KEEP else value


def new_version(aggregate: RecordAggregate) -> str:
    """The id of an entry the case (or client) knows by the version that recorded it."""
    return str(aggregate.version)


def project(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's projector without its per-event ``isinstance`` check against a
    runtime-checkable Protocol: on Python 3.11 that check costs more than applying the
    event, and every replay, "as of" read and cache fast-forward pays
    it.  The events come from this application's own mapper, and apply as ``apply_next``
    does (``mutate`` without its per-event copying and filtering)."""
    version = getattr(aggregate, "version", 0)
    stream = getattr(aggregate, "id", None)
    try:
        for event in events:
            stream, version = event.originator_id, event.originator_version
            aggregate = apply_next(aggregate, event)
    except (OriginatorVersionError, PersistenceError):
        raise  # a gap in the stream, or the store: reported as such
    except Exception as error:  # whatever a damaged event makes decoding or applying raise
        raise unreadable(stream, version, aggregate, error) from error
    return aggregate


def unreadable(stream: Any, version: int, aggregate: Any, error: Exception) -> Exception:
    """The failing event is the one being applied, or (when decoding failed before it was
    known) the one after the last applied."""
    if aggregate is not None and getattr(aggregate, "version", None) == version:
        version += 1
    return UnreadableEventError(stream, version, type(error).__name__)


def project_keeping(read: dict[int, Any]) -> Callable[[Any, Iterable[Any]], Any]:
    """``project``, keeping the events it applies (not the snapshot) in ``read`` by
    version: a view of the case shows the latest entries, which are mostly the ones just
    replayed, and need not read and decode them again."""

    def kept(events: Iterable[Any]) -> Iterator[Any]:
        for event in events:
            yield event  # applied by ``project`` before the next is asked for
            if isinstance(event, RecordAggregate.Event):
                read[event.originator_version] = event

    def projector(aggregate: Any, events: Iterable[Any]) -> Any:
        # Through ``project``, so a damaged event is named as unreadable here too.
        return project(aggregate, kept(events))

    return projector


class CaseRepository(Repository[UUID]):
    def get(self, aggregate_id: UUID, **options: Any) -> Any:
        options.setdefault("projector_func", project)
        return super().get(aggregate_id, **options)


class CaseRecords(Application[UUID]):
    snapshotting_intervals = {Case: 100, Client: 100}

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        # One lock per record being written, dropped once no command holds it.
        self._turns: weakref.WeakValueDictionary[UUID, Any] = weakref.WeakValueDictionary()
        self._turns_lock = threading.Lock()

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """The library replays the record to the version it snapshots, from the previous
        snapshot; the saved aggregate is that state already, so a snapshot of it is taken
        as it stands (decoding the previous snapshot cost more than taking the new one)."""
        assert self.snapshots is not None
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            interval = self.snapshotting_intervals.get(type(aggregate))  # type: ignore[arg-type]
            if aggregate is None or interval is None or event.originator_version % interval:
                continue
            if aggregate.version == event.originator_version:
                snapshot_class: Any = getattr(
                    type(aggregate), "Snapshot", type(self).snapshot_class
                )
                self.snapshots.put([snapshot_class.take(aggregate)])
            else:
                self.take_snapshot(event.originator_id, event.originator_version, project)

    def construct_repository(self) -> Repository[UUID]:
        # The library's repository and settings (as Application.construct_repository reads
        # them), with a faster projector by default.
        maxsize = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return CaseRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=int(maxsize) if maxsize else None,
            fastforward=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")),
            fastforward_skipping=strtobool(
                self.env.get(self.AGGREGATE_CACHE_FASTFORWARD_SKIPPING, "n")
            ),
            deepcopy_from_cache=strtobool(self.env.get(self.DEEPCOPY_FROM_AGGREGATE_CACHE, "y")),
        )

    @property
    def store(self) -> CaseRecorder:
        """The recorder, typed with the queries caserecord's recorders add."""
        return case_recorder(self.recorder)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in all_transcodings():
            transcoder.register(transcoding)

    # ---- clients -------------------------------------------------------------------
    def register_client(
        self,
        actor: Actor,
        *,
        given_name: str,
        family_name: str,
        date_of_birth: date | None = None,
        client_number: str = "",
        preferred_language: str = "",
        phone: str = "",
        email: str = "",
        address: str = "",
        confirmed_distinct: bool = False,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """``confirmed_distinct``: the caller says the person is not an existing client of
        the same name and date of birth (a number already taken is refused regardless)."""
        self._check_number_free(actor, client_number)
        if not confirmed_distinct:
            self._check_no_namesake(actor, given_name, family_name, date_of_birth)
        with self._recording(actor, opts):
            client = Client.register(
                agency_id=actor.agency_id,
                given_name=given_name,
                family_name=family_name,
                date_of_birth=date_of_birth,
                client_number=client_number,
                preferred_language=preferred_language,
                phone=phone,
                email=email,
                address=address,
            )
        try:
            return self._save(actor, client, opts)
        except ConcurrencyConflictError:
            # A new client conflicts only on its number: another registration took it first.
            self._check_number_free(actor, client_number)
            raise

    def _check_number_free(self, actor: Actor, number: str, client_id: UUID | None = None) -> None:
        """A client number names one client of the agency."""
        if not isinstance(number, str) or not number.strip():
            return
        taken = self.store.client_identities(actor.agency_id, client_number=number.strip())
        others = [c for c in taken if c != str(client_id)]
        if others:
            raise ClientNumberTakenError(
                f"client number {number.strip()!r} is already client {others[0]}'s",
                client_id=others[0],
            )

    def _check_no_namesake(
        self, actor: Actor, given_name: str, family_name: str, date_of_birth: date | None
    ) -> None:
        """Someone of the agency with the same name and date of birth may be this person."""
        if not isinstance(date_of_birth, date) or not isinstance(given_name, str):
            return
        person = (name_key(given_name), name_key(str(family_name)), date_of_birth.isoformat())
        found = self.store.client_identities(actor.agency_id, person=person)
        if not found:
            return
        candidates = [
            {
                key: client[key]
                for key in ("id", "given_name", "family_name", "date_of_birth", "client_number")
            }
            for client in (self.get_client(actor, UUID(i)) for i in found)
        ]
        raise PossibleDuplicateError(
            f"{len(candidates)} client(s) of the agency have this name and date of birth: "
            "if this is another person, register again with confirmed_distinct",
            candidates=candidates,
        )

    def correct_client_details(
        self, actor: Actor, client_id: UUID, *, changes: dict[str, Any], **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        if "client_number" in changes:
            self._check_number_free(actor, changes["client_number"], client_id)
        return self._update_client(
            actor, client_id, opts, lambda c: c.correct_details(changes, reason)
        )

    def add_support_contact(
        self,
        actor: Actor,
        client_id: UUID,
        *,
        name: str,
        relationship: str,
        phone: str = "",
        email: str = "",
        may_contact: bool = True,
        **opts: Unpack[Options],
    ) -> CommandResult:
        contact_id = new_id()
        return self._update_client(
            actor,
            client_id,
            opts,
            lambda c: c.add_support_contact(
                contact_id, name, relationship, phone, email, may_contact
            ),
            contact_id,
        )

    def remove_support_contact(
        self, actor: Actor, client_id: UUID, *, contact_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_client(
            actor, client_id, opts, lambda c: c.remove_support_contact(contact_id, reason)
        )

    # ---- cases: intake, assessment, history, assignment, closure -------------------
    def open_case(
        self,
        actor: Actor,
        *,
        client_id: UUID,
        specialty: str,
        referral_source: str,
        presenting_needs: list[str],
        interview_summary: str,
        case_manager_id: str,
        **opts: Unpack[Options],
    ) -> CommandResult:
        self._client(actor, client_id)
        with self._recording(actor, opts):
            case = Case(
                client_id=client_id,
                agency_id=actor.agency_id,
                specialty=specialty,
                referral_source=referral_source,
                presenting_needs=text_list(presenting_needs, "presenting_needs"),
                interview_summary=interview_summary,
                case_manager_id=case_manager_id,
            )
        return self._save(actor, case, opts)

    def assess_needs(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        assessments: list[dict[str, Any]],
        **opts: Unpack[Options],
    ) -> CommandResult:
        items = [dict(a) for a in assessments]
        return self._update_case(actor, case_id, opts, lambda c: c.assess_needs(items), new_version)

    def review_prior_treatment(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        treatment: str,
        provider: str = "",
        started_on: date | None = None,
        ended_on: date | None = None,
        outcome: str = "",
        effectiveness: int,
        notes: str = "",
        **opts: Unpack[Options],
    ) -> CommandResult:
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.review_prior_treatment(
                treatment, provider, started_on, ended_on, outcome, effectiveness, notes
            ),
            new_version,
        )

    def assign_case_manager(
        self, actor: Actor, case_id: UUID, *, case_manager_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_case(
            actor, case_id, opts, lambda c: c.assign_case_manager(case_manager_id, reason)
        )

    def close_case(
        self, actor: Actor, case_id: UUID, *, outcome: str, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_case(actor, case_id, opts, lambda c: c.close(reason, outcome))

    def reopen_case(self, actor: Actor, case_id: UUID, **opts: Unpack[Options]) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_case(actor, case_id, opts, lambda c: c.reopen(reason))

    def mark_entry_in_error(
        self, actor: Actor, case_id: UUID, *, target_version: int, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.mark_entry_in_error(
                target_version, reason, self.entries(c).entry(target_version)
            ),
        )

    # ---- plan ----------------------------------------------------------------------
    def draft_plan(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        title: str,
        activities: list[dict[str, Any]],
        next_review_on: date | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        plan_id = new_id()
        items = [dict(a) for a in activities]
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.draft_plan(plan_id, title, items, next_review_on),
            plan_id,
        )

    def revise_plan(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        plan_id: str,
        title: str | Unchanged = KEEP,
        activities: list[dict[str, Any]] | Unchanged | None = KEEP,
        next_review_on: date | Unchanged | None = KEEP,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """A new version of the plan: what is not named (``KEEP``) is carried over from the
        current version; ``activities=None`` clears them. The event holds every value."""
        rationale = opts.get("reason") or ""

        def revise(c: Case) -> None:
            plan = c.current_plan
            now = plan.current_version if plan is not None and plan.plan_id == plan_id else None
            items = kept(activities, now.activities if now else [])
            c.revise_plan(
                plan_id,
                kept(title, now.title if now else ""),
                [dict(a) for a in items or []],
                kept(next_review_on, now.next_review_on if now else None),
                rationale,
            )

        def number(c: Case) -> str:
            return str(next(p for p in c.plans if p.plan_id == plan_id).versions[-1].number)

        return self._update_case(actor, case_id, opts, revise, number)

    def change_plan_status(
        self, actor: Actor, case_id: UUID, *, plan_id: str, action: str, **opts: Unpack[Options]
    ) -> CommandResult:
        """action: activate, suspend, resume, complete or revoke."""
        reason = opts.get("reason") or ""
        moves: dict[str, Callable[[Case], None]] = {
            "activate": lambda c: c.activate_plan(plan_id),
            "suspend": lambda c: c.suspend_plan(plan_id, reason),
            "resume": lambda c: c.resume_plan(plan_id),
            "complete": lambda c: c.complete_plan(plan_id),
            "revoke": lambda c: c.revoke_plan(plan_id, reason),
        }
        if action not in moves:
            raise InvalidValueError(f"plan action must be one of: {', '.join(moves)}")
        return self._update_case(actor, case_id, opts, moves[action])

    # ---- goals ---------------------------------------------------------------------
    def add_goal(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        plan_id: str,
        description: str,
        need_domain: str,
        target_measure: str = "",
        due_on: date | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        goal_id = new_id()
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.add_goal(
                goal_id, plan_id, description, need_domain, target_measure, due_on
            ),
            goal_id,
        )

    def revise_goal(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        goal_id: str,
        description: str | Unchanged = KEEP,
        need_domain: str | Unchanged = KEEP,
        target_measure: str | Unchanged | None = KEEP,
        due_on: date | Unchanged | None = KEEP,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """What is not named (``KEEP``) keeps its value; ``None`` clears the target measure
        or the due date. The event holds every value."""

        def revise(c: Case) -> None:
            goal = c.goals.get(goal_id)
            standing = [r for r in goal.revisions if not r.in_error] if goal else []
            now = standing[-1] if standing else None
            c.revise_goal(
                goal_id,
                kept(description, now.description if now else ""),
                kept(need_domain, now.need_domain if now else ""),
                kept(target_measure, now.target_measure if now else "") or "",
                kept(due_on, now.due_on if now else None),
            )

        return self._update_case(actor, case_id, opts, revise)

    def change_goal_lifecycle(
        self, actor: Actor, case_id: UUID, *, goal_id: str, lifecycle: str, **opts: Unpack[Options]
    ) -> CommandResult:
        return self._update_case(
            actor, case_id, opts, lambda c: c.change_goal_lifecycle(goal_id, lifecycle)
        )

    def record_goal_progress(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        goal_id: str,
        achievement: str,
        measured_value: str = "",
        note: str = "",
        **opts: Unpack[Options],
    ) -> CommandResult:
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.record_goal_progress(goal_id, achievement, measured_value, note),
            new_version,
        )

    # ---- referrals -----------------------------------------------------------------
    def make_referral(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        resource_kind: str,
        organisation: str,
        service_name: str,
        referral_reason: str = "",
        urgency: str = "routine",
        respond_by: date | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        referral_id = new_id()
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.make_referral(
                referral_id,
                resource_kind,
                organisation,
                service_name,
                referral_reason,
                urgency,
                respond_by,
            ),
            referral_id,
        )

    def accept_referral(
        self, actor: Actor, case_id: UUID, *, referral_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        return self._update_case(actor, case_id, opts, lambda c: c.accept_referral(referral_id))

    def decline_referral(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        referral_id: str,
        declined_by: str,
        **opts: Unpack[Options],
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_case(
            actor, case_id, opts, lambda c: c.decline_referral(referral_id, declined_by, reason)
        )

    def complete_referral(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        referral_id: str,
        outcome: str,
        **opts: Unpack[Options],
    ) -> CommandResult:
        return self._update_case(
            actor, case_id, opts, lambda c: c.complete_referral(referral_id, outcome)
        )

    def withdraw_referral(
        self, actor: Actor, case_id: UUID, *, referral_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_case(
            actor, case_id, opts, lambda c: c.withdraw_referral(referral_id, reason)
        )

    # ---- notes ---------------------------------------------------------------------
    def record_note(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        text: str,
        contact_kind: str,
        contact_mode: str,
        present: list[str] | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        note_id = new_id()
        people = text_list(present or [], "present")
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.record_note(
                note_id, text, contact_kind, contact_mode, people, self.entries(c).note(note_id)
            ),
            note_id,
        )

    def append_addendum(
        self, actor: Actor, case_id: UUID, *, note_id: str, text: str, **opts: Unpack[Options]
    ) -> CommandResult:
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.append_addendum(note_id, text, self.entries(c).note(note_id)),
            new_version,
        )

    # ---- queries -------------------------------------------------------------------
    def get_client(self, actor: Actor, client_id: UUID) -> dict[str, Any]:
        return client_to_dict(self._client(actor, client_id))

    def get_case(self, actor: Actor, case_id: UUID, version: int | None = None) -> dict[str, Any]:
        return self.case_state(self._case(actor, case_id, version))

    def case_notes(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        limit: int,
        before: int | None = None,
        version: int | None = None,
    ) -> dict[str, Any]:
        """A page of the case's notes, newest first, each with its addenda."""
        return self.note_page(self._case(actor, case_id, version), limit=limit, before=before)

    def case_referrals(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        limit: int,
        before: int | None = None,
        version: int | None = None,
    ) -> dict[str, Any]:
        """A page of the case's referrals, latest made first, each as it stands."""
        return self.referral_page(self._case(actor, case_id, version), limit=limit, before=before)

    def goal_progress(
        self,
        actor: Actor,
        case_id: UUID,
        goal_id: str,
        *,
        limit: int,
        before: int | None = None,
        version: int | None = None,
    ) -> dict[str, Any]:
        """A page of the progress recorded on a goal, newest first."""
        case = self._case(actor, case_id, version)
        return self.progress_page(case, goal_id, limit=limit, before=before)

    # ---- one part of a record, by its id (where a creating POST's Location points) ------
    def get_support_contact(self, actor: Actor, client_id: UUID, contact_id: str) -> dict[str, Any]:
        contact = self._client(actor, client_id).support_contacts.get(contact_id)
        if contact is None or contact.removed_in is not None:
            raise SupportContactNotFoundError(f"no current support contact {contact_id}")
        data: dict[str, Any] = plain(contact)
        return data

    def get_assessment(self, actor: Actor, case_id: UUID, version: int) -> dict[str, Any]:
        """The needs rated by the assessment recorded in that case version."""
        case = self._case(actor, case_id)
        rated = [plain(a) for a in case.assessments if a.version == version and not a.in_error]
        if not rated:
            raise EntryNotFoundError(f"no standing assessment at version {version} of the case")
        return {"version": version, "assessments": rated}

    def get_prior_treatment(self, actor: Actor, case_id: UUID, version: int) -> dict[str, Any]:
        case = self._case(actor, case_id)
        found = [plain(t) for t in case.prior_treatments if t.version == version and not t.in_error]
        if not found:
            raise EntryNotFoundError(f"no standing prior treatment at version {version}")
        return dict(found[0])

    def get_plan(self, actor: Actor, case_id: UUID, plan_id: str) -> dict[str, Any]:
        """The plan with its versions, status history and goals (each goal's latest
        progress)."""
        case = self._case(actor, case_id)
        plan = standing_plan(case, plan_id)
        entries = self.entries(case)
        goals = [g for g in case.goals.values() if g.plan_id == plan_id and not g.in_error]
        progress = {g.goal_id: entries.latest("progress", RECENT, g.goal_id) for g in goals}
        contents = Contents(
            {}, {}, 0, progress, {g.goal_id: entries.progress_count(g) for g in goals}
        )
        shown = [v for versions in progress.values() for v in versions]
        return plan_to_dict(case, plan, self.events_at(case.id, shown), contents, False)

    def get_plan_version(
        self, actor: Actor, case_id: UUID, plan_id: str, number: int
    ) -> dict[str, Any]:
        plan = standing_plan(self._case(actor, case_id), plan_id)
        for version in plan.versions:
            if version.number == number and not version.in_error:
                data: dict[str, Any] = plain(version)
                return data
        raise EntryNotFoundError(f"plan {plan_id} has no standing version {number}")

    def get_goal(self, actor: Actor, case_id: UUID, goal_id: str) -> dict[str, Any]:
        """The goal with its revisions and its latest progress (pages hold the rest)."""
        case = self._case(actor, case_id)
        goal = standing_goal(case, goal_id)
        entries = self.entries(case)
        progress = entries.latest("progress", RECENT, goal_id)
        events = self.events_at(case.id, progress)
        return goal_to_dict(goal, progress, entries.progress_count(goal), events)

    def get_progress(
        self, actor: Actor, case_id: UUID, goal_id: str, version: int
    ) -> dict[str, Any]:
        case = self._case(actor, case_id)
        standing_goal(case, goal_id)
        entries = self.entries(case)
        found = entries.at([version]).get(version)
        if (
            found is None
            or found.kind != "progress"
            or found.entity_id != goal_id
            or version in entries.aside
        ):
            raise EntryNotFoundError(f"goal {goal_id} has no standing progress at {version}")
        return progress_to_dict(self.events_at(case.id, [version])[version])

    def get_referral(self, actor: Actor, case_id: UUID, referral_id: str) -> dict[str, Any]:
        """The referral as made, with its status history."""
        case = self._case(actor, case_id)
        version = case.standing_referral_versions(case.set_aside_versions()).get(referral_id)
        if version is None:
            raise ReferralNotFoundError(f"no referral {referral_id} on this case")
        return referral_to_dict(case.referrals[referral_id], self.events_at(case.id, [version]))

    def get_note(self, actor: Actor, case_id: UUID, note_id: str) -> dict[str, Any]:
        """The note with its addenda still standing."""
        case = self._case(actor, case_id)
        found = self.entries(case).note(note_id)
        if found is None or found.version in case.set_aside_versions():
            raise NoteNotFoundError(f"no note {note_id} on this case")
        return self.notes_of(case, [note_id])[0]

    def get_addendum(
        self, actor: Actor, case_id: UUID, note_id: str, version: int
    ) -> dict[str, Any]:
        for addendum in self.get_note(actor, case_id, note_id)["addenda"]:
            if addendum["version"] == version:
                return dict(addendum)
        raise EntryNotFoundError(f"note {note_id} has no standing addendum at version {version}")

    def case_state(
        self, case: Case, *, every: bool = False, read: Mapping[int, Any] | None = None
    ) -> dict[str, Any]:
        """A case as plain data with its latest notes, referrals and goal progress (pages
        hold the rest; ``every`` shows all referrals and progress, as a diff needs).
        ``read``: events of the case already read, by version, not read again."""
        read = read or {}
        contents = contents_of(case, self.entries(case), every=every)
        wanted = shown_versions(case, contents, every=every)
        events = {v: read[v] for v in wanted if v in read}
        events |= self.events_at(case.id, [v for v in wanted if v not in events])
        return case_to_dict(case, events, contents, every=every)

    def entries(self, case: Case) -> Entries:
        """The case state's notes, addenda and progress in the record's entry index."""
        return Entries.of(self.store, case)

    def note_page(self, case: Case, *, limit: int, before: int | None = None) -> dict[str, Any]:
        """Notes recorded before version ``before`` (all when None), newest first.

        The record's entry index says which notes the case holds; their text is read from
        its events, so a page costs the same however long the case."""
        entries = self.entries(case)
        # Lazily from the newest: a page of a long case stops after limit + 1 notes.
        newest = ((i, v) for v, i in entries.newest("note", before=before))
        page, next_before = keyset_page(newest, lambda item: item[1], limit, before)
        return {
            "items": self.notes_of(case, [note_id for note_id, _ in page]),
            "note_count": entries.note_count(case),
            "next_before": next_before,
        }

    def referral_page(self, case: Case, *, limit: int, before: int | None = None) -> dict[str, Any]:
        """Referrals made before version ``before`` (all when None), latest first."""
        standing = case.standing_referral_versions(case.set_aside_versions())
        newest = reversed(standing.items())
        page, next_before = keyset_page(newest, lambda item: item[1], limit, before)
        events = self.events_at(case.id, [v for _, v in page])
        return {
            "items": [referral_to_dict(case.referrals[i], events) for i, _ in page],
            "referral_count": len(standing),
            "next_before": next_before,
        }

    def progress_page(
        self, case: Case, goal_id: str, *, limit: int, before: int | None = None
    ) -> dict[str, Any]:
        """Progress on the goal recorded before version ``before``, newest first."""
        goal = case.goals.get(goal_id)
        if goal is None or goal.in_error:
            raise GoalNotFoundError(f"no goal {goal_id} on this case")
        entries = self.entries(case)
        newest = (v for v, _ in entries.newest("progress", goal_id, before))
        page, next_before = keyset_page(newest, lambda v: v, limit, before)
        events = self.events_at(case.id, page)
        return {
            "goal_id": goal_id,
            "items": [progress_to_dict(events[v]) for v in page],
            "progress_count": entries.progress_count(goal),
            "next_before": next_before,
        }

    def events_at(self, stream_id: UUID, versions: list[int]) -> dict[int, Any]:
        """Events of one stream at the given versions, by version, in few queries.  The
        case's indexes name each of them, so one that is missing is a damaged store
        (:class:`MissingEventsError`), not a page with a hole in it."""
        found = {e.originator_version: e for e in self._read_versions(stream_id, versions)}
        missing = set(versions).difference(found)
        if missing:
            raise MissingEventsError(stream_id, sorted(missing))
        return found

    def notes_of(self, case: Case, note_ids: list[str]) -> list[dict[str, Any]]:
        """The given notes of the case (in that order) as they stand in this state, each
        with its addenda still standing, read from the log in one go
        (:class:`NoteNotFoundError` for an id the state does not hold)."""
        entries = self.entries(case)
        notes = entries.notes(note_ids)
        unknown = [i for i in note_ids if i not in notes]
        if unknown:
            raise NoteNotFoundError(f"no note {unknown[0]} on this case")
        addenda = entries.addenda(note_ids)
        wanted = [notes[i] for i in note_ids] + [a for v in addenda.values() for a in v]
        events = self.events_at(case.id, wanted)
        return [note_to_dict(events[notes[i]], [events[a] for a in addenda[i]]) for i in note_ids]

    def standing_notes(self, case: Case) -> dict[str, tuple[int, ...]]:
        """Each note standing in the state -> its addenda standing (every one: a diff
        compares them)."""
        entries = self.entries(case)
        notes = entries.latest_notes(None)
        addenda = entries.addenda(list(notes))
        return {i: tuple(addenda[i]) for i in notes}

    def latest_progress(self, case: Case, goal_id: str) -> int | None:
        """The version of the goal's latest progress standing in the state, if any."""
        return next((v for v, _ in self.entries(case).newest("progress", goal_id)), None)

    def _read_versions(self, stream_id: UUID, versions: list[int]) -> list[Any]:
        found: list[Any] = []
        for start in range(0, len(versions), READ_CHUNK):
            chunk = sorted(versions[start : start + READ_CHUNK])
            stored = self.store.select_versions(stream_id, chunk)
            found += [self._decoded(s) for s in stored]
        return found

    def _decoded(self, stored: Any) -> Any:
        try:
            return self.mapper.to_domain_event(stored)
        except Exception as error:  # whatever a damaged row makes the decoder raise
            raise UnreadableEventError(
                stored.originator_id, stored.originator_version, type(error).__name__
            ) from error

    def case_events(self, actor: Actor, case_id: UUID) -> list[dict[str, Any]]:
        """Every event of the case and of its client, in recording order."""
        case = self._case(actor, case_id)
        events = [*self._events(case.client_id), *self._events(case_id)]
        return [event_to_dict(e) for e in sorted(events, key=lambda e: e.timestamp)]

    def verify_stream(self, stream_id: UUID) -> Verification:
        """Check the stored records of one aggregate against its hash chain, then its
        snapshots against the events."""
        records, links = self._stored_stream(stream_id)
        result = verify(stream_key(stream_id), records, links)
        return self._verify_snapshots(stream_id, result) if result.ok else result

    def export_stream(self, stream_id: UUID) -> dict[str, Any]:
        """The stream's stored records and links, for a reviewer to check offline."""
        return export_stream(stream_key(stream_id), *self._stored_stream(stream_id))

    def _stored_stream(self, stream_id: UUID) -> tuple[list[Record], dict[int, Link]]:
        """As stored, not as the aggregate sees it: verification must not trust the mapper."""
        records = [
            Record(stream_key(s.originator_id), s.originator_version, s.topic, as_bytes(s.state))
            for s in self.recorder.select_events(stream_id)
        ]
        links: dict[int, Link] = self.store.chain_links(stream_id)
        return records, links

    def chain_heads(self) -> dict[str, tuple[int, str]]:
        heads: dict[str, tuple[int, str]] = self.store.chain_heads()
        return heads

    def _verify_snapshots(self, stream_id: UUID, result: Verification) -> Verification:
        """Reads start from the latest snapshot, so a snapshot changed in the database would
        change what is served without touching the chained events: each stored snapshot must
        equal the state replayed from the verified events up to its version."""
        if self.snapshots is None:
            return result
        stored = list(self.snapshots.recorder.select_events(stream_id))
        if not stored:
            return result
        events = iter(self.events.get(stream_id))
        aggregate: Any = None
        for row in stored:
            version = row.originator_version
            problem = ""
            try:
                snapshot: Any = self.snapshots.mapper.to_domain_event(row)
            except Exception:  # whatever a damaged row makes the decoder raise
                snapshot, problem = None, "the stored snapshot cannot be read"
            while aggregate is None or aggregate.version < version:
                event: Any = next(events, None)
                if event is None:
                    break
                aggregate = event.mutate(aggregate)
            if not problem and (aggregate is None or aggregate.version != version):
                problem = "the stored snapshot is ahead of the events"
            elif not problem:
                problem = compare_snapshot(snapshot, aggregate)
            if problem:
                return dataclasses.replace(
                    result, ok=False, first_bad_version=version, problem=f"snapshot: {problem}"
                )
        return result

    def verify_case(self, actor: Actor, case_id: UUID) -> list[Verification]:
        case = self._case(actor, case_id)
        return [self.verify_stream(case_id), self.verify_stream(case.client_id)]

    def client_of_case(self, actor: Actor, case_id: UUID) -> UUID:
        """The client a case is for, from its first event alone (cheap for a long case)."""
        opened = next(iter(self.events.get(case_id, lte=1)), None)
        if not isinstance(opened, Case.Opened) or opened.agency_id != actor.agency_id:
            raise CaseNotFoundError(f"no case {case_id}")
        return opened.client_id

    def find_idempotent_result(self, actor: Actor, key: str) -> IdempotencyRecord | None:
        found: IdempotencyRecord | None = self.store.find_idempotency(actor.agency_id, key)
        return found

    # ---- internals -----------------------------------------------------------------
    def _events(self, stream_id: UUID, gt: int | None = None) -> list[RecordAggregate.Event]:
        return [
            e for e in self.events.get(stream_id, gt=gt) if isinstance(e, RecordAggregate.Event)
        ]

    @contextmanager
    def _recording(self, actor: Actor, opts: Options) -> Iterator[Recording]:
        rec = Recording(
            actor=actor,
            effective_at=opts.get("effective_at"),
            reason=opts.get("reason") or "",
            correlation_id=opts.get("correlation_id") or new_id(),
        )
        with recording(rec):
            yield rec

    def _get(self, kind: type[A], aggregate_id: UUID, version: int | None) -> A | None:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def _case(self, actor: Actor, case_id: UUID, version: int | None = None) -> Case:
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise InvalidValueError(f"a case version is a whole number (got {version!r})")
        self._check_owner(actor, Case.Opened, case_id, CaseNotFoundError(f"no case {case_id}"))
        case = self._get(Case, case_id, version)
        if case is None or case.agency_id != actor.agency_id:
            raise CaseNotFoundError(f"no case {case_id}")
        # The library answers a version past the end with the latest one; say so instead.
        if version is not None and case.version != version:
            raise CaseNotFoundError(f"case {case_id} has no version {version}")
        return case

    def _client(self, actor: Actor, client_id: UUID) -> Client:
        missing = ClientNotFoundError(f"no client {client_id}")
        self._check_owner(actor, Client.Registered, client_id, missing)
        client = self._get(Client, client_id, None)
        if client is None or client.agency_id != actor.agency_id:
            raise ClientNotFoundError(f"no client {client_id}")
        return client

    def _check_owner(
        self,
        actor: Actor,
        first: type[RecordAggregate.Event],
        stream_id: UUID,
        missing: NotFoundError,
    ) -> "Owner":
        """Refuse another agency's record before loading it: from the stream's first event
        alone, so its size makes no difference, and another agency's id costs one small
        read, as an unknown id does.  A stream's first event never changes, so an owner
        found once is remembered and the owner's own reads pay nothing more; a remembered
        owner that is not the caller is read again, to cost what an unknown id costs."""
        owners: dict[UUID, Owner] = self.__dict__.setdefault("_owners", {})
        known = owners.get(stream_id)
        if known is None or (known.kind, known.agency_id) != (first, actor.agency_id):
            opened = self._first_event(stream_id)
            if not isinstance(opened, first):
                raise missing
            known = Owner(first, str(getattr(opened, "agency_id", "")), opened.effective_at)
            if len(owners) >= OWNERS_KEPT:
                owners.clear()
            owners[stream_id] = known
        if (known.kind, known.agency_id) != (first, actor.agency_id):
            raise missing
        return known

    def _first_event(self, stream_id: UUID) -> Any:
        stored = list(self.recorder.select_events(stream_id, lte=1))
        return self._decoded(stored[0]) if stored else None

    def _check_not_before_opening(self, actor: Actor, case_id: UUID, opts: Options) -> None:
        """An entry cannot have happened before its case was opened (the intake itself may
        be backdated)."""
        effective_at = opts.get("effective_at")
        if not isinstance(effective_at, datetime) or effective_at.utcoffset() is None:
            return  # nothing said, or refused with its own message when recorded
        missing = CaseNotFoundError(f"no case {case_id}")
        opened_at = self._check_owner(actor, Case.Opened, case_id, missing).opened_at
        if effective_at < opened_at:
            raise EffectiveBeforeOpeningError(
                f"effective_at {effective_at.isoformat()} is before the case was opened "
                f"({opened_at.isoformat()}): an entry cannot precede its case"
            )

    def _update_case(
        self,
        actor: Actor,
        case_id: UUID,
        opts: Options,
        command: Callable[[Case], None],
        entity_id: str | Callable[[Case], str] | None = None,
    ) -> CommandResult:
        self._check_not_before_opening(actor, case_id, opts)
        return self._retrying(
            actor, case_id, opts, lambda: self._case(actor, case_id), command, entity_id
        )

    def _update_client(
        self,
        actor: Actor,
        client_id: UUID,
        opts: Options,
        command: Callable[[Client], None],
        entity_id: str | None = None,
    ) -> CommandResult:
        return self._retrying(
            actor, client_id, opts, lambda: self._client(actor, client_id), command, entity_id
        )

    def _retrying(
        self,
        actor: Actor,
        aggregate_id: UUID,
        opts: Options,
        load: Callable[[], A],
        command: Callable[[A], None],
        entity_id: str | Callable[[A], str] | None,
    ) -> CommandResult:
        """Load, run and save the command; a command that named no version and lost the
        race to the store is run again on the state that won (the cached aggregate is
        fast-forwarded on each load), so two people adding notes to a case at once both
        succeed, and only what the fresh state refuses fails, with the domain's own error.
        Commands of this process on one record take turns: they would only conflict.
        The command's ids are made once, before, so a retry records the same ones."""
        attempt = 0
        while True:
            try:
                with self._turn(aggregate_id):
                    return self._update(actor, load(), opts, command, entity_id)
            except ConcurrencyConflictError:
                attempt += 1
                if opts.get("expected_version") is not None or attempt >= SAVE_ATTEMPTS:
                    raise
                idempotency = opts.get("idempotency")
                if idempotency and self.find_idempotent_result(actor, idempotency[0]):
                    raise  # a duplicate of this request won: the caller answers with its result
                if attempt > EAGER_RETRIES:
                    pause = RETRY_JITTER * 2 ** min(attempt - EAGER_RETRIES, 6)
                    time.sleep(random.uniform(0, pause))

    @contextmanager
    def _turn(self, aggregate_id: UUID) -> Iterator[None]:
        with self._turns_lock:
            lock = self._turns.get(aggregate_id)
            if lock is None:
                lock = self._turns[aggregate_id] = threading.RLock()
        with lock:
            yield

    def _update(
        self,
        actor: Actor,
        aggregate: A,
        opts: Options,
        command: Callable[[A], None],
        entity_id: str | Callable[[A], str] | None,
    ) -> CommandResult:
        """``entity_id``: the id of the part the command adds, or how to find it in the
        changed aggregate (an entry known by its version, a plan version by its number)."""
        expected = opts.get("expected_version")
        if expected is not None and expected != aggregate.version:
            raise VersionMismatchError(
                f"the record is at version {aggregate.version}, not {expected}"
            )
        with self._recording(actor, opts):
            command(aggregate)
        made = entity_id(aggregate) if callable(entity_id) else entity_id
        return self._save(actor, aggregate, opts, made)

    def _save(
        self, actor: Actor, aggregate: Aggregate, opts: Options, entity_id: str | None = None
    ) -> CommandResult:
        version = aggregate.version
        kwargs: dict[str, Any] = {}
        idempotency = opts.get("idempotency")
        if idempotency is not None:
            key, fingerprint = idempotency
            result = {"id": str(aggregate.id), "version": version, "entity_id": entity_id}
            created = datetime.now(UTC).isoformat()
            kwargs["idempotency"] = IdempotencyRecord(
                actor.agency_id, key, fingerprint, result, created
            )
        try:
            recordings = self.save(aggregate, **kwargs)
        except IntegrityError:
            raise ConcurrencyConflictError(
                "another change was saved to this record first: reload and retry"
            ) from None
        return CommandResult(aggregate.id, version, recordings[-1].notification.id, entity_id)


def standing_plan(case: Case, plan_id: str) -> Plan:
    for plan in case.plans:
        if plan.plan_id == plan_id and not plan.in_error:
            return plan
    raise PlanNotFoundError(f"no plan {plan_id} on this case")


def standing_goal(case: Case, goal_id: str) -> Goal:
    goal = case.goals.get(goal_id)
    plans = {p.plan_id for p in case.plans if not p.in_error}
    if goal is None or goal.in_error or goal.plan_id not in plans:
        raise GoalNotFoundError(f"no goal {goal_id} on this case")
    return goal


def keyset_page(
    newest_first: Iterable[T], version_of: Callable[[T], int], limit: int, before: int | None
) -> tuple[list[T], int | None]:
    """Newest first, those recorded before version ``before``, and the ``before`` of the
    next page (None on the last): stable while entries are added, since a page is cut by
    version, not by offset."""
    if limit < 1:
        raise InvalidValueError(f"limit must be at least 1 (got {limit})")
    chosen: list[T] = []
    for item in newest_first:
        if before is not None and version_of(item) >= before:
            continue
        chosen.append(item)
        if len(chosen) > limit:  # one more than asked says whether a page follows
            break
    page = chosen[:limit]
    return page, version_of(page[-1]) if len(chosen) > limit else None
