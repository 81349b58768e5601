"""Need-to-know on reads: the facts the policy (``domain/need_to_know.py``) asks for,
gathered for one reader and one case, and the redaction of what the reader may not see."""

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
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
    CaseFacts,
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
    # Whose entry decides who reads a version whose author the caller may not know (a task
    # on a psychotherapy note is read as the note is: its author's).
    authors: Mapping[int, str] = field(default_factory=dict)

    @property
    def basis(self) -> str:
        return str(self.relation)

    def access(self, version: int, author: str | None, *, by_id: bool = False) -> Access:
        author = self.authors.get(version, author)
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
        author = self.authors.get(version, str(item["actor"]["id"]))
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


# How a listing's row names the case version that recorded its entry, by kind of entry.
ROW_VERSION: dict[str, Callable[[Case, Mapping[str, Any]], int | None]] = {
    "referral": _referral_version,
    "benefit_application": _application_version,
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


def case_facts(case: Case, now: datetime) -> CaseFacts:
    """What the policy asks of a case as it stands, its care team on ``now``'s day."""
    return case.need_to_know_facts(now.date())


# What a listed administration said, and its blank.
SCORE_CONTENT: dict[str, Any] = {
    "instrument": "",
    "respondent": "",
    "total": None,
    "band": None,
    "flags": (),
}
RESTRICTED_TITLE = "Restricted entry"
CASE_TOPIC = "caserecord.domain.case:"
# Events about another entry of a case, by the field naming that entry's version.
ABOUT_FIELDS = {
    "EntryMarkedInError": "target_version",
    "EntryRelabelled": "target_version",
    "SafetyFlagReviewed": "flag_version",
}


# Roles whose relation to every case of their agency has a need to know (the reviewer's,
# the supervisor's or a stronger one): a listing need not load a case to decide it.
ROLE_RELATIONS: dict[str, Relation] = {
    Role.COMPLIANCE_REVIEWER: Relation.REVIEWER,
    Role.SUPERVISOR: Relation.SUPERVISOR,
}


class PageReading:
    """One reader's need to know over a page of rows from many cases (the audit trail,
    the event feed, a worklist, a client's scores): an unlabelled row asks nothing; a
    labelled one asks the reader's relation to its case, worked out once per case (and
    not at all for a supervisor or a reviewer, whose role decides it); a psychotherapy
    row the reader did not write asks the client's consents, once per client."""

    def __init__(self, records: "NeedToKnow", actor: Actor, now: datetime | None = None) -> None:
        self.records = records
        self.actor = actor
        self.now = now or datetime.now(UTC)
        self.reader = ReaderFacts(actor.role, actor.id)
        self.relations: dict[UUID, Relation] = {}
        self.consents: dict[UUID, bool] = {}

    def relation(self, case_id: UUID) -> Relation:
        found = self.relations.get(case_id) or ROLE_RELATIONS.get(self.actor.role)
        if found is None:
            found = self.records.relation_to(self.actor, case_id, self.now)
        self.relations[case_id] = found
        return found

    def access(
        self,
        case_id: UUID,
        client_id: UUID,
        labels: Collection[str],
        authors: Iterable[str | None] = (None,),
    ) -> Access:
        """How the reader sees an entry of the case carrying ``labels``, written by any
        of ``authors`` (an entry about another one, say an addendum, is read by its own
        author and by whoever reads the entry it is about)."""
        if not labels:
            return Access.FULL
        related = self.relation(case_id)
        authors = tuple(authors) or (None,)
        if any(entry_access(self.reader, related, labels, a) is Access.FULL for a in authors):
            return Access.FULL
        if PSYCHOTHERAPY not in labels:
            return Access.PLACEHOLDER
        consented = self.consents.get(client_id)
        if consented is None:
            consented = self.records.psychotherapy_consent(self.actor, client_id, self.now)
            self.consents[client_id] = consented
        if not consented:
            return Access.PLACEHOLDER
        named = ReaderFacts(self.actor.role, self.actor.id, psychotherapy_consent=True)
        return entry_access(named, related, labels, None)

    def audit_row(self, row: dict[str, Any]) -> dict[str, Any]:
        """An audit trail row as the reader sees it: a restricted entry's row keeps its
        type, place, actor and hash, its summary says only the event type, its reason is
        blank."""
        row = dict(row)
        authors = (row["actor"]["id"], row.pop("entry_author", None))
        labels = row["labels"]
        shown = row["case_id"] is None or (
            self.access(row["case_id"], row["client_id"], labels, authors) is Access.FULL
        )
        if shown:
            return row | {"restricted": False}
        return row | {"summary": row["event_type"], "reason": "", "restricted": True}


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
        facts = case_facts(case, now)
        reader = ReaderFacts(actor.role, actor.id, self._psychotherapy_consent(actor, case, now))
        related = relation(reader, facts, now)
        window = None
        if related is Relation.BREAK_GLASS:
            window = next(w for w in reversed(facts.break_glass) if w.staff_id == actor.id)
        if not any(t.concerns == "note" for t in case.tasks.values()):
            return Reading(reader, related, case.labels_of, window)
        labels_of, authors = self._tasks_on_notes(case)
        return Reading(reader, related, labels_of, window, authors)

    def _tasks_on_notes(self, case: Case) -> tuple[Callable[[int], list[str]], dict[int, str]]:
        """The case's labels by version with a task on a note carrying the note's labels,
        and the note's author for such a task on a psychotherapy note: what the task says
        is about the note, so it is read as the note is."""
        on_notes = {t.version: t.concerns_id for t in case.tasks.values() if t.concerns == "note"}
        found = self.entries(case).notes(sorted(set(on_notes.values())))
        about = {v: found[n] for v, n in on_notes.items() if n in found}

        def labels_of(version: int) -> list[str]:
            if version not in about:
                return case.labels_of(version)
            return sorted({*case.labels_of(version), *case.labels_of(about[version])})

        therapy = {v: n for v, n in about.items() if PSYCHOTHERAPY in case.labels_of(n)}
        notes = self.events_at(case.id, sorted(set(therapy.values()))) if therapy else {}
        return labels_of, {v: str(notes[n].actor_id) for v, n in therapy.items() if n in notes}

    def read_basis(self, actor: Actor, case_id: UUID) -> Reading:
        """The reading of the case as it stands now."""
        return self.reading(actor, self._case(actor, case_id))

    def page_reading(self, actor: Actor) -> "PageReading":
        """``actor``'s need to know over a page of rows from many cases."""
        return PageReading(self, actor)

    def events_as_read(
        self, actor: Actor, events: Iterable[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Events as plain data (``event_to_dict``) from many streams, each case's as the
        reader's relation to that case lets them be read (``Reading.event``); an event
        about another entry (an addendum or a task on a note, a marking, a relabelling, a
        safety flag's review) is read as that entry is too.  Each case is loaded once."""
        events = list(events)
        by_case: dict[UUID, list[dict[str, Any]]] = {}
        for e in events:
            if e["topic"].startswith(CASE_TOPIC):
                by_case.setdefault(UUID(str(e["stream_id"])), []).append(e)
        readings: dict[UUID, Reading] = {}
        subjects: dict[UUID, dict[int, int]] = {}
        for stream, its in by_case.items():
            case = self._case(actor, stream)
            readings[stream] = self.reading(actor, case)
            subjects[stream] = self._subjects(case, its)
        shown = []
        for e in events:
            if not e["topic"].startswith(CASE_TOPIC):
                shown.append(e)
                continue
            stream = UUID(str(e["stream_id"]))
            about = subjects[stream].get(int(e["version"]))
            shown.append(readings[stream].event(e, about))
        return shown

    def _subjects(self, case: Case, events: list[dict[str, Any]]) -> dict[int, int]:
        """Version of each of the case's ``events`` about another entry -> that entry's
        version (an addendum's or a marked addendum's note), in two index queries."""
        entries = self.entries(case)
        targets: dict[int, int] = {}
        notes: dict[int, str] = {}
        for e in events:
            data, version = e["data"], int(e["version"])
            field = ABOUT_FIELDS.get(str(e["type"]))
            if field is not None:
                targets[version] = int(data[field])
            elif e["type"] == "AddendumAppended":
                notes[version] = str(data["note_id"])
            elif e["type"] == "TaskCreated" and data.get("concerns") == "note":
                notes[version] = str(data["concerns_id"])
        marked = entries.at(set(targets.values())) if targets else {}
        for version, target in targets.items():
            entry = marked.get(target)
            if entry is not None and entry.kind == "addendum":
                notes[version] = entry.entity_id
        found = entries.notes(sorted(set(notes.values()))) if notes else {}
        about = dict(targets)
        about.update({v: found[n] for v, n in notes.items() if n in found})
        return about

    def worklist_items(self, actor: Actor, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Worklist items as ``actor`` may read them: an item whose title comes from an
        entry the reader may not read keeps its kind, case, due date and link, and says
        only that it is restricted.  A task on a note is read as the note is too (its
        labels and author from the entry index and the log, once per case)."""
        items = list(items)
        page = self.page_reading(actor)
        wanted: dict[UUID, set[str]] = {}
        for item in items:
            if item["about_note"]:
                wanted.setdefault(item["case_id"], set()).add(item["about_note"])
        notes: dict[tuple[UUID, str], tuple[list[str], str]] = {}
        for case_id, note_ids in wanted.items():
            case = self._case(actor, case_id)
            versions = self.entries(case).notes(sorted(note_ids))
            events = self.events_at(case_id, sorted(versions.values()))
            for note_id, version in versions.items():
                author = str(events[version].actor_id)
                notes[(case_id, note_id)] = (case.labels_of(version), author)
        shown = []
        for item in items:
            item = dict(item)
            labels, authors = set(item.pop("labels")), list[str | None]([None])
            derived = not (item["kind"] == "task" or item["subject_id"].startswith("tasks/"))
            if derived and item["owner_id"] == actor.id:
                # What the record makes due is the case manager's: no need to load the case.
                page.relations.setdefault(item["case_id"], Relation.OWN_CASE)
            note = notes.get((item["case_id"], item.pop("about_note")))
            if note is not None:
                labels |= set(note[0])
                authors = [note[1]]
            access = page.access(item["case_id"], item["client_id"], labels, authors)
            item |= {"labels": sorted(labels), "restricted": access is not Access.FULL}
            shown.append(item | ({"title": RESTRICTED_TITLE} if item["restricted"] else {}))
        return shown

    def scores_as_read(
        self, actor: Actor, rows: Iterable[dict[str, Any]], client_id: UUID | None = None
    ) -> list[dict[str, Any]]:
        """Administrations listed across cases (a client's trend, the agency's safety
        flags due) as ``actor`` may read them: one the reader may not read keeps its case,
        version and time and blanks what it said.  Each case is loaded once, for its
        labels."""
        page = self.page_reading(actor)
        cases: dict[UUID, Case] = {}
        shown = []
        for row in rows:
            case_id = row["case_id"]
            if case_id not in cases:
                cases[case_id] = self._case(actor, case_id)
            labels = cases[case_id].labels_of(int(row["version"]))
            owner = client_id or row["client_id"]
            restricted = page.access(case_id, owner, labels) is not Access.FULL
            found = dict(row) | {"labels": labels, "restricted": restricted}
            if restricted:
                found |= {k: blank(v) for k, v in SCORE_CONTENT.items() if k in row}
            shown.append(found)
        return shown

    def audit_rows(self, actor: Actor, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Audit trail rows as ``actor`` may read them (``PageReading.audit_row``)."""
        page = self.page_reading(actor)
        return [page.audit_row(r) for r in rows]

    def relation_to(self, actor: Actor, case_id: UUID, now: datetime) -> Relation:
        """The reader's relation to the case as it stands (``other`` for no such case)."""
        case = self._get(Case, case_id, None)
        if case is None or case.agency_id != actor.agency_id:
            return Relation.OTHER
        return relation(ReaderFacts(actor.role, actor.id), case_facts(case, now), now)

    def _psychotherapy_consent(self, actor: Actor, case: Case, now: datetime) -> bool:
        return self.psychotherapy_consent(actor, case.client_id, now)

    def psychotherapy_consent(self, actor: Actor, client_id: UUID, now: datetime) -> bool:
        """A consent in force naming the reader (a person, by staff id) for psychotherapy
        notes; "all data" does not reach them: they need to be named."""
        if actor.role == Role.COMPLIANCE_REVIEWER:
            return False
        client = self._get(Client, client_id, None)
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
        benefits tracker), each about an entry of ``kind`` of the case
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
