"""Need-to-know: who reads which entries of a case, and on what basis.  No I/O: the
service gathers the facts (the reader, the case's manager, care team and break-glass
windows, an entry's labels and author) and asks this module.

A reader's *relation* to a case is the basis of the read the access log records.  An
entry is read in full, shown as a placeholder (that an entry exists and is restricted,
never its content), or hidden (a psychotherapy note fetched by its id: 404)."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from caserecord.domain.consent import DataClass
from caserecord.domain.values import Role


class Relation(StrEnum):
    """How the reader stands to the case, strongest first: the read's basis."""

    OWN_CASE = "own_case"
    CARE_TEAM = "care_team"
    SUPERVISOR = "supervisor"
    REVIEWER = "reviewer"
    BREAK_GLASS = "break_glass"
    OTHER = "other"


class Access(StrEnum):
    FULL = "full"
    PLACEHOLDER = "placeholder"
    HIDDEN = "hidden"


# Relations whose readers need to know the case's labelled content.
ENTITLED: frozenset[Relation] = frozenset(
    {
        Relation.OWN_CASE,
        Relation.CARE_TEAM,
        Relation.SUPERVISOR,
        Relation.REVIEWER,
        Relation.BREAK_GLASS,
    }
)

# Relations in which a caseworker writes to the case: their own, their care team's, or one
# they broke the glass on.  Other roles write as the role matrix allows (a supervisor to
# every case of the agency).
WRITERS: frozenset[Relation] = frozenset(
    {Relation.OWN_CASE, Relation.CARE_TEAM, Relation.BREAK_GLASS}
)

PSYCHOTHERAPY = DataClass.PSYCHOTHERAPY_NOTES
BREAK_GLASS_MINUTES = 240  # the longest break-glass read


@dataclass(frozen=True)
class BreakGlassWindow:
    """A break-glass read granted to one staff member on one case until ``ends_at``."""

    staff_id: str
    starts_at: datetime
    ends_at: datetime
    reason: str

    def open_at(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at


@dataclass(frozen=True)
class CaseFacts:
    """What the policy needs of a case: its manager, who is on its care team today, and
    the break-glass windows granted on it."""

    case_manager_id: str
    care_team_staff_ids: frozenset[str] = frozenset()
    break_glass: tuple[BreakGlassWindow, ...] = ()


@dataclass(frozen=True)
class ReaderFacts:
    role: str
    staff_id: str
    # The client's consents in force name this reader for psychotherapy notes.
    psychotherapy_consent: bool = False


def relation(reader: ReaderFacts, case: CaseFacts, now: datetime) -> Relation:
    """The strongest relation the reader has to the case at ``now``."""
    if reader.role == Role.COMPLIANCE_REVIEWER:
        return Relation.REVIEWER
    if reader.staff_id and reader.staff_id == case.case_manager_id:
        return Relation.OWN_CASE
    if reader.staff_id and reader.staff_id in case.care_team_staff_ids:
        return Relation.CARE_TEAM
    if reader.role == Role.SUPERVISOR:
        return Relation.SUPERVISOR
    if break_glass_window(reader, case, now) is not None:
        return Relation.BREAK_GLASS
    return Relation.OTHER


def may_write(reader: ReaderFacts, case: CaseFacts, now: datetime) -> bool:
    """Whether the reader may write to the case at ``now``: a caseworker only in a
    relation of ``WRITERS``."""
    return reader.role != Role.CASEWORKER or relation(reader, case, now) in WRITERS


def break_glass_window(
    reader: ReaderFacts, case: CaseFacts, now: datetime
) -> BreakGlassWindow | None:
    """The reader's break-glass window open at ``now``, the latest granted first."""
    for window in reversed(case.break_glass):
        if window.staff_id == reader.staff_id and window.open_at(now):
            return window
    return None


def entry_access(
    reader: ReaderFacts,
    related: Relation,
    labels: Collection[str],
    author_id: str | None,
    *,
    by_id: bool = False,
) -> Access:
    """How the reader sees an entry carrying ``labels`` recorded by ``author_id``.

    Psychotherapy notes are for their author and whom the client's consent names: no
    relation (not a supervisor, a reviewer or a break-glass read) reaches them otherwise.
    Any other label is for the readers with a need to know (``ENTITLED``); an unlabelled
    entry is read by any reader of the agency."""
    if PSYCHOTHERAPY in labels and not psychotherapy_reader(reader, author_id):
        return Access.HIDDEN if by_id else Access.PLACEHOLDER
    if labels and related not in ENTITLED:
        return Access.PLACEHOLDER
    return Access.FULL


def psychotherapy_reader(reader: ReaderFacts, author_id: str | None) -> bool:
    return reader.psychotherapy_consent or bool(author_id and author_id == reader.staff_id)


def on_team(members: Iterable[tuple[str, date, date | None]], day: date) -> frozenset[str]:
    """The staff ids of ``(staff_id, starts_on, ends_on)`` periods covering ``day``."""
    return frozenset(
        s for s, start, end in members if s and start <= day and (end is None or day <= end)
    )
