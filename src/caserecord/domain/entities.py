"""Parts of a case: small mutable records kept inside the Case aggregate.

Each remembers the case version that recorded it, so an entry marked in error can be found
and set aside without rewriting anything.

Longer than a module usually is here because stored snapshots hold these parts under their
class names (``transcodings.py``): every shape a snapshot ever held, the ``Ledger`` of case
class version 5 included, must stay decodable.
"""

import threading
from collections.abc import Callable, Iterable, Iterator, KeysView, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, Protocol, TypeVar


@dataclass
class Change:
    """One status change (or assignment) of an item, in order."""

    version: int
    value: str
    details: dict[str, Any] = field(default_factory=dict)
    in_error: bool = False


def current(changes: list[Change]) -> Change:
    latest = last_standing(changes)
    if latest is None:
        raise IndexError("no change stands")
    return latest


class Markable(Protocol):
    """An entry a later event can mark in error."""

    in_error: bool


E = TypeVar("E", bound=Markable)


def last_standing(entries: list[E]) -> E | None:
    """The latest entry not marked in error, or None.  From the end: a long history (a plan
    suspended and resumed hundreds of times) is checked on every command and replayed
    event, and the latest entry nearly always stands."""
    for entry in reversed(entries):
        if not entry.in_error:
            return entry
    return None


@dataclass
class Assessment:
    version: int
    domain: str
    level: str
    notes: str
    instrument: str
    score: float | None
    in_error: bool = False


@dataclass
class PriorTreatment:
    version: int
    treatment: str
    provider: str
    started_on: date | None
    ended_on: date | None
    outcome: str
    effectiveness: int
    notes: str
    in_error: bool = False


@dataclass
class PlanVersion:
    number: int
    version: int
    title: str
    activities: list[dict[str, Any]]
    next_review_on: date | None
    rationale: str
    in_error: bool = False


@dataclass
class PlanReview:
    """A review meeting of a plan: what the rules and the worklist need (who attended and
    what was said stay in its event, at ``version``)."""

    version: int
    outcome: str
    held_on: date
    next_review_on: date | None
    in_error: bool = False


@dataclass
class Plan:
    plan_id: str
    versions: list[PlanVersion]
    statuses: list[Change]
    in_error: bool = False
    reviews: list[PlanReview] = field(default_factory=list)

    @property
    def status(self) -> str:
        return current(self.statuses).value

    @property
    def next_review_on(self) -> date | None:
        """From the latest of the current version and the reviews that set a date: a
        review that continues the plan moves the date without a new version."""
        version = self.current_version
        review = last_standing([r for r in self.reviews if r.next_review_on is not None])
        if review is not None and review.version > version.version:
            return review.next_review_on
        return version.next_review_on

    @property
    def revision_due(self) -> PlanReview | None:
        """The latest review, if it decided to modify the plan and no version followed."""
        review = last_standing(self.reviews)
        if review is None or review.outcome != "modify":
            return None
        return None if self.current_version.version > review.version else review

    @property
    def current_version(self) -> PlanVersion:
        latest = last_standing(self.versions)
        if latest is None:  # never: the draft is set aside only with the whole plan
            raise IndexError("no plan version stands")
        return latest


@dataclass
class GoalRevision:
    """``measure``: the baseline and target of a value with its unit, or of a score on a
    named instrument (see ``check_measure``); ``need``: the need the goal addresses;
    ``target_instrument``, ``target_score``, ``direction``: a goal met by a score
    (PHQ-9 below 10), whose progress the instrument's administrations show."""

    version: int
    description: str
    need_domain: str
    target_measure: str
    due_on: date | None
    in_error: bool = False
    priority: str = ""
    need: str = ""
    measure: dict[str, Any] | None = None
    target_instrument: str = ""
    target_score: float | None = None
    direction: str = ""


@dataclass
class SafetyFlag:
    """Safety flags an administration raised (PHQ-9 item 9): due for the case manager
    until reviewed.  ``version``: the administration's."""

    version: int
    instrument: str
    flags: list[str]
    reviewed_in: int | None = None
    in_error: bool = False


