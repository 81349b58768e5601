"""The entry index: what each note, addendum and goal progress entry of a case recorded,
kept in the events' own transaction, so the case aggregate need not hold an index of
everything it ever recorded (a ten-year case holds tens of thousands).

One row per such event: (stream, version, kind, entity id), kind being ``note``,
``addendum`` (entity: the note's id) or ``progress`` (entity: the goal's id).  The mapper
attaches it to the stored event while the event is still an object, as it does the agency
(``feed.py``): the recorder could not read it from the state once encrypted.  Nothing else
is written to it, so it is append-only like the log; what is set aside is the case's own
record of its corrections.

Beside it, the links: one row per goal or referral a note concerns, (stream, kind, entity
id, version), kind being ``goal`` or ``referral`` and the version the note's, so a goal's
or a referral's page finds its notes by one indexed range read, newest first.
"""

from collections.abc import Sequence
from typing import Any

from eventsourcing.domain import DomainEventProtocol

from caserecord.persistence.chain import stream_key

ENTRY_TABLE = "case_entries"
# Keyed by (stream, version), a page of notes walks the stream's entries newest first; an
# entry's own id (a note's, a goal's) finds it and its addenda or progress through this
# index.  Lookups by id name no version range: with one, a planner without statistics (a
# table just filled) can prefer walking the stream by version.
ENTRY_INDEX = "case_entries_entity"

LINK_TABLE = "case_entry_links"

# The kind of entry each indexed event's stored topic makes (topics never change), so
# that `verify --all` checks the index against the log without decoding an event.
ENTRY_KINDS = {
    "caserecord.domain.case:Case.ProgressNoteRecorded": "note",
    "caserecord.domain.case:Case.AddendumAppended": "addendum",
    "caserecord.domain.case:Case.GoalProgressRecorded": "progress",
    "caserecord.domain.case:Case.InstrumentAdministered": "score",
}

Row = tuple[str, int, str, str]
"""(stream id, version, kind, entity id)."""


def entry_of(event: DomainEventProtocol[Any] | Any) -> tuple[str, str] | None:
    """(kind, entity id) of an event the entry index holds, else None: the event says
    (``index_entry``), so this module needs no domain class."""
    found = getattr(event, "index_entry", None)
    return found() if callable(found) else None


def links_of(event: DomainEventProtocol[Any] | Any) -> tuple[tuple[str, str], ...]:
    """(kind, entity id) of each goal or referral the event concerns (``index_links``)."""
    found = getattr(event, "index_links", None)
    return tuple(found()) if callable(found) else ()


def link_rows(stored_events: Sequence[Any]) -> list[Row]:
    """The link rows of the events about to be inserted."""
    return [
        (stream_key(stored.originator_id), stored.originator_version, kind, entity_id)
        for stored in stored_events
        for kind, entity_id in getattr(stored, "links", ())
    ]


def entry_rows(stored_events: Sequence[Any]) -> list[Row]:
    """The index rows of the events about to be inserted."""
    rows = []
    for stored in stored_events:
        entry = getattr(stored, "entry", None)
        if entry:
            kind, entity_id = entry
            rows.append(
                (stream_key(stored.originator_id), stored.originator_version, kind, entity_id)
            )
    return rows
