"""A case's history over HTTP: timeline, "as of" on both axes, and the difference."""

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from tests.e2e.http import CLIENT, Api, a_case, forget_cached, intake
from tests.integration.stored_rows import StoredRows

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


def a_case_with_notes(api: Api, count: int) -> tuple[str, list[int]]:
    _, case_id = a_case(api)
    versions = [api.created(f"/v1/cases/{case_id}/notes", NOTE)["version"] for _ in range(count)]
    return case_id, versions


def gap(case_id: str, first: int, last: int | None = None) -> dict[str, Any]:
    return {"stream_id": case_id, "stream_kind": "case", "first": first, "last": last or first}


def test_the_timeline_of_an_intact_case_says_it_is_intact(sqlite_api: Api) -> None:
    case_id, _ = a_case_with_notes(sqlite_api, 2)

    page = sqlite_api.get(f"/v1/cases/{case_id}/timeline").json()

    assert page["integrity"] == {"intact": True, "missing": []}


@pytest.mark.parametrize("link", ["kept", "deleted"])
def test_the_timeline_of_a_case_with_an_event_deleted_in_the_database_names_its_version(
    api: Api, link: str
) -> None:
    case_id, versions = a_case_with_notes(api, 3)
    rows = StoredRows(api.settings.database_url)
    rows.delete_event(UUID(case_id), versions[1])
    if link == "deleted":
        rows._run(
            "DELETE FROM event_chain WHERE originator_id=? AND originator_version=?",
            case_id,
            versions[1],
        )

    page = api.get(f"/v1/cases/{case_id}/timeline", role="compliance_reviewer").json()

    # The events either side are listed as stored; the hole between them is named.
    case_versions = [e["version"] for e in page["items"] if e["stream_kind"] == "case"]
    assert case_versions == [1, versions[0], versions[2]]
    assert page["integrity"] == {"intact": False, "missing": [gap(case_id, versions[1])]}


def test_the_timeline_of_a_case_that_cannot_be_rebuilt_past_a_deleted_event_names_it(
    api: Api,
) -> None:
    case_id, versions = a_case_with_notes(api, 3)
    StoredRows(api.settings.database_url).delete_event(UUID(case_id), versions[1])
    forget_cached(api)  # loaded afresh from its events, the case stops at the hole

    answer = api.get(f"/v1/cases/{case_id}/timeline", role="compliance_reviewer")

    assert answer.status_code == 500
    problem = answer.json()
    assert problem["code"] == "record_incomplete"
    assert "/verification" in problem["detail"]


def test_the_timeline_names_the_last_events_cut_from_a_case_with_their_links(api: Api) -> None:
    case_id, versions = a_case_with_notes(api, 3)
    rows = StoredRows(api.settings.database_url)
    for version in versions[1:]:
        rows.delete_event(UUID(case_id), version)
        rows._run(
            "DELETE FROM event_chain WHERE originator_id=? AND originator_version=?",
            case_id,
            version,
        )

    page = api.get(f"/v1/cases/{case_id}/timeline", role="compliance_reviewer").json()

    # Nothing after them in the stream shows the cut: the tree's leaves still name them.
    assert page["integrity"] == {
        "intact": False,
        "missing": [gap(case_id, versions[1], versions[2])],
    }


def test_a_version_missing_between_two_pages_of_the_timeline_is_named_by_both_and_no_other(
    sqlite_api: Api,
) -> None:
    case_id, _ = a_case_with_notes(sqlite_api, 5)  # case v2..v6
    StoredRows(sqlite_api.settings.database_url).delete_event(UUID(case_id), 4)
    path = f"/v1/cases/{case_id}/timeline"

    # Client v1, case v1 | case v2, v3 | case v5, v6: the hole lies between the last two pages.
    first = sqlite_api.get(path, limit=2).json()
    second = sqlite_api.get(path, limit=2, cursor=first["next"]).json()
    third = sqlite_api.get(path, limit=2, cursor=second["next"]).json()

    assert [e["version"] for e in second["items"]] == [2, 3]
    assert [e["version"] for e in third["items"]] == [5, 6]
    assert first["integrity"] == {"intact": True, "missing": []}
    assert (
        second["integrity"]
        == third["integrity"]
        == {
            "intact": False,
            "missing": [gap(case_id, 4)],
        }
    )
