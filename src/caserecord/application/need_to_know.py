"""Need-to-know on reads: the facts the policy (``domain/need_to_know.py``) asks for,
gathered for one reader and one case, and the redaction of what the reader may not see."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Unpack
from uuid import UUID

from caserecord.application.base import CommandResult, Options
from caserecord.application.writes import WritePath
from caserecord.domain.case import Case
from caserecord.domain.client import Client
from caserecord.domain.consent import RecipientKind
from caserecord.domain.errors import NoteNotFoundError, OverrideNotAllowedError
from caserecord.domain.need_to_know import (
    PSYCHOTHERAPY,
    Access,
    BreakGlassWindow,
    ReaderFacts,
    Relation,
    entry_access,
    relation,
)
from caserecord.domain.recording import Actor
from caserecord.domain.values import Role

# What a placeholder keeps of an entry: that it exists, where and when, never its content.
VERSION_KEYS = ("version", "made_in_version", "created_in_version", "started_in_version")
KEPT = frozenset(
    {*VERSION_KEYS, "note_id", "referral_id", "plan_id", "goal_id", "task_id", "case_id"}
    | {"application_id", "request_id", "appointment_id", "member_id", "transfer_id", "number"}
    | {"effective_at", "recorded_at", "labels", "restricted", "status", "lifecycle"}
)
# Parts of a case made of entries, each shown or replaced by a placeholder.
ENTRY_LISTS = (
    *("assessments", "prior_treatments", "referrals", "notes", "safety_flags", "tasks"),
    *("benefit_applications", "care_team", "transfers"),
)
# Entries recorded within an entry (a request for documents on a benefits application),
# each read as its own labels allow once the entry holding them is.
NESTED = ("documents", "appointments", "progress", "scores")
# What the intake recorded (version 1): shown as the intake's labels allow.
INTAKE_FIELDS = ("referral_source", "presenting_needs", "interview_summary")


@dataclass(frozen=True)
class Reading:
    """One reader's read of one case: its basis, and how each entry is seen."""

    reader: ReaderFacts
    relation: Relation
    labels_of: Callable[[int], list[str]]
    window: BreakGlassWindow | None = None

    @property
    def basis(self) -> str:
        return str(self.relation)

    def access(self, version: int, author: str | None, *, by_id: bool = False) -> Access:
        return entry_access(
            self.reader, self.relation, self.labels_of(version), author, by_id=by_id
        )

    def shown(self, item: dict[str, Any], author: str | None) -> dict[str, Any]:
        """The entry with its labels, or a placeholder of it."""
        version = entry_version(item)
        labels = self.labels_of(version)
        if self.access(version, author) is Access.FULL:
            return item | {"labels": labels, "restricted": False}
        return placeholder(item) | {"labels": labels, "restricted": True}

    def entry(self, item: dict[str, Any], author: str | None = None) -> dict[str, Any]:
        """As ``shown``, the entries recorded within it each shown as their own labels
        allow.  ``author``: who recorded it, where known (a psychotherapy label needs it:
        without it, the entry is for the readers a consent names)."""
        found = self.shown(item, author)
        return found if found["restricted"] else self._within(found)

    def _within(self, found: dict[str, Any]) -> dict[str, Any]:
        """The entries recorded within an entry the reader reads, as their labels allow."""
        for key in NESTED:
            if isinstance(found.get(key), list):
                found[key] = [self.entry(i) if isinstance(i, dict) else i for i in found[key]]
        if isinstance(found.get("latest_progress"), dict):
            found["latest_progress"] = self.entry(found["latest_progress"])
        return found

    def plan(self, plan: dict[str, Any]) -> dict[str, Any]:
        """A plan: its versions and reviews as their labels allow, its goals as
        ``goal``; what it says now (title, activities, rationale) as its current version."""
        versions = [self.entry(v) for v in plan["versions"]]
        current = [v for v in versions if v["number"] == plan["version_number"]]
        restricted = any(v["restricted"] for v in current)
        shown = plan | {
            "versions": versions,
            "reviews": [self.entry(r) for r in plan["reviews"]],
            "goals": [self.goal(g) for g in plan["goals"]],
            "restricted": restricted,
        }
        if restricted:
            shown |= {k: blank(plan[k]) for k in ("title", "activities", "rationale")}
        return shown

    def goal(self, goal: dict[str, Any]) -> dict[str, Any]:
        """A goal: a placeholder if any revision of it is restricted (what it says now
        is its latest revision's, set where the first was); else its progress and scores
        as their labels allow."""
        revisions = [self.entry(r) for r in goal["revisions"]]
        if any(r["restricted"] for r in revisions):
            kept = placeholder(goal) | {"revisions": revisions, "restricted": True}
            return kept | {"latest_progress": None}
        return self._within(goal | {"revisions": revisions, "restricted": False})

    def event(self, item: dict[str, Any], note_version: int | None = None) -> dict[str, Any]:
        """An event of the case as plain data (its timeline entry), or a placeholder of it
        that keeps its type, place and envelope but not what it recorded (``data``, the
        summary, the reason).  An addendum is read as the note it adds to
        (``note_version``) is."""
        version = int(item["version"])
        labels = self.labels_of(version)
        author = str(item["actor"]["id"])
        if note_version is not None:
            labels = sorted({*labels, *self.labels_of(note_version)})
        if entry_access(self.reader, self.relation, labels, author) is Access.FULL:
            return item | {"labels": labels, "restricted": False}
        kind = str(item.get("event_type") or item.get("type") or "")
        hidden = {"data": {}, "reason": "", "labels": labels, "restricted": True}
        return item | hidden | ({"summary": kind} if "summary" in item else {})

    def case(self, data: dict[str, Any], authors: Mapping[int, str]) -> dict[str, Any]:
        """A case's plain data as this reader sees it (``authors``: who recorded the
        versions its entries name, where known)."""
        redacted = dict(data)
        intake_hidden = self.access(1, authors.get(1)) is not Access.FULL
        if intake_hidden:
            for field in INTAKE_FIELDS:
                redacted[field] = blank(data[field])
        for part in ENTRY_LISTS:
            redacted[part] = [
                self.entry(item, authors.get(entry_version(item))) for item in data[part]
            ]
        pending = data["pending_transfer"]
        redacted["pending_transfer"] = None if pending is None else self.entry(pending)
        redacted["plans"] = [self.plan(p) for p in data["plans"]]
        current = data["current_plan"]
        redacted["current_plan"] = None if current is None else self.plan(current)
        if intake_hidden:
            # A plan holds no version of its own worth telling apart: it is read as the
            # intake is.
            redacted["plans"] = [placeholder(p) | {"restricted": True} for p in data["plans"]]
            current = data["current_plan"]
            redacted["current_plan"] = (
                None if current is None else placeholder(current) | {"restricted": True}
            )
        redacted["restricted"] = intake_hidden or any(
            i["restricted"] for part in ENTRY_LISTS for i in redacted[part]
        )
        redacted["read_basis"] = self.basis
        return redacted


