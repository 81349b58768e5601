"""The case "as of" a moment: as the agency knew it then (recorded), as it was in effect
then as known now (effective), or both ("known at T1 about T2").

Recorded: the events recorded up to T.  Timestamps of one stream grow with its versions,
so that is the case at one version, rebuilt from the nearest snapshot.  Effective: the
events that took effect up to T, applied in version order (the order they were recorded
in, which their checks assumed), with every entry marked in error set aside, whenever the
marking was recorded.  An event whose effect depends on one outside the cut (progress on a
goal whose creation took effect later) cannot apply; it is set aside and listed, never
guessed at.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from caserecord.application import CaseRecords, project_keeping
from caserecord.domain.base import RecordAggregate
from caserecord.domain.case import Case
from caserecord.domain.entities import Recorded
from caserecord.domain.errors import CaseNotFoundError, DomainError
from caserecord.domain.recording import Actor
from caserecord.domain.replay import apply_next
from caserecord.entries import Entries
from caserecord.history.index import Entry, StreamIndex
from caserecord.history.log import MARKING, check_access, check_time
from caserecord.projections.base import iso


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
    reading = records.read_basis(actor, case_id)
    day = reading_day(recorded_at, effective_at)
    result = records.case_state(case, read=read, reading=reading, on=day)
    result["as_of"] = replayed
    return result


def reading_day(recorded_at: datetime | None = None, effective_at: datetime | None = None) -> date:
    """The day an "as of" read is about, which decides whether a referral had expired:
    that of ``effective_at`` (what was in effect then), else of ``recorded_at``, else
    today (a read of the case as it stands)."""
    moment = effective_at or recorded_at or datetime.now(UTC)
    return moment.astimezone(UTC).date()


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
    ``referral_page`` given the :func:`reading_day`, ``progress_page`` of the service)."""
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
    index: StreamIndex,
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
