"""The event feed: the application's notification log, filtered to one agency."""

from typing import Any

from caserecord.application import CaseRecords
from caserecord.presenters import event_to_dict

BATCH = 500


def agency_events(
    records: CaseRecords, agency_id: str, *, after: int, limit: int, max_scan: int
) -> tuple[list[dict[str, Any]], int, bool]:
    """Up to ``limit`` events of the agency after position ``after``.

    Scans at most ``max_scan`` notifications so one request stays bounded however sparse the
    agency's events are; returns the events, the cursor to continue from (the last position
    looked at, matching or not) and whether the log goes on past it.
    """
    events: list[dict[str, Any]] = []
    cursor, scanned = after, 0
    while len(events) < limit and scanned < max_scan:
        wanted = min(BATCH, max_scan - scanned)
        batch = records.recorder.select_notifications(start=cursor + 1, limit=wanted)
        for notification in batch:
            cursor, scanned = notification.id, scanned + 1
            event = records.mapper.to_domain_event(notification)
            if getattr(event, "actor_agency_id", None) == agency_id:
                events.append({"position": notification.id} | event_to_dict(event))  # type: ignore[arg-type]
                if len(events) == limit:
                    break
        if len(batch) < wanted:
            break
    has_more = cursor < (records.recorder.max_notification_id() or 0)
    return events, cursor, has_more
