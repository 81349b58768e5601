"""A case's history from the event log itself: the timeline, "as of" replay and the
difference between two moments.

Two time axes:

* recorded: what the agency knew at T, i.e. the events recorded up to T.  Timestamps of
  one stream grow with its versions, so that is the case at one version, rebuilt from the
  nearest snapshot.
* effective: what was true at T, as known now, i.e. the events that took effect up to T,
  applied in version order (the order they were recorded in, which their checks assumed),
  with every entry marked in error set aside, whenever the marking was recorded.  Both
  together ("known at T1 about T2") apply the effective rule to the events recorded up to T1.

An event whose effect depends on one outside the cut (progress on a goal whose creation
took effect later) cannot apply; it is set aside and listed, never guessed at.

Versions are found with the (stream, version, recorded_at, effective_at) rows of the audit
trail view when they are there, and from the log for anything the view has not reached
yet, so a lagging or empty view makes a replay slower, never wrong.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import PersistenceError

from caserecord.application import CaseRecords, project_keeping
from caserecord.domain.base import RecordAggregate
from caserecord.domain.case import Case
from caserecord.domain.entities import Recorded
from caserecord.domain.errors import CaseNotFoundError, DomainError, InvalidValueError
from caserecord.domain.recording import Actor
from caserecord.domain.replay import apply_next
from caserecord.entries import Entries
from caserecord.persistence.decoding import decoded, presented
from caserecord.presenters import event_to_dict
from caserecord.projections.base import envelope, iso
from caserecord.projections.sql import Database
from caserecord.projections.summaries import summarise

AXES = ("recorded", "effective")
MARKING = "EntryMarkedInError"


@dataclass(frozen=True)
class Entry:
    """Where one event of a case sits on both time axes."""

    version: int
    recorded_at: str
    effective_at: str
    event_type: str
    target_version: int | None


# ---- timeline --------------------------------------------------------------------------
def case_timeline(records: CaseRecords, actor: Actor, case_id: UUID) -> list[dict[str, Any]]:
    """Every event of the case and of its client, in recording order, with a summary, in
    the audit trail's vocabulary (``event_type``, ``stream_kind``, ``in_error``...).

    Entries marked in error name the entry that set them aside (its actor and reason are
    on that entry); addenda point at their note; late entries (effective before they were
    recorded) say so.
    """
    opened = check_access(records, actor, case_id)
    both = [*decoded_events(records, opened.client_id), *decoded_events(records, case_id)]
    events = [presented(e, event_to_dict) for e in sorted(both, key=lambda e: e.timestamp)]
    markings = {
        e["data"]["target_version"]: e
        for e in events
        if e["stream_id"] == case_id and e["type"] == MARKING
    }
    notes = {
        e["data"]["note_id"]: e["version"]
        for e in events
        if e["stream_id"] == case_id and e["type"] == "ProgressNoteRecorded"
    }
    timeline = []
    for e in events:
        in_case = e["stream_id"] == case_id
        marking = markings.get(e["version"]) if in_case else None
        fields = {k: v for k, v in e.items() if k != "type"}
        item = {
            **fields,
            "event_type": e["type"],
            "stream_kind": "case" if in_case else "client",
            "summary": summarise(e["type"], e["data"]),
            "late": e["effective_at"] < e["recorded_at"],
            "in_error": marking is not None,
            "marked_in_error_by": None if marking is None else marking["version"],
            "addendum_to": None,
        }
        if in_case and e["type"] == "AddendumAppended":
            note_id = e["data"]["note_id"]
            item["addendum_to"] = {"note_id": note_id, "note_version": notes.get(note_id)}
        timeline.append(item)
    timeline.sort(key=timeline_key)  # ties of time (rare) in one order pages can follow
    return timeline


def timeline_key(entry: dict[str, Any]) -> tuple[str, str, int]:
    """Where an entry sits in the timeline's order, for continuing after it."""
    return (iso(entry["recorded_at"]), str(entry["stream_id"]), entry["version"])


