"""Idempotency-Key: a retry returns the first response and appends nothing."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.http import CLIENT, Api, a_case
from tests.integration.stored_rows import StoredRows

NOTE = {
    "text": "Phone check-in; attending meetings.",
    "contact_kind": "client",
    "contact_mode": "phone",
}


def events_of(api: Api, case_id: str) -> int:
    return int(api.get(f"/v1/cases/{case_id}").json()["version"])


def test_a_retried_post_returns_the_first_response_and_appends_nothing(api: Api) -> None:
    _, case_id = a_case(api)
    key = {"Idempotency-Key": "note-2026-11-27-001"}

    first = api.post(f"/v1/cases/{case_id}/notes", NOTE, headers=key)
    version = events_of(api, case_id)
    retry = api.post(f"/v1/cases/{case_id}/notes", NOTE, headers=key)

    assert first.status_code == retry.status_code == 201
    assert retry.headers["location"] == first.headers["location"]
    assert retry.json() == first.json()
    assert retry.headers["etag"] == first.headers["etag"]
    assert retry.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert "x-record-position" in first.headers and "x-record-position" not in retry.headers
    assert events_of(api, case_id) == version
    notes = api.get(f"/v1/cases/{case_id}").json()["notes"]
    assert [n["note_id"] for n in notes] == [first.json()["entity_id"]]


def test_a_retried_registration_returns_the_same_client_and_location(sqlite_api: Api) -> None:
    key = {"Idempotency-Key": "register-maria"}

    first = sqlite_api.post("/v1/clients", CLIENT, headers=key)
    retry = sqlite_api.post("/v1/clients", CLIENT, headers=key)

    assert first.status_code == retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["location"] == first.headers["location"]
    assert len(sqlite_api.get("/v1/events").json()["items"]) == 1


def test_the_same_key_with_another_body_is_422_and_appends_nothing(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    key = {"Idempotency-Key": "k-1"}
    sqlite_api.post(f"/v1/cases/{case_id}/notes", NOTE, headers=key)
    version = events_of(sqlite_api, case_id)

    other = sqlite_api.post(f"/v1/cases/{case_id}/notes", NOTE | {"text": "other"}, headers=key)

    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert events_of(sqlite_api, case_id) == version


def test_the_same_key_on_another_route_is_422(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    key = {"Idempotency-Key": "k-2"}
    sqlite_api.post(f"/v1/cases/{case_id}/notes", NOTE, headers=key)

    other = sqlite_api.post("/v1/clients", CLIENT, headers=key)

    assert other.status_code == 422


def test_idempotency_keys_are_scoped_per_agency(sqlite_api: Api) -> None:
    key = {"Idempotency-Key": "shared-key"}

    mine = sqlite_api.post("/v1/clients", CLIENT, headers=key)
    theirs = sqlite_api.post("/v1/clients", CLIENT, headers=key, agency="agency-b")

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert "idempotent-replayed" not in theirs.headers
    assert sqlite_api.get(f"/v1/clients/{mine.json()['id']}", agency="agency-b").status_code == 404


def test_another_users_key_never_returns_their_stored_response(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    key = {"Idempotency-Key": "note-1"}
    note = {"text": "Phoned the client.", "contact_kind": "client", "contact_mode": "phone"}

    mine = sqlite_api.post(f"/v1/cases/{case_id}/notes", note, headers=key)
    theirs = sqlite_api.post(f"/v1/cases/{case_id}/notes", note, headers=key, role="supervisor")
    again = sqlite_api.post(f"/v1/cases/{case_id}/notes", note, headers=key)

    assert mine.status_code == theirs.status_code == again.status_code, theirs.text
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["entity_id"] != mine.json()["entity_id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == mine.json()


def test_concurrent_duplicates_record_once_and_all_get_the_first_response(api: Api) -> None:
    _, case_id = a_case(api)
    version = events_of(api, case_id)
    key = {"Idempotency-Key": "burst"}

    def send(_: int) -> tuple[int, str]:
        r = api.post(f"/v1/cases/{case_id}/notes", NOTE, headers=key)
        return r.status_code, r.text

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(send, range(6)))

    assert {status for status, _ in answers} == {201}
    assert len({text for _, text in answers}) == 1
    assert events_of(api, case_id) == version + 1


def test_a_failed_command_does_not_consume_its_key(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    key = {"Idempotency-Key": "retry-after-fix"}
    treatment = {"treatment": "Detox", "effectiveness": 3, "started_on": "2020-02-01"}
    path = f"/v1/cases/{case_id}/prior-treatments"

    refused = sqlite_api.post(path, treatment | {"ended_on": "2020-01-01"}, headers=key)
    fixed = sqlite_api.post(path, treatment | {"ended_on": "2020-03-01"}, headers=key)

    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_value"
    assert fixed.status_code == 201


def test_a_retry_after_a_crash_between_commit_and_response_gets_the_first_result(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, case_id = a_case(api)
    runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
    key = {"Idempotency-Key": "lost-response"}

    def crash(*_: object) -> None:
        raise RuntimeError("process died after the commit")

    monkeypatch.setattr(runtime, "wrote", crash)
    lost = api.post(f"/v1/cases/{case_id}/notes", NOTE, headers=key)
    monkeypatch.undo()
    retry = api.post(f"/v1/cases/{case_id}/notes", NOTE, headers=key)

    assert lost.status_code == 500
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    notes = api.get(f"/v1/cases/{case_id}").json()["notes"]
    assert [n["note_id"] for n in notes] == [retry.json()["entity_id"]]


def test_a_retry_whose_stored_result_was_edited_in_the_database_is_refused_not_replayed(
    api: Api,
) -> None:
    _, case_id = a_case(api)
    _, other_case = a_case(api)
    key = {"Idempotency-Key": "note-then-edited"}
    first = api.post(f"/v1/cases/{case_id}/notes", NOTE, headers=key)
    version = events_of(api, case_id)
    edited = json.dumps(first.json() | {"id": other_case}, sort_keys=True)
    StoredRows(api.settings.database_url)._run(
        "UPDATE idempotency_keys SET result=? WHERE idem_key LIKE ?", edited, "%:note-then-edited"
    )

    retry = api.post(f"/v1/cases/{case_id}/notes", NOTE, headers=key)

    assert first.status_code == 201
    assert retry.status_code == 500, retry.text
    assert retry.headers["content-type"].startswith("application/problem+json")
    assert retry.json()["code"] == "record_unreadable"
    assert "idempotent-replayed" not in retry.headers
    assert other_case not in retry.text
    assert events_of(api, case_id) == version
