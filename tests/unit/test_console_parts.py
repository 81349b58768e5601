"""The console's pure parts: times typed into a form, progress charts, entries set aside."""

from datetime import UTC, datetime
from typing import Any

import pytest

from caserecord.console.charts import progress_chart
from caserecord.console.history import Marked, notes_with_set_aside
from caserecord.console.web import PageError, moment_through


@pytest.mark.parametrize(
    ("typed", "through"),
    [
        ("2026-03-01T10:30", datetime(2026, 3, 1, 10, 30, 59, 999999, UTC)),
        ("2026-03-01T10:30:05", datetime(2026, 3, 1, 10, 30, 5, 999999, UTC)),
        ("2026-03-01T10:30:05.123", datetime(2026, 3, 1, 10, 30, 5, 123999, UTC)),
        # An ISO time as the API writes it, or pasted with its offset, is read as written.
        ("2026-03-01T10:30:05.123Z", datetime(2026, 3, 1, 10, 30, 5, 123999, UTC)),
        ("2026-03-01 10:30:05Z", datetime(2026, 3, 1, 10, 30, 5, 999999, UTC)),
        ("2026-03-01T12:30+02:00", datetime(2026, 3, 1, 10, 30, 59, 999999, UTC)),
    ],
)
def test_a_typed_time_reaches_through_the_end_of_what_it_names(
    typed: str, through: datetime
) -> None:
    assert moment_through(typed) == through


def test_a_typed_time_that_is_not_one_is_a_clear_error() -> None:
    with pytest.raises(PageError, match="is not a date and time"):
        moment_through("yesterday")
    with pytest.raises(PageError, match="is not a date and time"):
        moment_through("01/03/2026 10:30")  # a locale's order, which a reader could misread


def progress(day: int, value: str, achievement: str = "improving") -> dict[str, Any]:
    at = datetime(2026, 3, day, tzinfo=UTC).isoformat()
    return {"effective_at": at, "measured_value": value, "achievement": achievement}


def test_numeric_progress_is_drawn_in_time_order_rising_upwards() -> None:
    chart = progress_chart([progress(9, "14"), progress(2, "7"), progress(16, "21")], "days")

    assert chart is not None
    xs = [p.x for p in chart.points]
    ys = [p.y for p in chart.points]
    assert xs == sorted(xs) and ys == sorted(ys, reverse=True)
    assert chart.measure == "days"
    assert "2026-03-02: 7 days (improving)" in chart.description


def test_progress_without_numbers_is_drawn_on_the_achievement_scale() -> None:
    chart = progress_chart([progress(1, "", "worsening"), progress(2, "n/a", "achieved")], "")

    assert chart is not None
    assert chart.measure == "achievement"
    assert chart.points[0].y > chart.points[1].y


def test_no_progress_draws_no_chart() -> None:
    assert progress_chart([], "days") is None


def event(version: int, kind: str, data: dict[str, Any], **more: Any) -> dict[str, Any]:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    return {
        "version": version,
        "event_type": kind,
        "data": data,
        "recorded_at": at,
        "effective_at": at,
        "actor": {"id": "w", "role": "caseworker"},
        **more,
    }


def test_a_note_marked_in_error_is_kept_beside_the_standing_ones_newest_first() -> None:
    standing = [
        {
            "note_id": "n1",
            "version": 2,
            "text": "kept",
            "addenda": [],
            "in_error": False,
        }
    ]
    marking = event(5, "EntryMarkedInError", {"target_version": 4}, reason="wrong client")
    wrong = event(4, "ProgressNoteRecorded", {"note_id": "n2", "text": "set aside"})
    addendum = event(3, "AddendumAppended", {"note_id": "n1", "text": "aside too"})

    notes = notes_with_set_aside(standing, [Marked(wrong, marking), Marked(addendum, marking)])

    assert [(n["note_id"], n["in_error"]) for n in notes] == [("n2", True), ("n1", False)]
    assert notes[0]["marking"]["reason"] == "wrong client"
    assert notes[1]["addenda"][0]["text"] == "aside too"
    assert notes[1]["addenda"][0]["in_error"] is True