# ---- "as of" ---------------------------------------------------------------------------
def case_as_of(
    records: CaseRecords,
    actor: Actor,
    case_id: UUID,
    *,
    recorded_at: datetime | None = None,
    effective_at: datetime | None = None,
) -> dict[str, Any]:
    """The case as the agency knew it at ``recorded_at``, as it was in effect at
    ``effective_at`` (as known now), or both ("known at T1 about T2")."""
    read: dict[int, Any] = {}
    case, replayed = state_as_of(records, actor, case_id, recorded_at, effective_at, read)
    result = records.case_state(case, read=read)
    result["as_of"] = replayed
    return result


def page_as_of(
    records: CaseRecords,
    actor: Actor,
    case_id: UUID,
    page: Callable[[Case], dict[str, Any]],
    *,
    recorded_at: datetime | None = None,
    effective_at: datetime | None = None,
) -> dict[str, Any]:
    """A page of the case's notes, referrals or a goal's progress standing "as of" (see
    case_as_of): ``page`` reads it from the case as it stood then (``note_page``,
    ``referral_page``, ``progress_page`` of the service)."""
    case, replayed = state_as_of(records, actor, case_id, recorded_at, effective_at)
    return page(case) | {"as_of": replayed}


def state_as_of(
    records: CaseRecords,
    actor: Actor,
    case_id: UUID,
    recorded_at: datetime | None,
    effective_at: datetime | None,
    read: dict[int, Any] | None = None,
) -> tuple[Case, dict[str, Any]]:
    """The case and what was replayed; ``read``, if given, gets the events read from the
    log on the way, by version."""
    check_time("recorded_at", recorded_at)
    check_time("effective_at", effective_at)
    check_access(records, actor, case_id)
    index = StreamIndex(records, case_id)
    known = index.version_recorded_by(recorded_at) if recorded_at else index.top()
    if known == 0:
        assert recorded_at is not None
        raise CaseNotFoundError(f"case {case_id} had not been opened at {recorded_at.isoformat()}")
    if effective_at is None:
        case = get_case(records, case_id, known, read)
        info = {"applied": known, "excluded": 0, "set_aside": []}
    else:
        case, info = fold_effective(records, index, case_id, known, effective_at, read)
    return case, {
        "recorded_at": recorded_at,
        "effective_at": effective_at,
        "known_version": known,
        "events_applied": info["applied"],
        "events_excluded": info["excluded"],
        "set_aside_versions": info["set_aside"],
    }


def fold_effective(
    records: CaseRecords,
    index: "StreamIndex",
    case_id: UUID,
    known: int,
    at: datetime,
    read: dict[int, Any] | None = None,
) -> tuple[Case, dict[str, Any]]:
    cut = iso(at)
    prefix = index.effective_prefix(known, cut)
    rest = index.entries(prefix, known, cut)
    included = included_versions(rest, cut, prefix)
    if prefix == 0 and 1 not in included:
        raise CaseNotFoundError(f"case {case_id} was not yet open (in effect) at {at.isoformat()}")
    case: Case | None = get_case(records, case_id, prefix, read) if prefix else None
    set_aside: list[int] = []
    # Exactly the versions that apply, in a query per 500: late entries are scattered
    # through the rest of the case, and reading the whole span decoded every event in it.
    events = records.events_at(case_id, sorted(included))
    if read is not None:
        read |= events
    fold = EntriesFolded(Entries(records.store, case_id, prefix))
    for version in sorted(events):
        event = events[version]
        ok = fold.admits(case, event)
        if ok:
            case, ok = apply(case, event)
        if ok:
            fold.applied(event)
        else:
            set_aside.append(event.originator_version)
    assert isinstance(case, Case)
    skipped = set(set_aside)
    case.outside = frozenset(
        v for v in range(prefix + 1, case.version + 1) if v not in included or v in skipped
    )
    applied = prefix + len(included) - len(set_aside)
    return case, {
        "applied": applied,
        "excluded": known - prefix - len(included),
        "set_aside": set_aside,
    }


