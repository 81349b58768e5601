"""The case timeline, "as of" replay on both axes, and the difference between two times."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.errors import CaseNotFoundError, InvalidValueError
from caserecord.domain.recording import Actor
from caserecord.history import case_as_of, case_diff, case_timeline
from caserecord.projections import ProjectionService
from tests.factories import a_client, an_active_plan
from tests.scenario import ScenarioResult


def state(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "as_of"}


def hours_ago(hours: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)


def case_items(records: CaseRecords, actor: Actor, case_id: UUID) -> list[dict[str, Any]]:
    return [e for e in case_timeline(records, actor, case_id) if e["stream_kind"] == "case"]


@pytest.fixture
def records(sqlite_records: CaseRecords) -> CaseRecords:
    """SQLite only: the shared ``scenario`` is recorded here."""
    return sqlite_records


def a_case_opened(records: CaseRecords, actor: Actor, hours: float) -> UUID:
    return records.open_case(
        actor,
        client_id=a_client(records, actor),
        specialty="geriatric",
        referral_source="GP",
        presenting_needs=["falls"],
        interview_summary="Lives alone.",
        case_manager_id=actor.id,
        effective_at=hours_ago(hours),
    ).id


def note(records: CaseRecords, actor: Actor, case_id: UUID, text: str, hours: float = 0) -> int:
    return records.record_note(
        actor,
        case_id,
        text=text,
        contact_kind="client",
        contact_mode="phone",
        effective_at=hours_ago(hours) if hours else None,
    ).version


def test_the_timeline_has_every_event_of_the_case_and_its_client_in_recording_order(
    sqlite_records: CaseRecords, scenario: ScenarioResult, worker: Actor
) -> None:
    timeline = case_timeline(sqlite_records, worker, scenario.case_id)

    assert timeline[0]["stream_kind"] == "client" and timeline[0]["event_type"] == "Registered"
    case_items = [e for e in timeline if e["stream_kind"] == "case"]
    assert [e["version"] for e in case_items] == list(range(1, scenario.final_version + 1))
    assert [e["recorded_at"] for e in timeline] == sorted(e["recorded_at"] for e in timeline)
    assert all(e["summary"] and e["actor"]["id"] for e in timeline)
    assert case_items[-1]["summary"] == "Case reopened"


def test_the_timeline_marks_the_entry_in_error_links_the_addendum_and_flags_the_late_intake(
    sqlite_records: CaseRecords, scenario: ScenarioResult, worker: Actor
) -> None:
    items = {
        e["version"]: e
        for e in case_timeline(sqlite_records, worker, scenario.case_id)
        if e["stream_kind"] == "case"
    }

    wrong = items[scenario.steps["wrong_note_recorded"]]
    assert wrong["in_error"] is True
    assert wrong["marked_in_error_by"] == scenario.steps["note_marked_in_error"]
    marking = items[wrong["marked_in_error_by"]]
    assert marking["event_type"] == "EntryMarkedInError"
    assert marking["actor"]["id"] == "super-1"
    assert marking["reason"]
    addendum = items[scenario.steps["addendum_appended"]]
    assert addendum["addendum_to"] == {
        "note_id": scenario.kept_note_id,
        "note_version": scenario.steps["note_recorded"],
    }
    assert items[1]["late"] is True
    assert [v for v, e in items.items() if e["in_error"]] == [scenario.steps["wrong_note_recorded"]]


def test_as_of_a_recorded_time_is_the_case_at_the_version_recorded_by_then(
    sqlite_records: CaseRecords, scenario: ScenarioResult, worker: Actor
) -> None:
    items = [
        e
        for e in case_timeline(sqlite_records, worker, scenario.case_id)
        if e["stream_kind"] == "case"
    ]

    for item in items:
        result = case_as_of(
            sqlite_records, worker, scenario.case_id, recorded_at=item["recorded_at"]
        )

        assert state(result) == sqlite_records.get_case(worker, scenario.case_id, item["version"])
        assert result["as_of"]["known_version"] == item["version"]


def test_as_of_reads_again_none_of_the_events_it_replayed_to_show_the_case(
    sqlite_records: CaseRecords, worker: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = a_case_opened(sqlite_records, worker, 1)
    for i in range(5):
        note(sqlite_records, worker, case_id, f"note {i}")
    at = case_items(sqlite_records, worker, case_id)[-1]["recorded_at"]
    expected = sqlite_records.get_case(worker, case_id, 6)
    asked: list[list[int]] = []
    events_at = sqlite_records.events_at

    def spy(stream_id: UUID, versions: list[int], index: Any = None) -> dict[int, Any]:
        asked.append(sorted(versions))
        return events_at(stream_id, versions, index)

    monkeypatch.setattr(sqlite_records, "events_at", spy)
    result = case_as_of(sqlite_records, worker, case_id, recorded_at=at)

    # No snapshot below version 100: the replay read all six events, the notes among them.
    assert state(result) == expected
    assert asked == [[]]


def test_the_same_replay_with_and_without_the_read_model_index(
    sqlite_records: CaseRecords, sqlite_url: str, scenario: ScenarioResult, worker: Actor
) -> None:
    items = [
        e
        for e in case_timeline(sqlite_records, worker, scenario.case_id)
        if e["stream_kind"] == "case"
    ]
    times = [items[3]["recorded_at"], items[15]["recorded_at"], items[-1]["recorded_at"]]
    at = [{"recorded_at": t} for t in times] + [{"effective_at": t} for t in times]
    from_log = [case_as_of(sqlite_records, worker, scenario.case_id, **a) for a in at]

    service = ProjectionService(Settings(database_url=sqlite_url))
    service.catch_up()
    service.close()

    assert [case_as_of(sqlite_records, worker, scenario.case_id, **a) for a in at] == from_log


def test_before_the_case_was_recorded_there_is_no_case(
    sqlite_records: CaseRecords, scenario: ScenarioResult, worker: Actor
) -> None:
    with pytest.raises(CaseNotFoundError, match="had not been opened"):
        case_as_of(sqlite_records, worker, scenario.case_id, recorded_at=hours_ago(1))
    with pytest.raises(CaseNotFoundError, match="not yet open"):
        case_as_of(sqlite_records, worker, scenario.case_id, effective_at=hours_ago(72))


def test_the_effective_axis_takes_late_entries_in_and_leaves_later_events_out(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = a_case_opened(sqlite_records, worker, hours=3)
    note(sqlite_records, worker, case_id, "today")
    note(sqlite_records, worker, case_id, "yesterday's visit, typed up now", hours=2)

    then = case_as_of(sqlite_records, worker, case_id, effective_at=hours_ago(1))
    known_then = case_as_of(
        sqlite_records, worker, case_id, recorded_at=hours_ago(0), effective_at=hours_ago(1)
    )

    assert [n["text"] for n in then["notes"]] == ["yesterday's visit, typed up now"]
    assert then["as_of"]["events_excluded"] == 1
    assert state(known_then) == state(then)


def test_a_marking_recorded_later_sets_the_entry_aside_on_the_effective_axis(
    sqlite_records: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    case_id = a_case_opened(sqlite_records, worker, hours=3)
    wrong = note(sqlite_records, worker, case_id, "wrong client", hours=2)
    before_marking = datetime.now(UTC)
    sqlite_records.mark_entry_in_error(
        supervisor, case_id, target_version=wrong, reason="recorded on the wrong case"
    )

    now_known = case_as_of(sqlite_records, worker, case_id, effective_at=hours_ago(1))
    known_then = case_as_of(
        sqlite_records, worker, case_id, recorded_at=before_marking, effective_at=hours_ago(1)
    )

    assert now_known["notes"] == [] and now_known["entries_in_error"]
    assert [n["text"] for n in known_then["notes"]] == ["wrong client"]


def test_progress_dated_before_its_goal_existed_is_set_aside_not_guessed(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = a_case_opened(sqlite_records, worker, hours=3)
    plan_id = an_active_plan(sqlite_records, worker, case_id)
    goal_id = sqlite_records.add_goal(
        worker, case_id, plan_id=plan_id, description="Walk", need_domain="medical"
    ).entity_id
    assert goal_id is not None
    sqlite_records.change_goal_lifecycle(
        worker, case_id, goal_id=goal_id, lifecycle="active", effective_at=hours_ago(1)
    )
    progress = sqlite_records.record_goal_progress(
        worker, case_id, goal_id=goal_id, achievement="improving", effective_at=hours_ago(2)
    )

    result = case_as_of(sqlite_records, worker, case_id, effective_at=hours_ago(1.5))

    assert result["as_of"]["set_aside_versions"] == [progress.version]
    assert result["current_plan"] is None


def test_an_addendum_or_marking_of_a_note_not_yet_in_effect_is_set_aside_on_the_effective_axis(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = a_case_opened(sqlite_records, worker, hours=5)
    kept = note(sqlite_records, worker, case_id, "seen at home", hours=4)
    later = sqlite_records.record_note(
        worker, case_id, text="phoned", contact_kind="client", contact_mode="phone"
    )
    assert later.entity_id is not None
    addendum = sqlite_records.append_addendum(
        worker, case_id, note_id=later.entity_id, text="dated early", effective_at=hours_ago(3)
    )
    marking = sqlite_records.mark_entry_in_error(
        worker, case_id, target_version=addendum.version, reason="wrong note"
    )

    result = case_as_of(sqlite_records, worker, case_id, effective_at=hours_ago(2))

    # The note took effect now, so its addendum (dated earlier) has no note to belong to,
    # and the marking of that addendum nothing to set aside.
    assert result["as_of"]["set_aside_versions"] == [addendum.version, marking.version]
    assert [n["version"] for n in result["notes"]] == [kept]
    assert result["note_count"] == 1
    assert result["entries_in_error"] == {}


def test_the_difference_between_two_recorded_times_lists_the_changes_and_events_between(
    sqlite_records: CaseRecords, scenario: ScenarioResult, worker: Actor
) -> None:
    items = [
        e
        for e in case_timeline(sqlite_records, worker, scenario.case_id)
        if e["stream_kind"] == "case"
    ]
    t1 = items[scenario.steps["transferred"] - 2]["recorded_at"]
    t2 = items[scenario.steps["closed"] - 1]["recorded_at"]

    diff = case_diff(sqlite_records, worker, scenario.case_id, t1=t1, t2=t2)

    changed = {c["path"]: (c["before"], c["after"]) for c in diff["changes"]}
    assert changed["case_manager_id"] == ("worker-1", "worker-2")
    assert changed["status"] == ("open", "closed")
    assert [e["event_type"] for e in diff["events"]] == ["CaseManagerAssigned", "Closed"]
    assert (diff["from_version"], diff["to_version"]) == (
        scenario.steps["transferred"] - 1,
        scenario.steps["closed"],
    )


def test_the_difference_on_the_effective_axis_starts_from_nothing_before_the_intake(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = a_case_opened(sqlite_records, worker, hours=3)
    note(sqlite_records, worker, case_id, "visit", hours=2)

    diff = case_diff(
        sqlite_records, worker, case_id, t1=hours_ago(4), t2=hours_ago(1), axis="effective"
    )

    paths = {c["path"] for c in diff["changes"]}
    assert {"status", "note_count", "case_manager_id"} <= paths
    assert [p for p in paths if p.startswith("notes[")]  # the note itself, whole
    assert [e["event_type"] for e in diff["events"]] == ["Opened", "ProgressNoteRecorded"]
    assert diff["from_version"] == 0


def test_replay_refuses_another_agency_and_times_without_an_offset(
    sqlite_records: CaseRecords, scenario: ScenarioResult, worker: Actor, outsider: Actor
) -> None:
    now = datetime.now(UTC)
    with pytest.raises(CaseNotFoundError):
        case_timeline(sqlite_records, outsider, scenario.case_id)
    with pytest.raises(CaseNotFoundError):
        case_as_of(sqlite_records, outsider, scenario.case_id, recorded_at=now)
    with pytest.raises(CaseNotFoundError):
        case_diff(sqlite_records, outsider, scenario.case_id, t1=hours_ago(100), t2=now)
    with pytest.raises(InvalidValueError, match="timezone"):
        case_as_of(sqlite_records, worker, scenario.case_id, recorded_at=datetime(2026, 1, 1))
    with pytest.raises(InvalidValueError, match="axis"):
        case_diff(sqlite_records, worker, scenario.case_id, t1=now, t2=now, axis="sideways")
    with pytest.raises(InvalidValueError, match="t2"):
        case_diff(sqlite_records, worker, scenario.case_id, t1=now, t2=hours_ago(1))


def test_the_difference_shows_each_note_added_set_aside_or_given_an_addendum_whole(
    sqlite_records: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    case_id = a_case_opened(sqlite_records, worker, hours=3)
    wrong = note(sqlite_records, worker, case_id, "wrong client")
    extended = sqlite_records.record_note(
        worker, case_id, text="visit", contact_kind="client", contact_mode="phone"
    ).entity_id
    assert extended is not None
    t1 = datetime.now(UTC)
    sqlite_records.mark_entry_in_error(supervisor, case_id, target_version=wrong, reason="slip")
    sqlite_records.append_addendum(worker, case_id, note_id=extended, text="family agreed")
    added = note(sqlite_records, worker, case_id, "follow-up")

    diff = case_diff(sqlite_records, worker, case_id, t1=t1, t2=datetime.now(UTC))

    changes = {c["path"]: (c["before"], c["after"]) for c in diff["changes"]}
    notes = {p: v for p, v in changes.items() if p.startswith("notes[")}
    assert len(notes) == 3
    removed = [before for before, after in notes.values() if after is None]
    new = [after for p, (before, after) in notes.items() if before is None and "]." not in p]
    assert [n["text"] for n in removed] == ["wrong client"]
    assert [(n["text"], n["version"]) for n in new] == [("follow-up", added)]
    (addendum,) = [after for path, (_, after) in notes.items() if f"[{extended}].addenda" in path]
    assert addendum["text"] == "family agreed"
    assert "note_count" not in changes  # one set aside, one added
