"""The OpenAPI document: every status a route can answer, with examples; /docs serves it."""

import re
from typing import Any

import pytest

from tests.e2e.http import Api

PROBLEM = "application/problem+json"


@pytest.fixture
def operations(sqlite_api: Api) -> list[tuple[str, str, dict[str, Any]]]:
    document = sqlite_api.client.get("/openapi.json").json()
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_documents_auth_validation_and_unavailability(
    operations: list[tuple[str, str, dict[str, Any]]],
) -> None:
    for method, path, operation in operations:
        statuses = set(operation["responses"])
        assert {"401", "403", "413", "422", "500", "503"} <= statuses, (method, path)
        if "{" in path:
            assert "404" in statuses, (method, path)
        if method == "POST" and not path.startswith("/v1/tokens"):
            assert {"409", "404"} <= statuses, (method, path)


def test_error_responses_are_problem_json_with_an_example(
    operations: list[tuple[str, str, dict[str, Any]]],
) -> None:
    for method, path, operation in operations:
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            content = response["content"]
            assert list(content) == [PROBLEM], (method, path, status)
            assert content[PROBLEM]["schema"]["$ref"].endswith("/Problem")
            assert content[PROBLEM]["example"]["status"] == int(status)


def test_the_api_is_versioned_and_uses_bearer_tokens(sqlite_api: Api) -> None:
    document = sqlite_api.client.get("/openapi.json").json()

    assert all(path.startswith("/v1/") for path in document["paths"])
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "/v1/clients" in document["paths"] and "post" in document["paths"]["/v1/clients"]
    assert "/v1/events" in document["paths"]


def test_the_documents_description_names_every_role_and_what_an_admin_may_do(
    sqlite_api: Api,
) -> None:
    roles = {"caseworker", "supervisor", "compliance_reviewer", "admin", "provider"}

    description = sqlite_api.client.get("/openapi.json").json()["info"]["description"]

    assert {role for role in roles if f"{role}:" in description or f"{role} (" in description} == (
        roles
    )
    assert "staff directory" in description and "tokens only" not in description


def test_docs_are_served(sqlite_api: Api) -> None:
    response = sqlite_api.client.get("/docs")

    assert response.status_code == 200
    assert "/openapi.json" in response.text


ASSET = re.compile(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_only_assets_the_app_serves_itself(sqlite_api: Api, page: str) -> None:
    html = sqlite_api.client.get(page).text

    urls = ASSET.findall(html)
    scripts = [u for u in urls if u.endswith(".js")]
    assert scripts, html
    assert "://" not in html  # nothing from another host
    assert all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    for url in urls:
        assert sqlite_api.client.get(url).status_code == 200, url


def test_operation_ids_are_the_route_names_and_unique(
    operations: list[tuple[str, str, dict[str, Any]]],
) -> None:
    ids = [operation["operationId"] for _, _, operation in operations]

    assert len(ids) == len(set(ids))
    assert "register_client" in ids and "record_note" in ids


# Verbs that name a read. A generated client shows an operation by its id alone, so a POST
# named like a read (`list_service` creating one) or a GET named like a change
# (`open_referrals`, `break_glass`) misleads its caller.
READ_VERBS = {"list", "read", "search"}


def test_operation_ids_name_what_their_method_does(
    operations: list[tuple[str, str, dict[str, Any]]],
) -> None:
    verb = {op["operationId"]: op["operationId"].split("_")[0] for _, _, op in operations}
    # An export answers the data in a format to take away, read (GET) or disclosed (POST).
    changing = {verb[op["operationId"]] for m, _, op in operations if m == "POST"} - {"export"}

    posts_named_as_reads = [
        op["operationId"]
        for m, _, op in operations
        if m == "POST" and verb[op["operationId"]] in READ_VERBS
    ]
    gets_named_as_changes = [
        op["operationId"]
        for m, _, op in operations
        if m == "GET" and verb[op["operationId"]] in changing
    ]

    assert posts_named_as_reads == []
    assert gets_named_as_changes == []


def test_every_operation_says_what_it_does_for_a_generated_clients_doc_comments(
    operations: list[tuple[str, str, dict[str, Any]]],
) -> None:
    undescribed = [
        operation["operationId"]
        for _, _, operation in operations
        if not operation.get("description", "").strip()
    ]

    assert undescribed == []


def test_reads_declare_their_position_and_only_reads_take_a_minimum_one(
    operations: list[tuple[str, str, dict[str, Any]]],
) -> None:
    for method, path, operation in operations:
        headers = {
            p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"
        }
        if method == "GET":
            assert "X-Position" in operation["responses"]["200"]["headers"], path
            assert "x-min-position" in headers, path
        else:
            assert "x-min-position" not in headers, (method, path)
