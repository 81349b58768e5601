"""The case timeline: every event of the case and of its client, in recording order, and
the versions of either stream that no stored event holds (rows deleted behind the service,
which a list of the rest would close up without a trace)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import OriginatorVersionError

from caserecord.application import CaseRecords
from caserecord.domain.recording import Actor
from caserecord.history.log import MARKING, check_access, decoded_events
from caserecord.persistence.chain import MissingEventsError
from caserecord.persistence.decoding import presented
from caserecord.presenters import event_to_dict
from caserecord.projections.base import iso
from caserecord.projections.summaries import summarise

Key = tuple[str, str, int]


@dataclass(frozen=True)
class Hole:
    """A run of versions of one stream that no stored event holds, with where the stored
    events either side of it sit in the timeline (``before`` is None for a cut tail that
    only the stream's chain and tree still name)."""

    stream_id: UUID
    stream_kind: str
    first: int
    last: int
    after: Key | None
    before: Key | None

    def borders(self, start: Key | None, end: Key | None) -> bool:
        """Whether the hole falls between the entry before a page (``start``, None on the
        first) and the entry after it (``end``, None on the last): each page the missing
        events may have been on names it, so a hole between two pages is named by both and
        one inside a page by that page alone."""
        return (start is None or self.before is None or self.before > start) and (
            end is None or self.after is None or self.after < end
        )

    @property
    def versions(self) -> range:
        return range(self.first, self.last + 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stream_id": self.stream_id,
            "stream_kind": self.stream_kind,
            "first": self.first,
            "last": self.last,
        }


@dataclass(frozen=True)
class Timeline:
    """A case's timeline and the holes in its streams."""

    entries: list[dict[str, Any]]
    holes: list[Hole]

    def page(self, after: Key | None, limit: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Up to ``limit`` + 1 entries after ``after`` (the one past the page tells whether
        there is more), and the ``integrity`` of a page of ``limit`` of them."""
        rest = (
            self.entries if after is None else [e for e in self.entries if timeline_key(e) > after]
        )
        end = timeline_key(rest[limit]) if len(rest) > limit else None
        return rest[: limit + 1], integrity([h for h in self.holes if h.borders(after, end)])


def integrity(holes: list[Hole]) -> dict[str, Any]:
    """The ``integrity`` of a timeline's answer, in the event feed's words."""
    return {"intact": not holes, "missing": [h.as_dict() for h in holes]}


def checked_timeline(records: CaseRecords, actor: Actor, case_id: UUID) -> Timeline:
    """The case timeline (:func:`case_timeline`) with the versions missing from its streams:
    between stored events, and after the last one up to the head the stream's chain or tree
    names (one indexed query per stream), so a cut tail is named too unless its tree
    leaves were deleted with it (``verify --all`` finds that)."""
    client_id = check_access(records, actor, case_id)
    # The heads before the events: a write landing meanwhile makes the stored stream
    # longer, never a tail that looks cut.
    heads = {stream: records.store.chain_head(stream) for stream in (client_id, case_id)}
    events = stored_events(records, case_id, client_id)
    holes = missing_versions(events, case_id, heads)
    try:
        entries = timeline_entries(records, actor, case_id, events)
    except OriginatorVersionError:
        # What the reader may read is decided by the case as it stands, and its replay met
        # a hole: nothing is shown, and the hole is named rather than a version out of order.
        if not holes:
            raise
        stream = holes[0].stream_id
        versions = [v for h in holes if h.stream_id == stream for v in h.versions]
        raise MissingEventsError(stream, versions) from None
    return Timeline(entries, holes)


def missing_versions(
    events: list[dict[str, Any]], case_id: UUID, heads: Mapping[UUID, int] | None = None
) -> list[Hole]:
    """Each run of versions absent from the stored events of a case and its client: between
    those stored, and after the last stored up to the stream's head in ``heads``."""
    by_stream: dict[UUID, list[dict[str, Any]]] = {}
    for e in events:
        by_stream.setdefault(e["stream_id"], []).append(e)
    found = []
    for stream, its in by_stream.items():
        kind = "case" if stream == case_id else "client"
        last: dict[str, Any] | None = None
        for e in sorted(its, key=lambda e: e["version"]):
            below = last["version"] if last else 0
            if e["version"] > below + 1:
                after = timeline_key(last) if last else None
                found.append(
                    Hole(stream, kind, below + 1, e["version"] - 1, after, timeline_key(e))
                )
            last = e
        head = (heads or {}).get(stream, 0)
        if last is not None and head > last["version"]:
            found.append(Hole(stream, kind, last["version"] + 1, head, timeline_key(last), None))
    return sorted(found, key=lambda h: (h.stream_kind, h.first))


def case_timeline(records: CaseRecords, actor: Actor, case_id: UUID) -> list[dict[str, Any]]:
    """Every event of the case and of its client, in recording order, with a summary, in
    the audit trail's vocabulary (``event_type``, ``stream_kind``, ``in_error``...).

    Entries marked in error name the entry that set them aside (its actor and reason are
    on that entry); addenda point at their note; late entries (effective before they were
    recorded) say so.
    """
    client_id = check_access(records, actor, case_id)
    return timeline_entries(records, actor, case_id, stored_events(records, case_id, client_id))


def stored_events(records: CaseRecords, case_id: UUID, client_id: UUID) -> list[dict[str, Any]]:
    """The stored events of the case and its client as plain data, by recorded time."""
    both = [*decoded_events(records, client_id), *decoded_events(records, case_id)]
    return [presented(e, event_to_dict) for e in sorted(both, key=lambda e: e.timestamp)]


def timeline_entries(
    records: CaseRecords, actor: Actor, case_id: UUID, events: list[dict[str, Any]]
) -> list[dict[str, Any]]:
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
    reading = records.read_basis(actor, case_id)
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
        if in_case:
            note_version = (item["addendum_to"] or {}).get("note_version")
            item = reading.event(item, note_version)
        timeline.append(item)
    timeline.sort(key=timeline_key)  # ties of time (rare) in one order pages can follow
    return timeline


def timeline_key(entry: dict[str, Any]) -> tuple[str, str, int]:
    """Where an entry sits in the timeline's order, for continuing after it."""
    return (iso(entry["recorded_at"]), str(entry["stream_id"]), entry["version"])
