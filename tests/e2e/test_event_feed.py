"""The event feed: the caller's agency only, in order, with a cursor."""

from caserecord.application import CaseRecords
from tests.e2e.conftest import CLIENT, Api, a_case
from tests.integration.test_event_feed_index import registrations


def test_the_feed_holds_only_the_callers_agency_in_recording_order(api: Api) -> None:
    mine_client, mine_case = a_case(api)
    a_case(api, agency="agency-b")
    api.post(
        f"/v1/cases/{mine_case}/notes",
        {"text": "seen", "contact_kind": "client", "contact_mode": "phone"},
    )

    page = api.get("/v1/events").json()
    theirs = api.get("/v1/events", agency="agency-b").json()

    assert [(e["stream_id"], e["type"]) for e in page["events"]] == [
        (mine_client, "Registered"),
        (mine_case, "Opened"),
        (mine_case, "ProgressNoteRecorded"),
    ]
    assert {e["actor"]["agency_id"] for e in page["events"]} == {"agency-a"}
    assert mine_case not in str(theirs)
    assert {e["actor"]["agency_id"] for e in theirs["events"]} == {"agency-b"}
    positions = [e["position"] for e in page["events"]]
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
    second = sqlite_api.get("/v1/events", limit=2, after=first["next_after"]).json()
    third = sqlite_api.get("/v1/events", limit=2, after=second["next_after"]).json()
    end = sqlite_api.get("/v1/events", limit=2, after=third["next_after"]).json()

    numbers = [e["data"]["client_number"] for p in (first, second, third) for e in p["events"]]
    assert numbers == ["C-0", "C-1", "C-2", "C-3", "C-4"]
    assert (first["has_more"], second["has_more"]) == (True, True)
    assert end["events"] == [] and end["has_more"] is False
    assert end["next_after"] == third["next_after"]


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
    after_end = api.get("/v1/events", limit=10, after=page["next_after"]).json()

    assert [e["stream_id"] for e in page["events"]] == [first["id"], second["id"]]
    assert page["has_more"] is False
    assert page["next_after"] == records.recorder.max_notification_id()
    assert after_end == {"events": [], "next_after": page["next_after"], "has_more": False}


def test_reading_the_feed_is_recorded_in_the_access_log(sqlite_api: Api) -> None:
    client_id, case_id = a_case(sqlite_api)

    sqlite_api.get("/v1/events")
    log = sqlite_api.get(f"/v1/clients/{client_id}/access-log", role="compliance_reviewer")

    assert {(e["action"], e["case_id"]) for e in log.json()["entries"]} == {
        ("read_events", None),
        ("read_events", case_id),
    }
