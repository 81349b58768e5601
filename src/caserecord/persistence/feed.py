"""The event feed's index: which agency each logged event belongs to, kept in the events'
own transaction so the feed finds an agency's events without scanning everyone else's.

The agency comes from the event's envelope (``actor_agency_id``) while the event is still
an object, before the library's transcoder, compressor and cipher turn it into stored bytes:
the recorder could not read it from the state once encrypted.  The mapper attaches it to
each stored event; the recorders refuse events that did not come through this mapper, so a
misconfigured writer fails loudly instead of leaving events the feed would never show.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, Notification, StoredEvent

from caserecord.persistence.entries import entry_of, links_of
from caserecord.persistence.identity import IdentityChange, identity_of

FEED_TABLE = "event_agency"
# Rows without their number (a store sealed before the numbers, until `db init`): empty
# afterwards, so the service's check at start reads nothing, and new rows never enter it.
FEED_UNNUMBERED = "event_agency_unnumbered"
# Events without an agency (none are recorded today) still get a row, so the index holds
# exactly one row per event and `db init` can tell a complete index by counting.
NO_AGENCY = ""


class FeedIndexError(Exception):
    """An event cannot be indexed for the feed; nothing of the transaction is written."""


@dataclass(frozen=True)
class AgencyStoredEvent(StoredEvent):
    agency_id: str = NO_AGENCY
    identity: IdentityChange | None = None  # what a client event changes of who they are
    entry: tuple[str, str] | None = None  # its row in the entry index (entries.py), if any
    links: tuple[tuple[str, str], ...] = ()  # the goals and referrals a note concerns


class AgencyMapper(Mapper[UUID]):
    """The library's mapper, also carrying each event's agency (and a client event's
    identity) to the recorder."""

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        stored = super().to_stored_event(domain_event)
        return AgencyStoredEvent(
            originator_id=stored.originator_id,
            originator_version=stored.originator_version,
            topic=stored.topic,
            state=stored.state,
            agency_id=agency_of(domain_event),
            identity=identity_of(domain_event),
            entry=entry_of(domain_event),
            links=links_of(domain_event),
        )


def agency_of(event: Any) -> str:
    agency = getattr(event, "actor_agency_id", None)
    return agency if isinstance(agency, str) else NO_AGENCY


def agencies(stored_events: Sequence[StoredEvent]) -> list[str]:
    """The agency of each event, checked before anything is inserted, so a misconfigured
    writer is refused before it takes the table lock or writes a row."""
    found = []
    for stored in stored_events:
        if not isinstance(stored, AgencyStoredEvent):
            raise FeedIndexError(
                "an event reached the recorder without its agency: the application must use "
                "MAPPER_TOPIC=caserecord.persistence.feed:AgencyMapper (set by the settings)"
            )
        found.append(stored.agency_id)
    return found


def index_rows(
    agency_ids: Sequence[str], notification_ids: Sequence[int] | None
) -> list[tuple[str, int]]:
    """(agency, position) for each event just inserted."""
    # The library checks that it got a position for every event; None would mean a
    # recorder that does not report them, which these recorders never are.
    assert notification_ids is not None and len(notification_ids) == len(agency_ids)
    return list(zip(agency_ids, notification_ids, strict=True))


def numbered(
    agency_ids: Sequence[str], last: Mapping[str, int]
) -> tuple[list[int], dict[str, int]]:
    """Each event's number in its agency's feed, continuing from ``last`` (the agency's last
    number stored, read under the write lock; absent: none yet), and the new last numbers."""
    after = {a: last.get(a, 0) for a in set(agency_ids)}
    numbers = []
    for agency in agency_ids:
        after[agency] += 1
        numbers.append(after[agency])
    return numbers, after


@dataclass(frozen=True)
class FeedGap:
    """Numbers of an agency's feed that a page's rows skip: rows deleted (or failing their
    MAC) between the positions shown."""

    first: int
    last: int
    after_position: int | None  # the authentic row before the gap (None: the feed's start)
    before_position: int


@dataclass(frozen=True)
class FeedRows:
    """An agency's feed rows as read: the head of the log, the authentic row at or before
    the page's start (position, number), and each authentic row's event with its number."""

    head: int
    before: tuple[int, int] | None
    rows: list[tuple[Notification, int]]
    left_out: list[int]  # positions of rows that fail their MAC
    start_known: bool = True  # False: the row before the page fails its MAC


def number_gaps(before: tuple[Any, int] | None, rows: Sequence[tuple[Any, int]]) -> list[FeedGap]:
    """The numbers missing between ``before`` (place, number; None: the numbering starts at
    1) and the (place, number) ``rows`` after it, in order: a feed's rows by log position,
    an access log's subjects by entry id."""
    gaps = []
    after_position, last = before if before is not None else (None, 0)
    for position, number in rows:
        if number > last + 1:
            gaps.append(FeedGap(last + 1, number - 1, after_position, position))
        after_position, last = position, max(last, number)
    return gaps


def identity_changes(stored_events: Sequence[StoredEvent]) -> list[IdentityChange]:
    return [
        s.identity
        for s in stored_events
        if isinstance(s, AgencyStoredEvent) and s.identity is not None
    ]
