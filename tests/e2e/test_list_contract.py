"""One contract for every list, checked on every list route the OpenAPI document has:
typed rows, `limit` and `cursor` in, `items` and `next` out with a `Link` header, and a
walk of all pages that shows every item exactly once."""

import json
import re
from typing import Any

import pytest

from caserecord.hsds import sample_directory
from tests.e2e.http import CLIENT, PROVIDER_ORG, Api, intake, staff_the_agency

# Query parameters of the paging styles a list must not use any more.
OLD_PAGING = {"offset", "after", "before", "page", "next_after", "next_before"}
ROW_LIKE = {"items", "entries", "rows", "results"}  # (the diff's `events` are a record's part)


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return found


def answer_schema(operation: dict[str, Any]) -> dict[str, Any]:
    content = operation["responses"].get("200", {}).get("content", {})
    schema: dict[str, Any] = content.get("application/json", {}).get("schema", {})
    return schema


def looks_like_a_list(document: dict[str, Any], operation: dict[str, Any]) -> bool:
    """A GET answering an array, a body with rows, or taking any paging parameter: what
    any of the old list styles looked like, so a new one in those styles is caught."""
    schema = resolve(document, answer_schema(operation))
    queries = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    properties = schema.get("properties", {})
    rows = any(properties.get(name, {}).get("type") == "array" for name in ROW_LIKE)
    return schema.get("type") == "array" or rows or bool(queries & (OLD_PAGING | {"limit"}))


def list_routes(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (path, item["get"])
        for path, item in document["paths"].items()
        if "get" in item and looks_like_a_list(document, item["get"])
    ]


@pytest.fixture
def document(sqlite_api: Api) -> dict[str, Any]:
    found: dict[str, Any] = sqlite_api.client.get("/openapi.json").json()
    return found


def test_the_document_has_the_lists_the_api_is_known_for(document: dict[str, Any]) -> None:
    found = {path for path, _ in list_routes(document)}

    assert {
        "/v1/clients",
        "/v1/caseloads",
        "/v1/referrals",
        "/v1/referrals/outcomes",
        "/v1/audit-trail",
        "/v1/events",
        "/v1/tokens",
        "/v1/directory/services",
        "/v1/clients/{client_id}/access-log",
        "/v1/cases/{case_id}/timeline",
        "/v1/cases/{case_id}/notes",
        "/v1/cases/{case_id}/referrals",
        "/v1/cases/{case_id}/goals/{goal_id}/progress",
    } <= found
    assert "/v1/cases/{case_id}" not in found


def check_contract(document: dict[str, Any], path: str, operation: dict[str, Any]) -> None:
    ref = answer_schema(operation).get("$ref")
    assert ref, f"{path}: the page must be a named schema"
    page = resolve(document, {"$ref": ref})
    properties = page.get("properties", {})
    assert {"items", "next"} <= set(page.get("required", [])), path
    row_ref = properties["items"].get("items", {}).get("$ref")
    assert row_ref, f"{path}: each row must be a named schema, not a bare object"
    row = resolve(document, {"$ref": row_ref})
    assert row.get("type") == "object" and row.get("properties"), (path, row_ref)
    assert {o.get("type") for o in properties["next"]["anyOf"]} == {"string", "null"}, path
    queries = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    assert {"limit", "cursor"} <= queries, path
    assert not queries & OLD_PAGING, path
    assert "Link" in operation["responses"]["200"].get("headers", {}), path


def test_every_list_route_follows_the_contract(document: dict[str, Any]) -> None:
    routes = list_routes(document)

    assert len(routes) >= 12
    for path, operation in routes:
        check_contract(document, path, operation)


def test_a_list_in_an_old_style_breaks_the_contract(document: dict[str, Any]) -> None:
    # The check itself must be able to fail: an offset list of bare objects, as there were.
    document["components"]["schemas"]["OldRows"] = {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"type": "object"}}},
    }
    old = {
        "parameters": [{"name": "offset", "in": "query", "schema": {"type": "integer"}}],
        "responses": {
            "200": {"content": {"application/json": {"schema": {"$ref": "#/x/OldRows"}}}}
        },
    }
    document["paths"]["/v1/old"] = {"get": old}

    assert "/v1/old" in {path for path, _ in list_routes(document)}
    with pytest.raises(AssertionError):
        check_contract(document, "/v1/old", old)


