"""Progress notes and addenda over HTTP, including late entries."""

from datetime import UTC, datetime, timedelta

from tests.e2e.http import Api, a_case

VISIT = {
    "text": "Home visit.",
    "contact_kind": "client",
    "contact_mode": "in_person",
    "present": ["client", "sister"],
}


def test_a_note_and_its_addendum_are_recorded_in_order(api: Api) -> None:
    _, case_id = a_case(api)
    base = f"/v1/cases/{case_id}/notes"

    note_id = api.created(base, VISIT)["entity_id"]
    api.created(f"{base}/{note_id}/addenda", {"text": "Sister is the main support."})
    (note,) = api.get(f"/v1/cases/{case_id}").json()["notes"]

    assert note["note_id"] == note_id
    assert note["present"] == ["client", "sister"]
    assert [a["text"] for a in note["addenda"]] == ["Sister is the main support."]


def test_a_late_note_keeps_when_it_happened_and_is_flagged(sqlite_api: Api) -> None:
    happened = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    _, case_id = a_case(sqlite_api, effective_at=happened.isoformat())

    sqlite_api.created(
        f"/v1/cases/{case_id}/notes",
        VISIT | {"effective_at": happened.isoformat(), "reason": "late entry"},
    )
    timeline = sqlite_api.get(f"/v1/cases/{case_id}/timeline").json()["items"]

    (entry,) = [e for e in timeline if e["event_type"] == "ProgressNoteRecorded"]
    assert datetime.fromisoformat(entry["effective_at"]) == happened
    assert entry["late"] is True
    assert entry["reason"] == "late entry"


def test_an_addendum_to_an_unknown_note_is_404(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)

    response = sqlite_api.post(f"/v1/cases/{case_id}/notes/missing/addenda", {"text": "x"})

    assert (response.status_code, response.json()["code"]) == (404, "note_not_found")


def test_notes_are_listed_newest_first_in_pages_and_as_they_stood_at_a_moment(
    api: Api,
) -> None:
    _, case_id = a_case(api)
    base = f"/v1/cases/{case_id}/notes"
    ids = [api.created(base, VISIT | {"text": f"visit {i}"})["entity_id"] for i in range(3)]
    then = datetime.now(UTC)
    api.created(base, VISIT | {"text": "visit 3"})

    first = api.get(base, limit=2).json()
    rest = api.get(base, limit=2, cursor=first["next"]).json()
    at_then = api.get(base, as_of=then.isoformat()).json()

    assert [n["text"] for n in first["items"]] == ["visit 3", "visit 2"]
    assert [n["note_id"] for n in rest["items"]] == [ids[1], ids[0]]
    assert (first["note_count"], rest["next"]) == (4, None)
    assert [n["note_id"] for n in at_then["items"]] == ids[::-1]
    assert at_then["as_of"]["known_version"] == 4


def test_a_note_read_answers_the_case_version_as_etag_for_if_match_on_the_note(
    sqlite_api: Api,
) -> None:
    _, case_id = a_case(sqlite_api)
    base = f"/v1/cases/{case_id}/notes"
    note_id = sqlite_api.created(base, VISIT)["entity_id"]
    addendum = sqlite_api.created(f"{base}/{note_id}/addenda", {"text": "Sister helps."})

    read = sqlite_api.get(f"{base}/{note_id}")
    added = sqlite_api.get(f"{base}/{note_id}/addenda/{addendum['entity_id']}")
    fresh = sqlite_api.post(
        f"{base}/{note_id}/addenda",
        {"text": "And a cousin."},
        headers={"If-Match": read.headers["etag"]},
    )
    stale = sqlite_api.post(
        f"{base}/{note_id}/addenda", {"text": "Again."}, headers={"If-Match": read.headers["etag"]}
    )

    assert read.headers["etag"] == added.headers["etag"] == f'"{addendum["version"]}"'
    assert fresh.status_code == 201
    assert (stale.status_code, stale.json()["code"]) == (412, "version_mismatch")