def _referral_version(case: Case, row: Mapping[str, Any]) -> int | None:
    return case.referrals.made.get(str(row["referral_id"]))


def _application_version(case: Case, row: Mapping[str, Any]) -> int | None:
    found = case.benefit_applications.get(str(row["application_id"]))
    return None if found is None else found.version


def _row_version(_case: Case, row: Mapping[str, Any]) -> int | None:
    return int(row["version"])


# How a listing's row names the case version that recorded its entry, by kind of entry.
ROW_VERSION: dict[str, Callable[[Case, Mapping[str, Any]], int | None]] = {
    "referral": _referral_version,
    "benefit_application": _application_version,
    "score": _row_version,
}


def entry_version(item: Mapping[str, Any]) -> int:
    """The case version that recorded an entry shown as plain data."""
    return int(next(item[k] for k in VERSION_KEYS if k in item))


def placeholder(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v if k in KEPT else blank(v) for k, v in item.items()}


def blank(value: Any) -> Any:
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return ""
    if isinstance(value, int | float):
        return type(value)(0)
    if isinstance(value, date | UUID):  # when, and the records it belongs to: kept
        return value
    if isinstance(value, list | tuple):
        return []
    if isinstance(value, dict):
        return {k: blank(v) for k, v in value.items()}
    return None


