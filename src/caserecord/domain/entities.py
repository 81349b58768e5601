"""Parts of a case: small mutable records kept inside the Case aggregate.

Each remembers the case version that recorded it, so an entry marked in error can be found
and set aside without rewriting anything.
"""

from collections.abc import Callable, Iterable, Iterator, KeysView, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, TypeVar


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


class Entry(Protocol):
    in_error: bool


E = TypeVar("E", bound=Entry)


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
class Plan:
    plan_id: str
    versions: list[PlanVersion]
    statuses: list[Change]
    in_error: bool = False

    @property
    def status(self) -> str:
        return current(self.statuses).value

    @property
    def current_version(self) -> PlanVersion:
        latest = last_standing(self.versions)
        if latest is None:  # never: the draft is set aside only with the whole plan
            raise IndexError("no plan version stands")
        return latest


@dataclass
class GoalRevision:
    version: int
    description: str
    need_domain: str
    target_measure: str
    due_on: date | None
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
    """``progress``: the versions that recorded progress on the goal.  A goal followed for
    years gathers thousands of entries and no rule reads their content, so it stays in
    the events (a correction's record says which are set aside)."""

    goal_id: str
    plan_id: str
    revisions: list[GoalRevision]
    lifecycle: list[Change]
    progress: list[int] = field(default_factory=list)
    in_error: bool = False

    @property
    def status(self) -> str:
        return current(self.lifecycle).value


@dataclass
class Referral:
    """What the referral's rules need: its status history.  What it asks for (service,
    organisation, urgency...) is in the event that made it, at ``version``."""

    referral_id: str
    version: int
    statuses: list[Change]
    in_error: bool = False

    @property
    def status(self) -> str:
        return current(self.statuses).value

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


@dataclass
class Correction:
    """An earlier event of the case set aside: which version, by which later version.

    A list of these rather than a dict keyed by version, because snapshots go through JSON,
    which would turn integer keys into strings.
    """

    target_version: int
    marked_in: int


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
)