# ---- walking every list ---------------------------------------------------------------
def seed(api: Api) -> dict[str, str]:
    """More than two of everything every list shows, for one client, case and goal."""

    def made(path: str, body: dict[str, Any]) -> str:
        result = api.created(path, body)
        return str(result.get("entity_id") or result["id"])

    # Three members and more: the directory is a list too (worker-7 owns a task below).
    staff_the_agency(api, extra=("worker-7",))

    clients = [
        made("/v1/clients", CLIENT | {"family_name": name, "client_number": f"W-{name}"})
        for name in ("Alvarez", "Baker", "Chen")
    ]
    cases = [made("/v1/cases", intake(c)) for c in clients]
    base = f"/v1/cases/{cases[0]}"
    plan = made(f"{base}/plans", {"title": "Plan", "next_review_on": "2030-01-01"})
    goal = made(f"{base}/goals", {"plan_id": plan, "description": "G", "need_domain": "medical"})
    made(f"{base}/goals/{goal}/lifecycle", {"lifecycle": "active"})
    for i in range(3):
        made(f"{base}/notes", {"text": f"n{i}", "contact_kind": "client", "contact_mode": "phone"})
        made(f"{base}/goals/{goal}/progress", {"achievement": "improving"})
        made(
            f"{base}/referrals",
            {"resource_kind": "housing", "organisation": f"Org {i}", "service_name": "S"}
            | {"organization_id": PROVIDER_ORG, "service_id": f"svc-{i}"}
            | {"need": ("housing", "food", "income")[i]},
        )
    made(
        f"{base}/referrals",
        {"resource_kind": "legal", "organisation": "Org 0", "service_name": "Advice"}
        | {"organization_id": PROVIDER_ORG, "service_id": "svc-advice", "need": "legal"},
    )
    for i in range(3):
        answers = {str(n): 1 for n in range(1, 10)} | {"1": i}  # item 9: a safety flag each
        made(
            f"{base}/scored-assessments",
            {"instrument": "phq-9", "respondent": "client", "responses": answers},
        )
    # Tasks: three on the supervisor's worklist (the first role a list is read as) and one
    # more staff member, so the worklist summary has three.
    for owner in ("supervisor@agency-a",) * 3 + ("worker-7",):
        made(f"{base}/tasks", {"title": "Call", "owner_id": owner, "due_on": "2030-01-01"})
    for name in ("Ann", "Ben", "Cy"):
        made(f"{base}/care-team", {"role": "caregiver", "name": name})
    for program in ("snap", "wic", "liheap"):
        made(f"{base}/benefit-applications", {"program": program, "agency_name": "DSS"})
    consents = f"/v1/clients/{clients[0]}"
    for i in range(3):
        consent = {"recipient_kind": "person", "recipient": f"P{i}", "purpose": "legal"}
        made(
            f"{consents}/consents",
            consent | {"data": ["all"], "form_sha256": "a" * 64, "expires_on": "2099-01-01"},
        )
        emergency = {"basis": "medical_emergency", "reason": "collapsed"}
        disclosure = {
            "recipient_kind": "organisation",
            "recipient": f"ER {i}",
            "purpose": "treatment",
            "channel": "phone",
            "data_classes": ["hiv"],
        }
        api.created(f"{consents}/disclosures", disclosure | emergency, role="supervisor")
    for minutes in (5, 10, 15):
        opened = {"reason": "client in crisis, manager away", "minutes": minutes}
        made(f"{base}/break-glass", opened)
    # The resource directory: the sample's eight services.
    api.created("/v1/directory/imports", sample_directory(), role="supervisor")
    for _ in range(3):
        assert api.get(base).status_code == 200  # three reads in the access log
    return {"client_id": clients[0], "case_id": cases[0], "goal_id": goal}


def get(api: Api, url: str, **params: Any) -> Any:
    for role in ("supervisor", "admin", "provider"):
        response = api.get(url, role=role, **params)
        if response.status_code != 403:
            return response
    return response


def walk(api: Api, url: str, limit: int, headers: dict[str, str] | None = None) -> list[Any]:
    items: list[Any] = []
    response = get(api, url, limit=limit, headers=headers)
    for _ in range(100):
        assert response.status_code == 200, (url, response.text)
        body = response.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        if body["next"] is None:
            assert "link" not in response.headers, url
            return items
        link = re.fullmatch(r'<([^>]+)>; rel="next"', response.headers["link"])
        assert link, response.headers.get("link")
        assert f"cursor={body['next']}" in link[1]
        response = api.client.get(link[1], headers=response.request.headers)
    raise AssertionError(f"{url}: no last page after 100")


