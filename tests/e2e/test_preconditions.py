"""ETag and If-Match: optimistic concurrency over HTTP."""

from typing import Any

import pytest

from caserecord.application import CaseRecords
from tests.e2e.conftest import Api, a_case

NOTE = {"text": "Called the client.", "contact_kind": "client", "contact_mode": "phone"}


def test_case_and_client_responses_carry_their_version_as_etag(api: Api) -> None:
    client_id, case_id = a_case(api)

    case = api.get(f"/v1/cases/{case_id}")
    client = api.get(f"/v1/clients/{client_id}")

    assert case.headers["etag"] == '"1"' and case.json()["version"] == 1
    assert client.headers["etag"] == '"1"'


def test_a_write_with_the_current_etag_succeeds_and_returns_the_new_one(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    etag = sqlite_api.get(f"/v1/cases/{case_id}").headers["etag"]

    written = sqlite_api.post(f"/v1/cases/{case_id}/notes", NOTE, headers={"If-Match": etag})

    assert written.status_code == 201
    assert written.headers["etag"] == '"2"'
    assert written.json()["version"] == 2


def test_a_write_with_a_stale_etag_is_412_and_records_nothing(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    sqlite_api.post(f"/v1/cases/{case_id}/notes", NOTE)

    stale = sqlite_api.post(f"/v1/cases/{case_id}/notes", NOTE, headers={"If-Match": '"1"'})

    assert stale.status_code == 412
    assert stale.json()["code"] == "version_mismatch"
    assert sqlite_api.get(f"/v1/cases/{case_id}").json()["version"] == 2


def test_an_if_match_that_is_not_an_etag_is_a_validation_error(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)

    response = sqlite_api.post(f"/v1/cases/{case_id}/notes", NOTE, headers={"If-Match": "abc"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "header:if-match"


def test_a_lost_race_is_409(sqlite_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    _, case_id = a_case(sqlite_api)
    records: CaseRecords = sqlite_api.client.app.state.runtime.records  # type: ignore[attr-defined]
    original = records.save
    raced: list[int] = []

    def save_after_a_rival(*args: Any, **kwargs: Any) -> Any:
        if not raced:
            # Another writer commits the same next version between our read and our save.
            raced.append(1)
            rival = sqlite_api.post(f"/v1/cases/{case_id}/notes", NOTE | {"text": "rival"})
            assert rival.status_code == 201
        return original(*args, **kwargs)

    monkeypatch.setattr(records, "save", save_after_a_rival)
    lost = sqlite_api.post(f"/v1/cases/{case_id}/notes", NOTE)

    assert lost.status_code == 409
    assert lost.json()["code"] == "concurrency_conflict"
    notes = sqlite_api.get(f"/v1/cases/{case_id}").json()["notes"]
    assert [n["text"] for n in notes] == ["rival"]