class NeedToKnow(WritePath):
    """Who reads a case on what basis, and break-glass reads."""

    @property
    def break_glass_read_roles(self) -> frozenset[str]:
        """Roles that may break the glass to read a case they have no need to know
        (``CASERECORD_BREAK_GLASS_READ_ROLES``; caseworkers and supervisors by default)."""
        configured = self.env.get("BREAK_GLASS_READ_ROLES") or "caseworker,supervisor"
        return frozenset(r.strip() for r in configured.split(",") if r.strip())

    def reading(self, actor: Actor, case: Case, now: datetime | None = None) -> Reading:
        """How ``actor`` reads ``case`` at ``now`` (the case as it stands decides the
        relation, whichever version of it is read)."""
        now = now or datetime.now(UTC)
        facts = case.need_to_know_facts(now.date())
        reader = ReaderFacts(actor.role, actor.id, self._psychotherapy_consent(actor, case, now))
        related = relation(reader, facts, now)
        window = None
        if related is Relation.BREAK_GLASS:
            window = next(w for w in reversed(facts.break_glass) if w.staff_id == actor.id)
        return Reading(reader, related, case.labels_of, window)

    def read_basis(self, actor: Actor, case_id: UUID) -> Reading:
        """The reading of the case as it stands now."""
        return self.reading(actor, self._case(actor, case_id))

    def _psychotherapy_consent(self, actor: Actor, case: Case, now: datetime) -> bool:
        """A consent in force naming the reader (a person, by staff id) for psychotherapy
        notes; "all data" does not reach them: they need to be named."""
        if actor.role == Role.COMPLIANCE_REVIEWER:
            return False
        client = self._get(Client, case.client_id, None)
        if client is None:
            return False
        return any(
            c.recipient_kind == RecipientKind.PERSON
            and c.names(actor.id)
            and PSYCHOTHERAPY in c.data
            and c.in_force(now)
            for c in client.consents.values()
        )

    def readable_rows(
        self, actor: Actor, kind: str, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Rows of a listing across cases (a read model's: the referral tracker, the
        benefits tracker, a client's scores), each about an entry of ``kind`` of the case
        its ``case_id`` names, as the reader's need to know of that case allows: a row the
        reader may not read in full keeps its place and ids, never its content."""
        readings: dict[UUID, tuple[Case, Reading]] = {}
        shown = []
        for row in rows:
            case_id = UUID(str(row["case_id"]))
            if case_id not in readings:
                case = self._case(actor, case_id)
                readings[case_id] = (case, self.reading(actor, case))
            case, reading = readings[case_id]
            version = ROW_VERSION[kind](case, row)
            if version is not None and reading.access(version, None) is Access.FULL:
                shown.append(row)
            else:
                shown.append(placeholder(row) | {"restricted": True})
        return shown

    def readable_note(self, reading: Reading, note: dict[str, Any], author: str) -> dict[str, Any]:
        """A note fetched by its id: 404 where its labels hide it from this reader."""
        if reading.access(int(note["version"]), author, by_id=True) is Access.HIDDEN:
            raise NoteNotFoundError(f"no note {note['note_id']} on this case")
        return reading.shown(note, author)

    def break_glass_events(self, refs: Iterable[tuple[UUID, int]]) -> list[dict[str, Any]]:
        """Break-glass reads by (case stream, version), as recorded."""
        rows = []
        for case_id, version in refs:
            event = self.events_at(case_id, [version])[version]
            if isinstance(event, Case.BreakGlassOpened):
                ends_at = event.opened_at + timedelta(minutes=event.minutes)
                rows.append(
                    {
                        "case_id": case_id,
                        "version": version,
                        "staff_id": event.staff_id,
                        "actor_role": event.actor_role,
                        "reason": event.reason,
                        "minutes": event.minutes,
                        "opened_at": event.opened_at,
                        "ends_at": ends_at,
                        "recorded_at": event.timestamp,
                    }
                )
        return rows

    def open_break_glass(
        self, actor: Actor, case_id: UUID, *, minutes: int, **opts: Unpack[Options]
    ) -> CommandResult:
        """Record a break-glass read of the case by the actor, for ``minutes`` from now
        (a reason is required; roles as ``break_glass_read_roles``)."""
        if actor.role not in self.break_glass_read_roles:
            allowed = ", ".join(sorted(self.break_glass_read_roles))
            raise OverrideNotAllowedError(f"only {allowed} may break the glass to read")
        reason = opts.get("reason") or ""
        now = datetime.now(UTC)
        # The window opens when it is recorded: a read cannot be broken into in the past.
        opts["effective_at"] = None
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.open_break_glass(actor.id, now, minutes, reason),
            by_anyone=True,
        )