def test_walking_every_list_shows_every_item_exactly_once(
    api: Api, document: dict[str, Any]
) -> None:
    ids = seed(api)
    max_page = api.settings.max_page_size
    # The lists are read as the supervisor, whose last write came before the caseworker's
    # break-glass openings: every list is read at the head of the log.
    head = api.client.app.state.runtime.records.recorder.max_notification_id()  # type: ignore[attr-defined]
    reached = {"X-Min-Position": str(head)}

    for path, _ in list_routes(document):
        if path == "/v1/quarantine":
            continue  # empty unless a record is damaged: test_compliance.py walks it
        url = path.format(**ids)
        whole = get(api, url, limit=max_page, headers=reached).json()
        assert whole["next"] is None, path

        walked = walk(api, url, limit=2, headers=reached)

        assert len(whole["items"]) >= 3, path  # so the walk took at least two pages
        seen = [json.dumps(i, sort_keys=True) for i in walked]
        assert len(seen) == len(set(seen)), f"{path}: an item came twice"
        assert seen == [json.dumps(i, sort_keys=True) for i in whole["items"]], path


@pytest.mark.parametrize(
    "sort", ["last_contact", "next_review", "opened_at", "client_name", "case_manager"]
)
def test_every_caseload_sort_pages_through_every_case_once(sqlite_api: Api, sort: str) -> None:
    seed(sqlite_api)
    whole = sqlite_api.get("/v1/caseloads", sort=sort, limit=100).json()["items"]
    walked, cursor = [], None
    while True:
        more: dict[str, Any] = {} if cursor is None else {"cursor": cursor}
        page = sqlite_api.get("/v1/caseloads", query=more | {"sort": sort, "limit": 1}).json()
        assert "items" in page, page
        walked += page["items"]
        if (cursor := page["next"]) is None:
            break

    assert [r["case_id"] for r in walked] == [r["case_id"] for r in whole]
    assert len(whole) == 3


def test_a_cursor_of_one_sort_does_not_continue_another(sqlite_api: Api) -> None:
    seed(sqlite_api)
    cursor = sqlite_api.get("/v1/caseloads", sort="client_name", limit=1).json()["next"]

    response = sqlite_api.get("/v1/caseloads", sort="opened_at", cursor=cursor)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize("cursor", ["x", "bm90IGpzb24", "WyJhIl0", "OTk5OTk5OTk5OTk5OTk5OTk5"])
@pytest.mark.parametrize(
    "path", ["/v1/audit-trail", "/v1/events", "/v1/clients", "/v1/referrals", "/v1/caseloads"]
)
def test_a_cursor_that_is_not_one_is_a_422_problem(sqlite_api: Api, path: str, cursor: str) -> None:
    response = sqlite_api.get(path, role="supervisor", cursor=cursor)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["path"] == "query:cursor"


def test_pages_of_append_ordered_lists_skip_and_repeat_nothing_while_events_are_added(
    sqlite_api: Api,
) -> None:
    ids = seed(sqlite_api)
    note = {"text": "meanwhile", "contact_kind": "client", "contact_mode": "phone"}
    lists = [
        "/v1/audit-trail",
        "/v1/events",
        f"/v1/cases/{ids['case_id']}/timeline",
        f"/v1/cases/{ids['case_id']}/notes",
    ]
    for url in lists:
        before = identities(get(sqlite_api, url, limit=500).json()["items"])
        first = get(sqlite_api, url, limit=2).json()
        sqlite_api.created(f"/v1/cases/{ids['case_id']}/notes", note)  # appended meanwhile
        seen = identities(first["items"] + walk_from(sqlite_api, url, first["next"]))

        assert len(seen) == len(set(seen)), f"{url}: an item came twice"
        assert set(before) <= set(seen), f"{url}: an item was skipped"


def identities(items: list[dict[str, Any]]) -> list[str]:
    return [str(i.get("note_id") or (i["stream_id"], i["version"])) for i in items]


def walk_from(api: Api, url: str, cursor: str | None) -> list[Any]:
    items: list[Any] = []
    while cursor is not None:
        body = get(api, url, limit=2, cursor=cursor).json()
        assert "items" in body, body
        items += body["items"]
        cursor = body["next"]
    return items
