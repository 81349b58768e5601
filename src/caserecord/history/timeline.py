"""The case timeline: every event of the case and of its client, in recording order."""

from typing import Any
from uuid import UUID

from caserecord.application import CaseRecords
from caserecord.domain.recording import Actor
from caserecord.history.log import MARKING, check_access, decoded_events
from caserecord.persistence.decoding import presented
from caserecord.presenters import event_to_dict
from caserecord.projections.base import iso
from caserecord.projections.summaries import summarise


def case_timeline(records: CaseRecords, actor: Actor, case_id: UUID) -> list[dict[str, Any]]:
    """Every event of the case and of its client, in recording order, with a summary, in
    the audit trail's vocabulary (``event_type``, ``stream_kind``, ``in_error``...).

    Entries marked in error name the entry that set them aside (its actor and reason are
    on that entry); addenda point at their note; late entries (effective before they were
    recorded) say so.
    """
    client_id = check_access(records, actor, case_id)
    both = [*decoded_events(records, client_id), *decoded_events(records, case_id)]
    events = [presented(e, event_to_dict) for e in sorted(both, key=lambda e: e.timestamp)]
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