def included_versions(rest: list[Entry], cut: str, prefix: int) -> set[int]:
    """Versions after the prefix that apply at the cut: those in effect by then, and the
    markings of any entry that applies (a marking counts whenever it was recorded)."""
    included = {e.version for e in rest if e.event_type != MARKING and e.effective_at <= cut}
    for e in rest:
        target = e.target_version
        if (
            e.event_type == MARKING
            and target is not None
            and (target <= prefix or target in included)
        ):
            included.add(e.version)
    return included


class EntriesFolded:
    """The notes, addenda and progress of a state being folded from part of a case's
    events: those up to the prefix from the record's entry index, the rest as they apply.
    The case keeps only their counts, so an addendum whose note is not in the state, or a
    marking of an entry that is not, is refused here with the domain's own checks."""

    def __init__(self, base: Entries) -> None:
        self.base = base
        self.notes: dict[str, int] = {}
        self.located: dict[int, Recorded] = {}

    def note(self, note_id: str) -> Recorded | None:
        version = self.notes.get(note_id)
        return self.base.note(note_id) if version is None else Recorded(version, "note", note_id)

    def entry(self, version: int) -> Recorded | None:
        found = self.located.get(version)
        return self.base.entry(version) if found is None and version <= self.base.upto else found

    def admits(self, case: Case | None, event: RecordAggregate.Event) -> bool:
        if case is None:
            return True
        case.version = event.originator_version - 1  # as ``apply`` does, refused or not
        try:
            if isinstance(event, Case.AddendumAppended):
                case.check_addendum(event.note_id, self.note(event.note_id))
            elif isinstance(event, Case.EntryMarkedInError):
                case.check_marking(event.target_version, self.entry(event.target_version))
        except DomainError:
            return False
        return True

    def applied(self, event: RecordAggregate.Event) -> None:
        v = event.originator_version
        if isinstance(event, Case.ProgressNoteRecorded):
            self.notes[event.note_id] = v
            self.located[v] = Recorded(v, "note", event.note_id)
        elif isinstance(event, Case.AddendumAppended):
            note = self.note(event.note_id)
            self.located[v] = Recorded(
                v, "addendum", event.note_id, None if note is None else note.version
            )
        elif isinstance(event, Case.GoalProgressRecorded):
            self.located[v] = Recorded(v, "progress", event.goal_id)


def apply(case: Case | None, event: RecordAggregate.Event) -> tuple[Case | None, bool]:
    """Apply one event out of its full sequence: the version it expects is set first."""
    if case is not None:
        case.version = event.originator_version - 1
    try:
        folded = apply_next(case, event)
    except DomainError:
        return case, False
    assert isinstance(folded, Case)
    return folded, True


def get_case(
    records: CaseRecords, case_id: UUID, version: int, read: dict[int, Any] | None = None
) -> Case:
    """The case at ``version``; ``read``, if given, gets the events replayed on top of
    its snapshot, by version."""
    case: object = (
        records.repository.get(case_id, version=version)
        if read is None
        else records.repository.get(case_id, version=version, projector_func=project_keeping(read))
    )
    assert isinstance(case, Case)
    return case


