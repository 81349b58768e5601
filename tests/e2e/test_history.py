"""A case's history over HTTP: timeline, "as of" on both axes, and the difference."""

import time
from datetime import UTC, datetime, timedelta

from tests.e2e.http import CLIENT, Api, a_case, intake

NOTE = {"text": "Check-in.", "contact_kind": "client", "contact_mode": "phone"}


def now() -> datetime:
    return datetime.now(UTC)


def test_as_of_shows_what_was_known_then_and_what_was_in_effect_then(api: Api) -> None:
    client_id = api.created("/v1/clients", CLIENT)["id"]
    days = [now() - timedelta(days=n) for n in range(11)]
    case_id = api.created("/v1/cases", intake(client_id) | {"effective_at": days[10].isoformat()})[
        "id"
    ]
    base = f"/v1/cases/{case_id}"
    time.sleep(0.01)
    before_note = now()
    time.sleep(0.01)
    api.created(f"{base}/notes", NOTE | {"effective_at": days[3].isoformat()})

    known_then = api.get(f"{base}/as-of", as_of=before_note.isoformat()).json()
    in_effect_5_days_ago = api.get(f"{base}/as-of", effective_at=days[5].isoformat()).json()
    in_effect_yesterday = api.get(f"{base}/as-of", effective_at=days[1].isoformat()).json()
    both = api.get(
        f"{base}/as-of", as_of=before_note.isoformat(), effective_at=days[1].isoformat()
    ).json()

    assert (known_then["version"], known_then["notes"]) == (1, [])
    assert known_then["as_of"]["known_version"] == 1
    assert in_effect_5_days_ago["notes"] == []
    assert [n["text"] for n in in_effect_yesterday["notes"]] == ["Check-in."]
    assert both["notes"] == []


def test_the_difference_between_two_moments_lists_changes_and_events(api: Api) -> None:
    _, case_id = a_case(api)
    base = f"/v1/cases/{case_id}"
    time.sleep(0.01)
    t1 = now()
    time.sleep(0.01)
    api.created(f"{base}/notes", NOTE)
    t2 = now()

    diff = api.get(f"{base}/diff", t1=t1.isoformat(), t2=t2.isoformat()).json()

    assert (diff["from_version"], diff["to_version"]) == (1, 2)
    assert [e["event_type"] for e in diff["events"]] == ["ProgressNoteRecorded"]
    assert [c["path"].split("[")[0] for c in diff["changes"]] == ["note_count", "notes"]


def test_history_needs_moments_with_an_offset(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)

    naive = sqlite_api.get(f"/v1/cases/{case_id}/as-of", as_of="2026-01-01T10:00:00")
    missing = sqlite_api.get(f"/v1/cases/{case_id}/diff", t1="2026-01-01T10:00:00Z")

    assert naive.status_code == 422 and naive.json()["errors"][0]["path"] == "query:as_of"
    assert missing.status_code == 422 and missing.json()["errors"][0]["path"] == "query:t2"


def test_history_of_another_agencys_case_is_404(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    moment = now().isoformat()

    for path, params in (
        ("timeline", {}),
        ("as-of", {"as_of": moment}),
        ("diff", {"t1": moment, "t2": moment}),
    ):
        response = sqlite_api.get(f"/v1/cases/{case_id}/{path}", agency="agency-b", query=params)
        assert response.status_code == 404, path
        assert "Lopez" not in response.text


def test_a_long_timeline_comes_in_pages(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    for n in range(4):
        sqlite_api.created(f"/v1/cases/{case_id}/notes", NOTE | {"text": f"call {n}"})
    path = f"/v1/cases/{case_id}/timeline"

    first = sqlite_api.get(path, limit=3).json()
    rest = sqlite_api.get(path, limit=3, cursor=first["next"]).json()

    assert first["total"] == rest["total"] == 6
    assert [e["event_type"] for e in first["items"]] == [
        "Registered",
        "Opened",
        "ProgressNoteRecorded",
    ]
    assert [e["data"]["text"] for e in rest["items"]] == ["call 1", "call 2", "call 3"]
    assert rest["next"] is None
