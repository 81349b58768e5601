"""A case's events as the console's pages need them: what was set aside and by whom, the
moments a slider steps through, and the filters of the timeline."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from caserecord.console.web import as_datetime

AXES = ("recorded", "effective", "both")


@dataclass(frozen=True)
class Marked:
    """An entry marked in error, with the entry that set it aside (who, when, why)."""

    entry: dict[str, Any]
    marking: dict[str, Any] | None


def set_aside(timeline: list[dict[str, Any]], until: datetime | None = None) -> list[Marked]:
    """Entries of the case marked in error (by a marking recorded up to ``until``)."""
    case_events = {e["version"]: e for e in timeline if e["stream_kind"] == "case"}
    found = []
    for entry in case_events.values():
        marking = case_events.get(entry["marked_in_error_by"] or -1)
        if not entry["in_error"] or marking is None:
            continue
        if until is not None and (as_datetime(marking["recorded_at"]) or until) > until:
            continue
        found.append(Marked(entry, marking))
    return found


def case_entries(
    timeline: list[dict[str, Any]], until: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """The case's own events by record version (recorded up to ``until``): who recorded a
    status of a referral, and when."""
    return {
        e["version"]: e
        for e in timeline
        if e["stream_kind"] == "case"
        and (until is None or (as_datetime(e["recorded_at"]) or until) <= until)
    }


def notes_with_set_aside(
    standing: list[dict[str, Any]], marked: list[Marked]
) -> list[dict[str, Any]]:
    """The standing notes and those marked in error, newest first; each note's set-aside
    addenda beside its standing ones. Nothing set aside is left out: it is shown struck
    through."""
    notes = [
        {**n, "marking": None, "addenda": [{**a, "marking": None} for a in n["addenda"]]}
        for n in standing
    ]
    by_id = {n["note_id"]: n for n in notes}
    for m in marked:
        data = m.entry["data"]
        if m.entry["event_type"] == "ProgressNoteRecorded":
            note = {
                "note_id": data.get("note_id"),
                "version": m.entry["version"],
                "text": data.get("text", ""),
                "contact_kind": data.get("contact_kind"),
                "contact_mode": data.get("contact_mode"),
                "present": data.get("present", []),
                "addenda": [],
                "in_error": True,
                "effective_at": m.entry["effective_at"],
                "recorded_at": m.entry["recorded_at"],
                "marking": m.marking,
            }
            notes.append(note)
            by_id[note["note_id"]] = note
    for m in marked:
        if m.entry["event_type"] == "AddendumAppended":
            parent = by_id.get(m.entry["data"].get("note_id"))
            if parent is not None:
                parent["addenda"].append(
                    {
                        "version": m.entry["version"],
                        "text": m.entry["data"].get("text", ""),
                        "in_error": True,
                        "effective_at": m.entry["effective_at"],
                        "recorded_at": m.entry["recorded_at"],
                        "marking": m.marking,
                    }
                )
    for note in notes:
        note["addenda"].sort(key=lambda a: a["version"])
    return sorted(notes, key=lambda n: n["version"], reverse=True)


def opened(timeline: list[dict[str, Any]]) -> datetime | None:
    """When the case's opening took effect: an intake recorded late was in effect from
    its ``effective_at``, not from when it was recorded (``opened_at``)."""
    for e in timeline:
        if e["stream_kind"] == "case" and e["version"] == 1:
            return as_datetime(e["effective_at"])
    return None


def moments(timeline: list[dict[str, Any]], axis: str) -> list[dict[str, Any]]:
    """The case's events in the order of the axis: the steps of the "as of" slider."""
    key = "effective_at" if axis == "effective" else "recorded_at"
    events = [e for e in timeline if e["stream_kind"] == "case"]
    ordered = sorted(events, key=lambda e: (as_datetime(e[key]), e["version"]))
    return [{"at": as_datetime(e[key]), "event": e} for e in ordered]


def index_at(steps: list[dict[str, Any]], moment: datetime) -> int:
    """The last step at or before ``moment`` (the first if none)."""
    found = 0
    for i, step in enumerate(steps):
        if step["at"] <= moment:
            found = i
    return found


def filtered(
    timeline: list[dict[str, Any]],
    *,
    event_type: str = "",
    actor: str = "",
    since: datetime | None = None,
    before: datetime | None = None,
) -> list[dict[str, Any]]:
    """Entries of the event type, by the actor, recorded in [since, before)."""

    def kept(e: dict[str, Any]) -> bool:
        recorded = as_datetime(e["recorded_at"])
        assert recorded is not None
        return (
            (not event_type or e["event_type"] == event_type)
            and (not actor or e["actor"]["id"] == actor)
            and (since is None or recorded >= since)
            and (before is None or recorded < before)
        )

    return [e for e in timeline if kept(e)]
