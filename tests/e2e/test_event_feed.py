"""The event feed: the caller's agency only, in order, with a cursor."""

from caserecord.api.paging import decode, encode
from caserecord.application import CaseRecords
from tests.e2e.http import CLIENT, Api, a_case, staff_the_agency
from tests.factories import registrations
from tests.integration.stored_rows import StoredRows


def test_the_feed_holds_only_the_callers_agency_in_recording_order(api: Api) -> None:
    mine_client, mine_case = a_case(api)
    a_case(api, agency="agency-b")
    api.post(
        f"/v1/cases/{mine_case}/notes",
        {"text": "seen", "contact_kind": "client", "contact_mode": "phone"},
    )

    page = api.get("/v1/events").json()
    theirs = api.get("/v1/events", agency="agency-b").json()

    assert [(e["stream_id"], e["type"]) for e in page["items"]] == [
        (mine_client, "Registered"),
        (mine_case, "Opened"),
        (mine_case, "ProgressNoteRecorded"),
    ]
    assert {e["actor"]["agency_id"] for e in page["items"]} == {"agency-a"}
    assert mine_case not in str(theirs)
    assert {e["actor"]["agency_id"] for e in theirs["items"]} == {"agency-b"}
    positions = [e["position"] for e in page["items"]]
    assert positions == sorted(positions)


def test_the_cursor_continues_where_the_last_page_ended(sqlite_api: Api) -> None:
    for n in range(5):
        sqlite_api.created(
            "/v1/clients", CLIENT | {"client_number": f"C-{n}", "confirmed_distinct": True}
        )
        sqlite_api.created(
            "/v1/clients",
            CLIENT | {"client_number": f"C-{n}", "confirmed_distinct": True},
            agency="agency-b",
        )

    first = sqlite_api.get("/v1/events", limit=2).json()
    second = sqlite_api.get("/v1/events", limit=2, cursor=first["next"]).json()
    third = sqlite_api.get("/v1/events", limit=2, cursor=second["next"]).json()
    end = sqlite_api.get("/v1/events", limit=2, cursor=third["resume"]).json()
    sqlite_api.created("/v1/clients", CLIENT | {"client_number": "C-5", "confirmed_distinct": True})
    later = sqlite_api.get("/v1/events", limit=2, cursor=third["resume"]).json()

    numbers = [e["data"]["client_number"] for p in (first, second, third) for e in p["items"]]
    assert numbers == ["C-0", "C-1", "C-2", "C-3", "C-4"]
    assert third["next"] is None
    assert end["items"] == [] and end["next"] is None
    assert end["resume"] == third["resume"]
    assert [e["data"]["client_number"] for e in later["items"]] == ["C-5"]


def test_one_page_holds_an_agencys_sparse_events_however_many_others_lie_between(
    api: Api,
) -> None:
    records: CaseRecords = api.client.app.state.runtime.records  # type: ignore[attr-defined]
    first = api.created(
        "/v1/clients", CLIENT | {"client_number": "A-1", "confirmed_distinct": True}
    )
    records.events.put(registrations(1_000))
    second = api.created(
        "/v1/clients", CLIENT | {"client_number": "A-2", "confirmed_distinct": True}
    )
    records.events.put(registrations(1_000))

    page = api.get("/v1/events", limit=10).json()
    after_end = api.get("/v1/events", limit=10, cursor=page["resume"]).json()

    assert [e["stream_id"] for e in page["items"]] == [first["id"], second["id"]]
    assert page["next"] is None
    assert decode(page["resume"], int) == records.recorder.max_notification_id()
    assert after_end == {
        "items": [],
        "next": None,
        "resume": page["resume"],
        "integrity": {"intact": True, "missing": [], "left_out": 0},
    }


def test_a_page_is_filled_with_the_agencys_records_past_its_staff_and_directory_changes(
    api: Api,
) -> None:
    staff_the_agency(api, extra=tuple(f"cm-{n}" for n in range(10)))
    client_id, case_id = a_case(api)

    page = api.get("/v1/events", limit=2).json()

    assert [e["stream_id"] for e in page["items"]] == [client_id, case_id]
    assert page["next"] is None
    assert page["integrity"]["intact"] is True


def test_reading_the_feed_is_recorded_in_the_access_log(sqlite_api: Api) -> None:
    client_id, case_id = a_case(sqlite_api)

    sqlite_api.get("/v1/events")
    log = sqlite_api.get(f"/v1/clients/{client_id}/access-log", role="compliance_reviewer")

    (entry,) = log.json()["items"]
    assert entry["action"] == "read_events"
    assert {s["case_id"] for s in entry["subjects"]} == {None, case_id}


def test_a_feed_index_row_deleted_in_the_database_is_flagged_on_the_pages_around_it(
    api: Api,
) -> None:
    for n in range(4):
        api.created("/v1/clients", CLIENT | {"client_number": f"G-{n}", "confirmed_distinct": True})
    whole = api.get("/v1/events").json()
    positions = [e["position"] for e in whole["items"]][-4:]  # the four registrations
    rows = StoredRows(api.settings.database_url)
    ((number,),) = rows._run("SELECT seq FROM event_agency WHERE notification_id=?", positions[2])
    rows._run("DELETE FROM event_agency WHERE notification_id=?", positions[2])

    before = api.get("/v1/events", limit=1, cursor=encode(positions[0])).json()
    after = api.get("/v1/events", limit=2, cursor=encode(positions[1])).json()
    everything = api.get("/v1/events").json()

    gap = {
        "first": number,
        "last": number,
        "after_position": positions[1],
        "before_position": positions[3],
    }
    assert whole["integrity"] == {"intact": True, "missing": [], "left_out": 0}
    assert [e["position"] for e in before["items"]] == [positions[1]]
    assert before["integrity"] == {"intact": False, "missing": [gap], "left_out": 0}
    assert [e["position"] for e in after["items"]] == [positions[3]]
    assert after["integrity"] == {"intact": False, "missing": [gap], "left_out": 0}
    assert positions[2] not in [e["position"] for e in everything["items"]]
    assert everything["integrity"]["missing"] == [gap]


def test_a_feed_event_names_its_type_as_the_audit_trail_and_timeline_do(api: Api) -> None:
    _, case_id = a_case(api)

    [event] = [e for e in api.get("/v1/events").json()["items"] if e["stream_id"] == case_id]
    # The supervisor wrote nothing: it waits for the caseworker's position in the views.
    reached = {"X-Min-Position": str(event["position"])}
    trail = api.get("/v1/audit-trail", role="supervisor", case_id=case_id, headers=reached)
    [row] = trail.json()["items"]

    assert event["event_type"] == event["type"] == row["event_type"] == "Opened"