# Case version 2 kept progress whole: its snapshots still decode to these.
@dataclass
class Progress:
    version: int
    achievement: str
    measured_value: str
    note: str
    in_error: bool = False


@dataclass
class Goal:
    """``progress``: how many progress entries were recorded on the goal.  A goal followed
    for years gathers thousands and no rule reads them, so they stay in the events and the
    record's entry index (a correction's record says which are set aside)."""

    goal_id: str
    plan_id: str
    revisions: list[GoalRevision]
    lifecycle: list[Change]
    progress: int = 0
    in_error: bool = False

    @property
    def status(self) -> str:
        return current(self.lifecycle).value


@dataclass
class Task:
    """An explicit piece of work on a case: whose it is (``owners``, in order), when it is
    due, and the part of the case it concerns (``concerns``: a kind of ``TaskConcerns``,
    with the part's id unless it is the case itself)."""

    task_id: str
    version: int
    title: str
    due_on: date
    concerns: str
    concerns_id: str
    owners: list[Change]
    statuses: list[Change]
    in_error: bool = False

    @property
    def status(self) -> str:
        return current(self.statuses).value

    @property
    def owner_id(self) -> str:
        return current(self.owners).value


@dataclass
class Referral:
    """What the referral's rules need: its status history, the organisation it is sent to
    (whose provider may answer it) and its response deadline (past it, a referral still
    awaiting an answer has expired).  What it asks for (service, need, urgency...) is in
    the event that made it, at ``version``.  Snapshots taken before the organisation and
    deadline were kept hold neither: such a referral never expires and no provider answers
    it."""

    referral_id: str
    version: int
    statuses: list[Change]
    in_error: bool = False
    organization_id: str = ""
    respond_by: date | None = None

    def __post_init__(self) -> None:
        for change in self.statuses:
            if change.value == "pending":  # the name ``sent`` had before version 2
                change.value = "sent"

    @property
    def status(self) -> str:
        return current(self.statuses).value

    @property
    def rerouted_to(self) -> str:
        """The referral that took its place, or "" (a declined or expired one re-routed)."""
        return str(current(self.statuses).details.get("rerouted_to", ""))

    @staticmethod
    def from_version_2(fields: list[Any]) -> list[Any]:
        """The field values version 2 stored, as this class takes them (it also kept
        resource kind, organisation, service, reason, urgency and respond-by)."""
        return [fields[0], fields[1], fields[8], *fields[9:]]


class Referrals:
    """A case's referrals by id, in the order they were made: a mapping (``[id]``, ``get``,
    ``in``, ``len``, iteration over ids, ``values``, ``items``, ``==``) plus the index
    ``made`` (id -> the version that made it).

    A long case makes hundreds of referrals and every read of it starts from a snapshot
    holding them all, while a read shows the latest few and a replay touches the ones its
    events name.  So a snapshot restores them in their stored form, with a function that
    makes a Referral of one (``restored``), and each is made the first time it is used;
    until then the stored form is what a snapshot of this state stores again.  Not a dict
    subclass: the JSON encoder would write one as a plain object, never asking a
    transcoding.
    """

    def __init__(self, referrals: Iterable[Referral] = ()) -> None:
        self._parts: dict[str, Referral] = {r.referral_id: r for r in referrals}
        self.made: dict[str, int] = {i: r.version for i, r in self._parts.items()}
        self._stored: dict[str, Any] = {}
        self._make: Callable[[Any], Referral] | None = None

    @classmethod
    def restored(
        cls, made: dict[str, int], stored: dict[str, Any], make: Callable[[Any], Referral]
    ) -> "Referrals":
        """``made``: as the attribute; ``stored``: each referral's stored form, by id;
        ``make``: a module-level function (the state is pickled) that makes one a Referral."""
        found = cls()
        found.made, found._stored, found._make = made, stored, make
        return found

    def add(self, referral: Referral) -> None:
        self._parts[referral.referral_id] = referral
        self.made[referral.referral_id] = referral.version

    def stored_or_part(self, referral_id: str) -> Any:
        """The referral as stored if it has not been used since it was restored (a
        snapshot stores it unchanged), else the Referral."""
        part = self._parts.get(referral_id)
        return self._stored[referral_id] if part is None else part

    def __getitem__(self, referral_id: str) -> Referral:
        part = self._parts.get(referral_id)
        if part is None:
            stored = self._stored.pop(referral_id)  # KeyError: no such referral
            assert self._make is not None
            part = self._parts[referral_id] = self._make(stored)
        return part

    def get(self, referral_id: str, default: Referral | None = None) -> Referral | None:
        return self[referral_id] if referral_id in self.made else default

    def __contains__(self, referral_id: object) -> bool:
        return referral_id in self.made

    def __len__(self) -> int:
        return len(self.made)

    def __iter__(self) -> Iterator[str]:
        return iter(self.made)

    def keys(self) -> KeysView[str]:
        return self.made.keys()

    def values(self) -> list[Referral]:
        return [self[i] for i in self.made]

    def items(self) -> list[tuple[str, Referral]]:
        return [(i, self[i]) for i in self.made]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Referrals):
            other = dict(other.items())
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Referrals({self.values()!r})"


