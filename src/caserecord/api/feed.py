"""The event feed: one agency's events from the notification log, found through the agency
index the recorders write in each event's own transaction (persistence/feed.py)."""

import logging
from typing import Any

from caserecord.application import CaseRecords
from caserecord.domain.directory import DirectoryIndex, DirectoryService
from caserecord.domain.staff import StaffMember, StaffRoster
from caserecord.persistence.decoding import decoded, presented
from caserecord.persistence.feed import agency_of
from caserecord.presenters import event_to_dict

log = logging.getLogger(__name__)
DIRECTORY_EVENTS = (
    StaffMember.Event,
    StaffRoster.Event,
    DirectoryService.Event,
    DirectoryIndex.Event,
)


def agency_events(
    records: CaseRecords, agency_id: str, *, after: int, limit: int
) -> tuple[list[dict[str, Any]], int, bool]:
    """Up to ``limit`` events of the agency's clients and cases after position ``after``,
    in two queries however many other agencies' events lie between them.

    Returns the events, the cursor to continue from and whether the agency has more events
    already logged.  When the page holds all that remain, the cursor moves to the head of the
    log as read before the page, so a client following it skips nothing and scans nothing
    twice.
    """
    if not agency_id:
        return [], after, False
    # One more than asked: tells whether another page is waiting without a second query.
    head, notifications = records.store.agency_notifications(
        agency_id, after=after, limit=limit + 1
    )
    has_more = len(notifications) > limit
    notifications = notifications[:limit]
    events: list[dict[str, Any]] = []
    for notification in notifications:
        event = decoded(records.mapper, notification)
        # The index is only a shortcut: what is shown is decided by the event itself.
        if agency_of(event) != agency_id:
            log.error("feed index names the wrong agency for position %s", notification.id)
            continue
        if isinstance(event, DIRECTORY_EVENTS):
            continue  # the feed carries the clients' and cases' records, not the directory
        shown = presented(event, event_to_dict)
        events.append({"position": notification.id} | shown)
    cursor = notifications[-1].id if has_more else max(after, head)
    return events, cursor, has_more
