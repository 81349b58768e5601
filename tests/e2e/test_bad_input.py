"""Bad input that must be refused with a clear problem, and never stored."""

import re

import pytest

from tests.e2e.conftest import CLIENT, Api, a_case, intake


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_non_finite_score_is_refused_with_the_fields_path(sqlite_api: Api, number: str) -> None:
    _, case_id = a_case(sqlite_api)
    body = (
        '{"assessments": [{"domain": "medical", "level": "low", "score": ' + number + "}]}"
    ).encode()

    response = sqlite_api.client.post(
        f"/v1/cases/{case_id}/assessments",
        content=body,
        headers=sqlite_api.headers("caseworker", "agency-a", None)
        | {"Content-Type": "application/json"},
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["path"] for e in response.json()["errors"]] == ["assessments[0].score"]
    assert sqlite_api.get(f"/v1/cases/{case_id}").json()["assessments"] == []


@pytest.mark.parametrize("born", ["1899-12-31", "2999-01-01"])
def test_a_date_of_birth_before_1900_or_in_the_future_is_refused(
    sqlite_api: Api, born: str
) -> None:
    response = sqlite_api.post("/v1/clients", CLIENT | {"date_of_birth": born})

    assert response.status_code == 422, response.text
    assert [e["path"] for e in response.json()["errors"]] == ["date_of_birth"]
    assert sqlite_api.get("/v1/events").json()["events"] == []


def test_an_entry_effective_before_the_case_opened_is_refused_saying_when_it_opened(
    sqlite_api: Api,
) -> None:
    client_id = sqlite_api.created("/v1/clients", CLIENT)["id"]
    backdated = intake(client_id) | {"effective_at": "2026-01-10T09:00:00Z"}
    case_id = sqlite_api.created("/v1/cases", backdated)["id"]
    note = {"text": "Called.", "contact_kind": "client", "contact_mode": "phone"}

    before = sqlite_api.post(
        f"/v1/cases/{case_id}/notes", note | {"effective_at": "2026-01-09T09:00:00Z"}
    )
    after = sqlite_api.post(
        f"/v1/cases/{case_id}/notes", note | {"effective_at": "2026-01-10T10:00:00+01:00"}
    )

    assert before.status_code == 422, before.text
    assert before.json()["code"] == "effective_before_case_opened"
    assert "2026-01-10T09:00:00+00:00" in before.json()["detail"]
    assert after.status_code in (200, 201), after.text


def test_every_date_limit_is_declared_in_the_openapi_document(sqlite_api: Api) -> None:
    schemas = sqlite_api.client.get("/openapi.json").json()["components"]["schemas"]

    born = schemas["ClientRegistration"]["properties"]["date_of_birth"]["anyOf"][0]
    effective = schemas["NoteIn"]["properties"]["effective_at"]["anyOf"][0]

    assert re.match(born["pattern"], "1900-01-01") and not re.match(born["pattern"], "1899-12-31")
    assert not re.match(born["pattern"], "2100-01-01")
    assert re.match(effective["pattern"], "2999-12-31T23:59Z")
    assert not re.match(effective["pattern"], "3000-01-01T00:00Z")
    assert not re.match(effective["pattern"], "1899-12-31T23:59Z")