# Notes and addenda are no longer kept in the case (class version 2 keeps an index): these
# shape the pages of notes read from the log, and snapshots of version 1 still decode to them.
@dataclass
class Addendum:
    version: int
    text: str
    in_error: bool = False
    effective_at: datetime | None = None
    recorded_at: datetime | None = None


@dataclass
class Note:
    note_id: str
    version: int
    text: str
    contact_kind: str
    contact_mode: str
    present: list[str]
    addenda: list[Addendum] = field(default_factory=list)
    in_error: bool = False
    # Defaults keep snapshots taken before notes were dated readable.
    effective_at: datetime | None = None
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class Recorded:
    """What one version of a case recorded that the case does not keep: a note, an
    addendum to one, or progress on a goal.  The service finds it in the record's entry
    index and hands it to the command that needs it (the domain reads no store)."""

    version: int
    kind: str  # "note", "addendum" or "progress"
    entity_id: str  # the note's id (an addendum's note's), or the goal's
    note_version: int | None = None  # an addendum's note


@dataclass
class Correction:
    """An earlier event of the case set aside: which version, by which later version.

    A list of these rather than a dict keyed by version, because snapshots go through JSON,
    which would turn integer keys into strings.
    """

    target_version: int
    marked_in: int


@dataclass
class CareTeamMember:
    """Someone on a case's care team for a period: a staff member of the agency
    (``staff_id``) or someone outside it (``organisation``, ``contact``).  ``starts_on`` and
    ``ends_on`` are the first and last days of the period; ``ended_in`` the case version
    that ended it."""

    member_id: str
    version: int
    staff_id: str
    name: str
    role: str
    organisation: str
    contact: str
    starts_on: date
    ends_on: date | None = None
    ended_in: int | None = None
    end_reason: str = ""

    @property
    def current(self) -> bool:
        return self.ended_in is None

    def on_team(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


@dataclass
class Transfer:
    """A handoff of the case to another case manager: requested with a summary, then
    accepted, declined or cancelled (``statuses``, as ``values.TransferStatus``)."""

    transfer_id: str
    version: int
    from_staff_id: str
    to_staff_id: str
    handoff_summary: str
    statuses: list[Change]

    @property
    def status(self) -> str:
        return current(self.statuses).value


ENTITY_CLASSES: tuple[type, ...] = (
    Change,
    Assessment,
    PriorTreatment,
    PlanVersion,
    Plan,
    GoalRevision,
    Progress,
    Goal,
    Referral,
    Addendum,
    Note,
    Correction,
    PlanReview,
    Task,
    SafetyFlag,
    CareTeamMember,
    Transfer,
)


K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")
CHUNK = 64


class Sealed(dict[Any, Any]):
    """A full chunk of a ledger: never changed again."""

    __slots__ = ()


_sharing = threading.local()


@contextmanager
def sharing_sealed_chunks() -> Iterator[None]:
    """Within, pickling a ledger passes its sealed chunks by reference (for a copy made by
    a pickle round trip in this thread) instead of writing them out."""
    _sharing.shared = []
    try:
        yield
    finally:
        del _sharing.shared


class Ledger(Generic[K, V]):
    """An ordered mapping that only grows, for what a case accumulates for as long as it
    runs (the index of its notes, their addenda, a goal's progress): full chunks are sealed
    and never changed again, so a copy shares them and costs the same whether the case is
    a month or ten years old.  Every command works on a copy of the cached case.

    Setting a key already present shadows the earlier value (the latest one is read);
    iteration yields each key once per setting, in order, which is what the indexes here
    need (their keys are set once, or are read by key)."""

    __slots__ = ("_sealed", "_size", "_tail")

    def __init__(self, items: Iterable[tuple[K, V]] = ()) -> None:
        self._sealed: tuple[Sealed, ...] = ()
        self._tail: dict[K, V] = {}
        self._size = 0
        for key, value in items:
            self[key] = value

    def __setitem__(self, key: K, value: V) -> None:
        if key in self._tail:
            self._size -= 1
            del self._tail[key]  # the newer setting goes last
        self._tail[key] = value
        self._size += 1
        if len(self._tail) >= CHUNK:
            self._sealed = (*self._sealed, Sealed(self._tail))
            self._tail = {}

    def get(self, key: K, default: D = None) -> V | D:  # type: ignore[assignment]
        if key in self._tail:
            return self._tail[key]
        for chunk in reversed(self._sealed):
            if key in chunk:
                found: V = chunk[key]
                return found
        return default

    def __getitem__(self, key: K) -> V:
        found = self.get(key, _MISSING)
        if found is _MISSING:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return self.get(key, _MISSING) is not _MISSING  # type: ignore[arg-type]

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[K]:
        for chunk in self._sealed:
            yield from chunk
        yield from self._tail

    def items(self) -> "LedgerItems[K, V]":
        return LedgerItems(self)

    def values(self) -> list[V]:
        return [v for _, v in self.items()]

    def copy(self) -> "Ledger[K, V]":
        copied: Ledger[K, V] = Ledger.__new__(Ledger)
        copied._sealed = self._sealed
        copied._tail = dict(self._tail)
        copied._size = self._size
        return copied

    def __deepcopy__(self, memo: dict[int, Any]) -> "Ledger[K, V]":
        return self.copy()  # keys and values are immutable

    def __reduce__(self) -> tuple[Any, ...]:
        shared: list[Any] | None = getattr(_sharing, "shared", None)
        if shared is None:
            return (_ledger, (self._sealed, self._tail, self._size))
        shared.append(self._sealed)
        return (_shared_ledger, (len(shared) - 1, self._tail, self._size))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Ledger):
            return list(self.items()) == list(other.items())
        if isinstance(other, dict):
            return dict(self.items()) == other and len(other) == len(self)
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Ledger({list(self.items())!r})"


_MISSING: Any = object()


def _ledger(sealed: tuple[Sealed, ...], tail: dict[Any, Any], size: int) -> Ledger[Any, Any]:
    made: Ledger[Any, Any] = Ledger.__new__(Ledger)
    made._sealed, made._tail, made._size = tuple(sealed), tail, size
    return made


def _shared_ledger(index: int, tail: dict[Any, Any], size: int) -> Ledger[Any, Any]:
    return _ledger(_sharing.shared[index], tail, size)


class LedgerItems(Generic[K, V]):
    """A ledger's (key, value) pairs, oldest first; ``reversed`` gives the newest first
    without walking the rest (a page of a long case)."""

    def __init__(self, ledger: Ledger[K, V]) -> None:
        self._ledger = ledger

    def __iter__(self) -> Iterator[tuple[K, V]]:
        for chunk in self._ledger._sealed:
            yield from chunk.items()
        yield from self._ledger._tail.items()

    def __reversed__(self) -> Iterator[tuple[K, V]]:
        yield from reversed(self._ledger._tail.items())
        for chunk in reversed(self._ledger._sealed):
            yield from reversed(chunk.items())

    def __len__(self) -> int:
        return len(self._ledger)
