"""The event feed: one agency's events from the notification log, found through the agency
index the recorders write in each event's own transaction (persistence/feed.py)."""

import logging
from dataclasses import dataclass, field
from typing import Any

from caserecord.application import CaseRecords
from caserecord.domain.directory import DirectoryIndex, DirectoryService
from caserecord.domain.staff import StaffMember, StaffRoster
from caserecord.persistence.decoding import decoded, presented
from caserecord.persistence.feed import FeedGap, agency_of, number_gaps
from caserecord.presenters import event_to_dict

log = logging.getLogger(__name__)
DIRECTORY_EVENTS = (
    StaffMember.Event,
    StaffRoster.Event,
    DirectoryService.Event,
    DirectoryIndex.Event,
)


@dataclass(frozen=True)
class FeedIntegrity:
    """Whether the agency's feed index holds every row between the page's events: each row
    carries its number in the agency's feed under its MAC, so a deleted row is a gap."""

    missing: list[FeedGap] = field(default_factory=list)
    left_out: int = 0  # rows failing their MAC (moved, renumbered or made up)

    @property
    def intact(self) -> bool:
        return not self.missing and not self.left_out

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "missing": [vars(gap) for gap in self.missing],
            "left_out": self.left_out,
        }


def agency_events(
    records: CaseRecords, agency_id: str, *, after: int, limit: int
) -> tuple[list[dict[str, Any]], int, bool, FeedIntegrity]:
    """Up to ``limit`` events of the agency's clients and cases after position ``after``,
    in two queries per batch of rows however many other agencies' events lie between them.

    Returns the events, the cursor to continue from, whether the agency has more events
    already logged, and whether the feed's rows from the one before the page to the one after
    it are numbered without a gap.  When the page holds all that remain, the cursor moves to
    the head of the log as read before the page, so a client following it skips nothing and
    scans nothing twice.
    """
    if not agency_id:
        return [], after, False, FeedIntegrity()
    events: list[dict[str, Any]] = []
    missing: dict[tuple[int, int], FeedGap] = {}
    left_out: set[int] = set()
    while True:
        # One more than asked: tells whether another page is waiting without a second query.
        found = records.store.agency_notifications(agency_id, after=after, limit=limit + 1)
        numbered = found.rows
        batch = _integrity(agency_id, found.before, found.start_known, numbered, found.left_out)
        missing.update(((gap.first, gap.last), gap) for gap in batch.missing)
        left_out.update(found.left_out)
        notifications = [n for n, _ in numbered]
        read = 0
        for notification in notifications:
            if len(events) == limit:
                break
            read += 1
            shown = _shown(records, agency_id, notification)
            if shown is not None:
                events.append(shown)
        if read < len(notifications) or (len(events) == limit and len(numbered) > limit):
            return events, notifications[read - 1].id, True, _merged(missing, left_out)
        if len(numbered) <= limit:
            return events, max(after, found.head), False, _merged(missing, left_out)
        # Every row read was the agency's staff or directory, which the feed leaves out: a
        # page of nothing but a cursor would look like the end to many clients.
        after = notifications[-1].id


def _shown(records: CaseRecords, agency_id: str, notification: Any) -> dict[str, Any] | None:
    """The event as the feed shows it, or None for one it leaves out."""
    event = decoded(records.mapper, notification)
    # The index is only a shortcut: what is shown is decided by the event itself.
    if agency_of(event) != agency_id:
        log.error("feed index names the wrong agency for position %s", notification.id)
        return None
    if isinstance(event, DIRECTORY_EVENTS):
        return None  # the feed carries the clients' and cases' records, not the directory
    return {"position": notification.id} | presented(event, event_to_dict)


def _merged(missing: dict[tuple[int, int], FeedGap], left_out: set[int]) -> FeedIntegrity:
    return FeedIntegrity(sorted(missing.values(), key=lambda g: g.first), len(left_out))


def _integrity(
    agency_id: str,
    before: tuple[int, int] | None,
    start_known: bool,
    numbered: list[tuple[Any, int]],
    left_out: list[int],
) -> FeedIntegrity:
    """The gaps in the numbers from the row before the page through the row after it."""
    rows = [(n.id, number) for n, number in numbered]
    if not start_known and rows:  # the row before fails its MAC: start from the first
        before, rows = rows[0], rows[1:]
    missing = number_gaps(before, rows)
    for gap in missing:
        log.error(
            "feed index of agency %s lacks numbers %s to %s (between positions %s and %s)",
            agency_id,
            gap.first,
            gap.last,
            gap.after_position,
            gap.before_position,
        )
    return FeedIntegrity(missing, len(left_out))
