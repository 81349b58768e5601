"""ETag and If-Match: optimistic concurrency over HTTP."""

from typing import Any
from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.recording import Actor
from tests.e2e.http import Api, a_case
from tests.e2e.matrix import call, routes_of, seed_agency

WORKER = Actor("caseworker@agency-a", "caseworker", "agency-a")  # the cases' manager
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


def rival_saves_first(sqlite_api: Api, case_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another writer (here the same service, re-entering on the request's thread) commits
    the next version of the case between the request's read and its save."""
    records: CaseRecords = sqlite_api.client.app.state.runtime.records  # type: ignore[attr-defined]
    original = records.save
    raced: list[int] = []

    def save_after_a_rival(*args: Any, **kwargs: Any) -> Any:
        if not raced:
            raced.append(1)
            records.record_note(
                WORKER, UUID(case_id), text="rival", contact_kind="client", contact_mode="phone"
            )
        return original(*args, **kwargs)

    monkeypatch.setattr(records, "save", save_after_a_rival)


def test_a_lost_race_with_if_match_is_409(sqlite_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    _, case_id = a_case(sqlite_api)
    rival_saves_first(sqlite_api, case_id, monkeypatch)

    lost = sqlite_api.post(f"/v1/cases/{case_id}/notes", NOTE, headers={"If-Match": '"1"'})

    assert lost.status_code == 409
    assert lost.json()["code"] == "concurrency_conflict"
    notes = sqlite_api.get(f"/v1/cases/{case_id}").json()["notes"]
    assert [n["text"] for n in notes] == ["rival"]


def test_a_lost_race_without_if_match_is_run_again_on_the_fresh_case(
    sqlite_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, case_id = a_case(sqlite_api)
    rival_saves_first(sqlite_api, case_id, monkeypatch)

    written = sqlite_api.post(f"/v1/cases/{case_id}/notes", NOTE)

    assert written.status_code == 201
    assert written.json()["version"] == 3
    notes = sqlite_api.get(f"/v1/cases/{case_id}").json()["notes"]
    assert [n["text"] for n in notes] == ["rival", NOTE["text"]]


def test_a_task_read_answers_the_case_version_as_etag_for_if_match_on_the_task(
    sqlite_api: Api,
) -> None:
    _, case_id = a_case(sqlite_api)
    base = f"/v1/cases/{case_id}/tasks"
    task = {"title": "Call the landlord", "owner_id": WORKER.id, "due_on": "2027-01-04"}
    task_id = sqlite_api.created(base, task)["entity_id"]
    sqlite_api.created(f"/v1/cases/{case_id}/notes", NOTE)

    read = sqlite_api.get(f"{base}/{task_id}")
    stale = sqlite_api.post(
        f"{base}/{task_id}/completion", {"outcome": "done"}, headers={"If-Match": '"2"'}
    )
    fresh = sqlite_api.post(
        f"{base}/{task_id}/completion",
        {"outcome": "done"},
        headers={"If-Match": read.headers["etag"]},
    )

    assert read.headers["etag"] == '"3"'
    assert (stale.status_code, stale.json()["code"]) == (412, "version_mismatch")
    assert fresh.status_code == 200


def test_every_read_of_one_part_of_a_case_answers_the_case_version_as_etag(
    sqlite_api: Api,
) -> None:
    seeded = seed_agency(sqlite_api, "agency-a", "Alpha")
    case_id = seeded.ids["case_id"]
    version = sqlite_api.get(f"/v1/cases/{case_id}").json()["version"]
    # One part each: a path under the case that ends with the part's id.
    parts = [
        r
        for r in routes_of(sqlite_api)
        if r.method == "GET" and r.path.startswith("/v1/cases/{case_id}/") and r.path.endswith("}")
    ]

    answered = {r.path: call(sqlite_api, r, seeded.ids, "caseworker", "agency-a") for r in parts}
    seen = {p: (a.status_code, a.headers.get("etag")) for p, a in answered.items()}

    assert len(seen) >= 15
    assert seen == dict.fromkeys(answered, (200, f'"{version}"'))


# The lists of one case's parts read from the case as it stands (a part's page under it).
PAGES_OF_PARTS = {
    "/v1/cases/{case_id}/notes",
    "/v1/cases/{case_id}/referrals",
    "/v1/cases/{case_id}/goals/{goal_id}/progress",
    "/v1/cases/{case_id}/tasks",
    "/v1/cases/{case_id}/benefit-applications",
}


def test_a_page_of_a_cases_parts_answers_the_case_version_as_etag_and_as_of_a_moment_none(
    sqlite_api: Api,
) -> None:
    seeded = seed_agency(sqlite_api, "agency-a", "Alpha")
    case_id = seeded.ids["case_id"]
    version = sqlite_api.get(f"/v1/cases/{case_id}").json()["version"]
    document = sqlite_api.get("/openapi.json").json()
    pages = [r for r in routes_of(sqlite_api) if r.method == "GET" and r.path in PAGES_OF_PARTS]
    then = {"as_of": "2099-01-01T00:00:00Z"}

    now = {r.path: call(sqlite_api, r, seeded.ids, "caseworker", "agency-a") for r in pages}
    past = {r.path: call(sqlite_api, r, seeded.ids, "caseworker", "agency-a", then) for r in pages}

    assert {r.path for r in pages} == PAGES_OF_PARTS
    assert {p: (a.status_code, a.headers.get("etag")) for p, a in now.items()} == dict.fromkeys(
        PAGES_OF_PARTS, (200, f'"{version}"')
    )
    assert {p: (a.status_code, a.headers.get("etag")) for p, a in past.items()} == dict.fromkeys(
        PAGES_OF_PARTS, (200, None)
    )
    for path in PAGES_OF_PARTS:
        assert "ETag" in document["paths"][path]["get"]["responses"]["200"]["headers"], path
