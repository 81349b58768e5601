"""What changed in a case between two moments, on one time axis."""

from datetime import datetime
from typing import Any
from uuid import UUID

from caserecord.application import CaseRecords
from caserecord.application.need_to_know import Reading
from caserecord.domain.case import Case
from caserecord.domain.errors import CaseNotFoundError, InvalidValueError
from caserecord.domain.recording import Actor
from caserecord.history.as_of import reading_day, state_as_of
from caserecord.history.log import check_access, check_time
from caserecord.history.timeline import case_timeline

AXES = ("recorded", "effective")
# The notes a state shows are its latest few, a window that slides as notes are added;
# note_count and the events in between say what changed (referrals and goal progress are
# compared whole).
IGNORED = ("version", "modified_at", "as_of", "notes")
# Most specific first: a goal also carries the id of its plan.
ID_KEYS = (
    "goal_id",
    "referral_id",
    "note_id",
    "contact_id",
    "plan_id",
    "application_id",
    "request_id",
    "appointment_id",
    "version",
)


def case_diff(
    records: CaseRecords,
    actor: Actor,
    case_id: UUID,
    *,
    t1: datetime,
    t2: datetime,
    axis: str = "recorded",
) -> dict[str, Any]:
    """What changed in the case from ``t1`` to ``t2`` on one time axis: each changed field
    (an added or removed item once, whole), and the events in between."""
    if axis not in AXES:
        raise InvalidValueError(f"axis must be one of: {', '.join(AXES)} (got {axis!r})")
    check_time("t1", t1)
    check_time("t2", t2)
    if t2 < t1:
        raise InvalidValueError("t2 must not be before t1")
    key = "recorded_at" if axis == "recorded" else "effective_at"

    def on_axis(t: datetime) -> tuple[datetime | None, datetime | None]:
        return (t, None) if axis == "recorded" else (None, t)

    old = state_or_none(records, actor, case_id, *on_axis(t1))
    new, replayed = state_as_of(records, actor, case_id, *on_axis(t2))
    # Every referral and progress entry: a window of the latest would slide.
    reading = records.read_basis(actor, case_id)
    before = None
    if old:
        day = reading_day(*on_axis(t1))
        before = records.case_state(old[0], every=True, reading=reading, on=day)
    after = records.case_state(new, every=True, reading=reading, on=reading_day(*on_axis(t2)))
    events = [
        e
        for e in case_timeline(records, actor, case_id)
        if e["stream_kind"] == "case" and t1 < e[key] <= t2
    ]
    return {
        "case_id": case_id,
        "axis": axis,
        "t1": t1,
        "t2": t2,
        "from_version": old[1]["known_version"] if old else 0,
        "to_version": replayed["known_version"],
        "changes": differences(without(before), without(after))
        + note_changes(records, old[0] if old else None, new, reading),
        "events": events,
    }


def note_changes(
    records: CaseRecords, old: Case | None, new: Case, reading: Reading
) -> list[dict[str, Any]]:
    """Notes added, set aside or given addenda between two states, each whole (as the
    reader's ``reading`` allows): the states themselves show only their latest notes."""
    before = records.standing_notes(old) if old else {}
    after = records.standing_notes(new)
    changed = [i for i in after if after[i] != before.get(i)]
    gone = [i for i in before if i not in after]
    kept = [i for i in changed if i in before]
    was = records.notes_of(old, gone + kept, reading) if old else []
    earlier = dict(zip(gone + kept, was, strict=True)) if old else {}
    later = dict(zip(changed, records.notes_of(new, changed, reading), strict=True))
    found: list[dict[str, Any]] = []
    for i in [*changed, *gone]:
        found += differences(earlier.get(i), later.get(i), f"notes[{i}]")
    return found


def state_or_none(
    records: CaseRecords,
    actor: Actor,
    case_id: UUID,
    recorded_at: datetime | None,
    effective_at: datetime | None,
) -> tuple[Case, dict[str, Any]] | None:
    try:
        return state_as_of(records, actor, case_id, recorded_at, effective_at)
    except CaseNotFoundError:
        check_access(records, actor, case_id)  # another agency's case stays not found
        return None


def without(state: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (state or {}).items() if k not in IGNORED}


def differences(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[dict[str, Any]] = []
        for k in [*old, *(k for k in new if k not in old)]:
            found += differences(old.get(k), new.get(k), f"{path}.{k}" if path else str(k))
        return found
    key = item_key(old, new)
    if key is not None:
        before = {str(v[key]): v for v in old}
        after = {str(v[key]): v for v in new}
        found = []
        for k in [*before, *(k for k in after if k not in before)]:
            found += differences(before.get(k), after.get(k), f"{path}[{k}]")
        return found
    return [{"path": path, "before": old, "after": new}]


def item_key(old: Any, new: Any) -> str | None:
    """The id that pairs up items of two lists of records, if they have one."""
    if not (isinstance(old, list) and isinstance(new, list)):
        return None
    items = [*old, *new]
    if not items or not all(isinstance(v, dict) for v in items):
        return None
    return next((k for k in ID_KEYS if all(k in v for v in items)), None)