# ---- the (stream, version, recorded_at, effective_at) index -------------------------------
class StreamIndex:
    """Versions of one case by time: audit-trail rows first, the log for the rest."""

    def __init__(self, records: CaseRecords, case_id: UUID) -> None:
        self.records = records
        self.case_id = case_id
        self.stream = str(case_id)
        self.db = Database(records.store.datastore)
        self._indexed: int | None = None
        self._tail: list[Entry] | None = None

    @property
    def indexed(self) -> int:
        """The highest version the view holds."""
        if self._indexed is None:
            self._indexed = self._indexed_top()
        return self._indexed

    @property
    def tail(self) -> list[Entry]:
        """The events the view has not reached yet, from the log."""
        if self._tail is None:
            self._tail = [entry(e) for e in self._events_after(self.indexed)]
        return self._tail

    def top(self) -> int:
        return self.tail[-1].version if self.tail else self.indexed

    def version_recorded_by(self, at: datetime) -> int:
        cut = iso(at)
        # The view's top comes in the same query: a version below it was recorded by the
        # cut while the top was not, so no later event can have been either, and the log
        # need not be read for the tail.
        rows = self._query(
            "SELECT version, (SELECT MAX(version) FROM {s}view_audit WHERE stream_id=?) AS top "
            "FROM {s}view_audit WHERE stream_id=? AND recorded_at<=? "
            "ORDER BY recorded_at DESC, version DESC LIMIT 1",
            (self.stream, self.stream, cut),
        )
        found = int(rows[0]["version"]) if rows else 0
        if rows:
            self._indexed = int(rows[0]["top"])
            if found < self._indexed:
                return found
        in_tail = [e.version for e in self.tail if e.recorded_at <= cut]
        return in_tail[-1] if in_tail else found

    def effective_prefix(self, known: int, cut: str) -> int:
        """The highest version v such that every event up to v took effect by the cut."""
        rows = self._query(
            "SELECT MIN(version) AS v FROM {s}view_audit "
            "WHERE stream_id=? AND version<=? AND effective_at>?",
            (self.stream, min(known, self.indexed), cut),
        )
        first_after = rows[0]["v"] if rows and rows[0]["v"] is not None else None
        if first_after is None:
            first_after = next(
                (e.version for e in self.tail if e.version <= known and e.effective_at > cut),
                None,
            )
        return known if first_after is None else int(first_after) - 1

    def entries(self, after: int, upto: int, cut: str) -> list[Entry]:
        """Entries after ``after`` up to ``upto`` that may apply at the cut: those in
        effect by then and every marking (the rest cannot apply, and a long case has
        thousands of them)."""
        rows = self._query(
            "SELECT version, recorded_at, effective_at, event_type, target_version "
            "FROM {s}view_audit WHERE stream_id=? AND version>? AND version<=? "
            "AND (effective_at<=? OR event_type=?) ORDER BY version",
            (self.stream, after, min(upto, self.indexed), cut, MARKING),
        )
        found = [
            Entry(
                int(r["version"]),
                r["recorded_at"],
                r["effective_at"],
                r["event_type"],
                None if r["target_version"] is None else int(r["target_version"]),
            )
            for r in rows
        ]
        return found + [e for e in self.tail if after < e.version <= upto]

    def _indexed_top(self) -> int:
        rows = self._query(
            "SELECT MAX(version) AS v FROM {s}view_audit WHERE stream_id=?", (self.stream,)
        )
        value = rows[0]["v"] if rows else None
        # A stream's rows are written in version order, so versions 1..top are all there.
        return int(value) if value is not None else 0

    def _events_after(self, version: int) -> list[RecordAggregate.Event]:
        return decoded_events(self.records, self.case_id, gt=version or None)

    def _query(self, statement: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        try:
            return self.db.query(statement, params)
        except PersistenceError:
            # No read-model tables (never initialised): fall back to the log alone.
            return []


def entry(event: RecordAggregate.Event) -> Entry:
    target = event.target_version if isinstance(event, Case.EntryMarkedInError) else None
    return Entry(
        event.originator_version,
        iso(event.timestamp),
        iso(envelope(event)["effective_at"]),
        type(event).__name__,
        target,
    )


# ---- difference between two moments ---------------------------------------------------
# The notes a state shows are its latest few, a window that slides as notes are added;
# note_count and the events in between say what changed (referrals and goal progress are
# compared whole).
IGNORED = ("version", "modified_at", "as_of", "notes")
# Most specific first: a goal also carries the id of its plan.
ID_KEYS = ("goal_id", "referral_id", "note_id", "contact_id", "plan_id", "version")


def case_diff(
    records: CaseRecords,
    actor: Actor,
    case_id: UUID,
    *,
    t1: datetime,
    t2: datetime,
    axis: str = "recorded",
) -> dict[str, Any]:
    """What changed in the case from ``t1`` to ``t2`` on one time axis: each changed field
    (an added or removed item once, whole), and the events in between."""
    if axis not in AXES:
        raise InvalidValueError(f"axis must be one of: {', '.join(AXES)} (got {axis!r})")
    check_time("t1", t1)
    check_time("t2", t2)
    if t2 < t1:
        raise InvalidValueError("t2 must not be before t1")
    key = "recorded_at" if axis == "recorded" else "effective_at"

    def on_axis(t: datetime) -> tuple[datetime | None, datetime | None]:
        return (t, None) if axis == "recorded" else (None, t)

    old = state_or_none(records, actor, case_id, *on_axis(t1))
    new, replayed = state_as_of(records, actor, case_id, *on_axis(t2))
    # Every referral and progress entry: a window of the latest would slide.
    before = records.case_state(old[0], every=True) if old else None
    after = records.case_state(new, every=True)
    events = [
        e
        for e in case_timeline(records, actor, case_id)
        if e["stream_kind"] == "case" and t1 < e[key] <= t2
    ]
    return {
        "case_id": case_id,
        "axis": axis,
        "t1": t1,
        "t2": t2,
        "from_version": old[1]["known_version"] if old else 0,
        "to_version": replayed["known_version"],
        "changes": differences(without(before), without(after))
        + note_changes(records, old[0] if old else None, new),
        "events": events,
    }


def note_changes(records: CaseRecords, old: Case | None, new: Case) -> list[dict[str, Any]]:
    """Notes added, set aside or given addenda between two states, each whole: the states
    themselves show only their latest notes."""
    before = records.standing_notes(old) if old else {}
    after = records.standing_notes(new)
    changed = [i for i in after if after[i] != before.get(i)]
    gone = [i for i in before if i not in after]
    kept = [i for i in changed if i in before]
    earlier = dict(zip(gone + kept, records.notes_of(old, gone + kept), strict=True)) if old else {}
    later = dict(zip(changed, records.notes_of(new, changed), strict=True))
    found: list[dict[str, Any]] = []
    for i in [*changed, *gone]:
        found += differences(earlier.get(i), later.get(i), f"notes[{i}]")
    return found


def state_or_none(
    records: CaseRecords,
    actor: Actor,
    case_id: UUID,
    recorded_at: datetime | None,
    effective_at: datetime | None,
) -> tuple[Case, dict[str, Any]] | None:
    try:
        return state_as_of(records, actor, case_id, recorded_at, effective_at)
    except CaseNotFoundError:
        check_access(records, actor, case_id)  # another agency's case stays not found
        return None


def without(state: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (state or {}).items() if k not in IGNORED}


def differences(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[dict[str, Any]] = []
        for k in [*old, *(k for k in new if k not in old)]:
            found += differences(old.get(k), new.get(k), f"{path}.{k}" if path else str(k))
        return found
    key = item_key(old, new)
    if key is not None:
        before = {str(v[key]): v for v in old}
        after = {str(v[key]): v for v in new}
        found = []
        for k in [*before, *(k for k in after if k not in before)]:
            found += differences(before.get(k), after.get(k), f"{path}[{k}]")
        return found
    return [{"path": path, "before": old, "after": new}]


def item_key(old: Any, new: Any) -> str | None:
    """The id that pairs up items of two lists of records, if they have one."""
    if not (isinstance(old, list) and isinstance(new, list)):
        return None
    items = [*old, *new]
    if not items or not all(isinstance(v, dict) for v in items):
        return None
    return next((k for k in ID_KEYS if all(k in v for v in items)), None)


# ---- checks ----------------------------------------------------------------------------
def check_time(name: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise InvalidValueError(f"{name} must include a timezone offset")


def check_access(records: CaseRecords, actor: Actor, case_id: UUID) -> Case.Opened:
    """Tenancy from the case's first event alone: cheap even for a long case."""
    first = next(iter(decoded_events(records, case_id, lte=1)), None)
    if not isinstance(first, Case.Opened) or first.agency_id != actor.agency_id:
        raise CaseNotFoundError(f"no case {case_id}")
    return first


def decoded_events(
    records: CaseRecords, stream_id: UUID, *, gt: int | None = None, lte: int | None = None
) -> list[RecordAggregate.Event]:
    """The stream's events from the log; one that cannot be decoded is named by its
    stream and version (``UnreadableEventError``), never failing the read anonymously."""
    stored = records.recorder.select_events(stream_id, gt=gt, lte=lte)
    events = [decoded(records.mapper, s) for s in stored]
    return [e for e in events if isinstance(e, RecordAggregate.Event)]
