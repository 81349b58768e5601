"""Bad input that must be refused with a clear problem, and never stored."""

import re

import pytest

from tests.e2e.http import CLIENT, Api, a_case, intake


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
    assert sqlite_api.get("/v1/events").json()["items"] == []


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


def test_a_client_number_names_one_client_of_the_agency(api: Api) -> None:
    first = api.created("/v1/clients", CLIENT)["id"]

    again = api.post("/v1/clients", CLIENT | {"given_name": "Ana", "confirmed_distinct": True})
    elsewhere = api.post("/v1/clients", CLIENT, agency="agency-b")

    assert again.status_code == 409, again.text
    assert again.json()["code"] == "client_number_taken"
    assert again.json()["client_id"] == first
    assert first in again.json()["detail"]
    assert elsewhere.status_code == 201


def test_a_namesake_born_the_same_day_is_a_possible_duplicate_unless_confirmed(api: Api) -> None:
    first = api.created("/v1/clients", CLIENT)["id"]
    namesake = CLIENT | {"given_name": " maria ", "family_name": "LOPEZ", "client_number": ""}

    refused = api.post("/v1/clients", namesake)
    confirmed = api.post("/v1/clients", namesake | {"confirmed_distinct": True})

    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "possible_duplicate"
    assert refused.json()["candidates"] == [
        {
            "id": first,
            "given_name": "Maria",
            "family_name": "Lopez",
            "date_of_birth": "1984-05-17",
            "client_number": "C-1001",
        }
    ]
    assert confirmed.status_code == 201, confirmed.text


def test_a_correction_cannot_take_another_clients_number(sqlite_api: Api) -> None:
    first = sqlite_api.created("/v1/clients", CLIENT)["id"]
    other = CLIENT | {"client_number": "C-2", "confirmed_distinct": True}
    second = sqlite_api.created("/v1/clients", other)["id"]

    response = sqlite_api.post(
        f"/v1/clients/{second}/corrections",
        {"changes": {"client_number": "C-1001"}, "reason": "typo"},
    )

    assert response.status_code == 409, response.text
    assert response.json()["client_id"] == first


# Every rule a request schema enforces between its fields: what breaks it, the fields the
# 422 names, and the OpenAPI schema that must state the rule (a field's description or its
# own), so a client written from the document alone can keep it.
BROKEN_RULES = [
    (
        "/v1/cases/{case}/referrals",
        {"resource_kind": "housing", "organisation": "Shelter"},
        ["service_name"],
        ("ReferralIn", "service_name"),
    ),
    (
        "/v1/cases/{case}/referrals",
        {"resource_kind": "housing"},
        ["organisation", "service_name"],
        ("ReferralIn", "organisation"),
    ),
    (
        "/v1/clients/{client}/detail-corrections",
        {"reason": "typo", "changes": {}},
        ["changes"],
        ("ClientCorrection", "changes"),
    ),
    (
        "/v1/cases/{case}/plans/p-1/revisions",
        {"reason": "review"},
        ["body"],
        ("PlanRevisionIn", None),
    ),
    (
        "/v1/cases/{case}/goals/g-1/revisions",
        {"reason": "review"},
        ["body"],
        ("GoalRevisionIn", None),
    ),
]


@pytest.mark.parametrize(("path", "body", "fields", "stated"), BROKEN_RULES)
def test_a_rule_between_fields_is_stated_in_the_openapi_and_its_422_names_the_fields(
    sqlite_api: Api,
    path: str,
    body: dict[str, object],
    fields: list[str],
    stated: tuple[str, str | None],
) -> None:
    client_id, case_id = a_case(sqlite_api)
    schemas = sqlite_api.get("/openapi.json").json()["components"]["schemas"]
    schema, field = stated

    answer = sqlite_api.post(path.format(case=case_id, client=client_id), body)

    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "validation_failed"
    errors = answer.json()["errors"]
    assert [e["path"] for e in errors] == fields
    assert {e["type"] for e in errors} == {"field_rule"}
    described = schemas[schema]["properties"][field] if field else schemas[schema]
    assert "422 `validation_failed`" in described["description"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("prior-treatments", {"treatment": "Detox", "effectiveness": True}, "effectiveness"),
        (
            "assessments",
            {"assessments": [{"domain": "medical", "level": "low", "score": False}]},
            "assessments[0].score",
        ),
    ],
)
def test_true_or_false_where_a_number_belongs_is_refused_not_read_as_one_or_zero(
    sqlite_api: Api, path: str, body: dict[str, object], field: str
) -> None:
    _, case_id = a_case(sqlite_api)

    response = sqlite_api.post(f"/v1/cases/{case_id}/{path}", body)

    assert response.status_code == 422, response.text
    assert [e["path"] for e in response.json()["errors"]] == [field]
    assert sqlite_api.get(f"/v1/cases/{case_id}").json()[path.replace("-", "_")] == []
