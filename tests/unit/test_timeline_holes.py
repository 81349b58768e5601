"""The versions a case's timeline finds missing from its streams, and the pages that name them."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from caserecord.history import Timeline, missing_versions, timeline_key

CASE, CLIENT = uuid4(), uuid4()
START = datetime(2026, 1, 5, 9, tzinfo=UTC)


def events(*stored: tuple[Any, int]) -> list[dict[str, Any]]:
    """Stored events in recording order, a minute apart."""
    return [
        {
            "stream_id": stream,
            "stream_kind": "case" if stream == CASE else "client",
            "version": version,
            "recorded_at": START + timedelta(minutes=n),
        }
        for n, (stream, version) in enumerate(stored)
    ]


def test_an_unbroken_stream_has_no_holes() -> None:
    stored = events((CLIENT, 1), (CASE, 1), (CASE, 2), (CLIENT, 2))

    assert missing_versions(stored, CASE, {CASE: 2, CLIENT: 2}) == []


def test_versions_absent_between_stored_ones_and_past_the_last_up_to_the_head_are_holes() -> None:
    stored = events((CLIENT, 1), (CASE, 1), (CASE, 4), (CLIENT, 2), (CASE, 5))

    holes = missing_versions(stored, CASE, {CASE: 7, CLIENT: 2})

    assert [(h.stream_kind, h.first, h.last) for h in holes] == [("case", 2, 3), ("case", 6, 7)]
    assert holes[0].after == timeline_key(stored[1])
    assert holes[0].before == timeline_key(stored[2])
    assert holes[1].before is None


def test_a_hole_is_named_by_every_page_it_falls_between_and_by_no_other() -> None:
    # The client's v2 was recorded somewhere between its v1 and v3: each page of that span
    # may have held it; the empty page after the end may not.
    stored = events((CLIENT, 1), (CASE, 1), (CASE, 2), (CASE, 3), (CASE, 4), (CLIENT, 3))
    timeline = Timeline(stored, missing_versions(stored, CASE))
    keys = [timeline_key(e) for e in stored]

    named = [
        timeline.page(after, 2)[1]["missing"]
        for after in (None, keys[1], keys[3], keys[5])  # pages of two, then past the end
    ]

    gap = {"stream_id": CLIENT, "stream_kind": "client", "first": 2, "last": 2}
    assert named == [[gap], [gap], [gap], []]
