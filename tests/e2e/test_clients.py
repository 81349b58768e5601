"""Clients over HTTP: register, read, correct, support contacts, search."""

from tests.e2e.http import CLIENT, Api, intake


def test_a_registered_client_can_be_read_corrected_and_found(api: Api) -> None:
    registered = api.post("/v1/clients", CLIENT)
    client_id = registered.json()["id"]

    corrected = api.post(
        f"/v1/clients/{client_id}/detail-corrections",
        {"changes": {"phone": "555-0199"}, "reason": "client gave a new number"},
        headers={"If-Match": registered.headers["etag"]},
    )
    read = api.get(f"/v1/clients/{client_id}")
    found = api.get("/v1/clients", name="lopez")

    assert registered.status_code == 201
    assert registered.headers["location"] == f"/v1/clients/{client_id}"
    assert corrected.status_code == 200 and corrected.json()["version"] == 2
    assert read.json()["phone"] == "555-0199"
    assert read.json()["given_name"] == "Maria"
    assert read.headers["etag"] == '"2"'
    assert [c["client_id"] for c in found.json()["items"]] == [client_id]


def test_a_correction_needs_a_reason_and_a_change(sqlite_api: Api) -> None:
    client_id = sqlite_api.created("/v1/clients", CLIENT)["id"]

    no_reason = sqlite_api.post(
        f"/v1/clients/{client_id}/detail-corrections", {"changes": {"phone": "1"}}
    )
    no_change = sqlite_api.post(
        f"/v1/clients/{client_id}/detail-corrections",
        {"changes": {"phone": CLIENT["phone"]}, "reason": "typo"},
    )
    unknown_field = sqlite_api.post(
        f"/v1/clients/{client_id}/detail-corrections",
        {"changes": {"agency_id": "b"}, "reason": "x"},
    )

    assert (no_reason.status_code, no_reason.json()["code"]) == (422, "validation_failed")
    assert [e["path"] for e in no_reason.json()["errors"]] == ["reason"]
    assert (no_change.status_code, no_change.json()["code"]) == (409, "nothing_to_correct")
    assert unknown_field.status_code == 422
    empty = sqlite_api.post(
        f"/v1/clients/{client_id}/detail-corrections", {"changes": {}, "reason": "x"}
    )
    assert empty.status_code == 422 and empty.json()["code"] == "validation_failed"
    assert unknown_field.json()["errors"][0]["path"] == "changes.agency_id"


def test_support_contacts_are_added_and_removed_with_a_reason(sqlite_api: Api) -> None:
    client_id = sqlite_api.created("/v1/clients", CLIENT)["id"]
    contacts = f"/v1/clients/{client_id}/support-contacts"

    added = sqlite_api.created(contacts, {"name": "Ana Lopez", "relationship": "family"})
    contact_id = added["entity_id"]
    without_reason = sqlite_api.post(f"{contacts}/{contact_id}/removal", {})
    removed = sqlite_api.post(f"{contacts}/{contact_id}/removal", {"reason": "client asked"})
    again = sqlite_api.post(f"{contacts}/{contact_id}/removal", {"reason": "client asked"})
    bad = sqlite_api.post(contacts, {"name": "X", "relationship": "neighbour"})

    assert without_reason.status_code == 422
    assert removed.status_code == 200
    assert again.status_code == 404
    assert again.json()["code"] == "support_contact_not_found"
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "relationship"
    assert sqlite_api.get(f"/v1/clients/{client_id}").json()["support_contacts"] == []


def test_search_finds_only_the_callers_agency(sqlite_api: Api) -> None:
    sqlite_api.created("/v1/clients", CLIENT)
    sqlite_api.created("/v1/clients", CLIENT, agency="agency-b")

    mine = sqlite_api.get("/v1/clients", client_number="C-1001").json()["items"]
    theirs = sqlite_api.get("/v1/clients", client_number="C-1001", agency="agency-b").json()

    assert len(mine) == 1 and len(theirs["items"]) == 1
    assert mine[0]["client_id"] != theirs["items"][0]["client_id"]
    assert {c["agency_id"] for c in mine} == {"agency-a"}


def test_the_old_corrections_paths_still_work_and_say_they_are_deprecated(
    sqlite_api: Api,
) -> None:
    client_id = sqlite_api.created("/v1/clients", CLIENT)["id"]
    case_id = sqlite_api.created("/v1/cases", intake(client_id))["id"]
    note = sqlite_api.created(
        f"/v1/cases/{case_id}/notes",
        {"text": "Wrong case", "contact_kind": "client", "contact_mode": "phone"},
    )
    document = sqlite_api.client.get("/openapi.json").json()["paths"]

    details = sqlite_api.post(
        f"/v1/clients/{client_id}/corrections", {"changes": {"phone": "1"}, "reason": "typo"}
    )
    entry = sqlite_api.post(
        f"/v1/cases/{case_id}/corrections",
        {"target_version": note["version"], "reason": "wrong case"},
    )

    assert sqlite_api.get(f"/v1/clients/{client_id}").json()["phone"] == "1"
    assert sqlite_api.get(f"/v1/cases/{case_id}").json()["notes"] == []
    assert details.headers["deprecation"] == entry.headers["deprecation"] == "true"
    assert f"/v1/clients/{client_id}/detail-corrections" in details.headers["link"]
    assert f"/v1/cases/{case_id}/entries-in-error" in entry.headers["link"]
    assert document["/v1/clients/{client_id}/corrections"]["post"]["deprecated"] is True
    assert document["/v1/cases/{case_id}/corrections"]["post"]["deprecated"] is True
    assert "deprecated" not in document["/v1/clients/{client_id}/detail-corrections"]["post"]
    assert "deprecated" not in document["/v1/cases/{case_id}/entries-in-error"]["post"]
