"""Tenancy matrix: every route, called by agency B on agency A's records, is 404 and leaks
nothing; B's listings, search, audit trail and event feed hold none of A's data.

The routes come from the app's own OpenAPI document, so a new route is swept (or fails for
want of a body) without anyone remembering to add it here.
"""

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from caserecord.domain.values import Role
from tests.e2e.conftest import QUERY_VALUES, WRITE_BODIES, Api, Seeded, fill, seed_agency

ROLES = [r.value for r in Role]
PARAM = re.compile(r"{(\w+)}")
# Query parameters through which a listing could be pointed at one of A's records.
POINTING = ("case_id", "client_id", "name", "client_number", "organisation", "actor_id")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    required_query: tuple[str, ...] = ()

    @property
    def params(self) -> list[str]:
        return PARAM.findall(self.path)

    @property
    def body(self) -> dict[str, Any] | None:
        if self.method == "GET":
            return None
        assert self.path in WRITE_BODIES, f"add a valid body for {self} to WRITE_BODIES"
        return WRITE_BODIES[self.path]

    @property
    def names_a_record(self) -> bool:
        """True when the path or the body carries the id of an existing record."""
        return bool(self.params or PARAM.search(str(self.body)))


def routes_of(api: Api) -> list[Route]:
    """Every operation of the app's OpenAPI document (FastAPI builds it from the routes)."""
    document = api.client.get("/openapi.json").json()
    found = [
        Route(
            method.upper(),
            path,
            tuple(
                p["name"]
                for p in operation.get("parameters", [])
                if p["in"] == "query" and p.get("required")
            ),
        )
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    unexpected = [r for r in found if r.method not in ("GET", "POST")]
    assert not unexpected, f"teach the tenancy matrix about {unexpected}"
    return found


def call(
    api: Api,
    route: Route,
    ids: dict[str, str],
    role: str,
    agency: str,
    query: dict[str, Any] | None = None,
) -> Any:
    missing = set(route.params) - set(ids) - {"action"}
    assert not missing, f"no seeded id for {missing} in {route}"
    path = fill(route.path, ids)
    if route.method == "GET":
        unknown = set(route.required_query) - set(QUERY_VALUES)
        assert not unknown, f"add values for {unknown} of {route} to QUERY_VALUES"
        required = {name: QUERY_VALUES[name] for name in route.required_query}
        return api.get(path, role=role, agency=agency, query=required | (query or {}))
    return api.post(path, fill(route.body, ids), role=role, agency=agency)


def masked(text: str, ids: dict[str, str]) -> str:
    """The response with the ids the caller itself sent replaced by their names."""
    for name, value in ids.items():
        text = text.replace(value, f"<{name}>")
    return text


@dataclass(frozen=True)
class Agencies:
    a: Seeded
    b: Seeded


@pytest.fixture
def agencies(api: Api) -> Iterator[Agencies]:
    yield Agencies(seed_agency(api, "agency-a", "Alpha"), seed_agency(api, "agency-b", "Bravo"))


def footprint(api: Api, a: Seeded) -> dict[str, Any]:
    """What any write or recorded read on A's records would change."""
    runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
    client, case = a.ids["client_id"], a.ids["case_id"]
    feed = api.get("/v1/events", limit=1000).json()
    return {
        "client": api.get(f"/v1/clients/{client}").json(),
        "case": api.get(f"/v1/cases/{case}").json(),
        "positions": [e["position"] for e in feed["events"]],
        "last_position": runtime.records.recorder.max_notification_id(),
        "tokens": api.get("/v1/tokens", role="admin").json(),
        "readers": {
            (e["actor_id"], e["action"])
            for e in api.get(
                f"/v1/clients/{client}/access-log", role="compliance_reviewer", limit=1000
            ).json()["entries"]
        },
    }


def test_every_route_answers_another_agencys_ids_with_404_exactly_as_for_unknown_ids(
    api: Api, agencies: Agencies
) -> None:
    a = agencies.a
    before = footprint(api, a)
    swept = [r for r in routes_of(api) if r.names_a_record]
    unknown = {name: str(uuid.uuid4()) for name in a.ids}

    for route in swept:
        reached = []
        for role in ROLES:
            theirs = call(api, route, a.ids, role, "agency-b")
            nobodys = call(api, route, unknown, role, "agency-b")
            where = f"{route.method} {route.path} as {role} of agency-b"

            assert theirs.status_code in (403, 404), f"{where}: {theirs.text}"
            assert theirs.status_code == nobodys.status_code, where
            assert masked(theirs.text, a.ids) == masked(nobodys.text, unknown), where
            leaked = [s for s in a.secrets if s in masked(theirs.text, a.ids)]
            assert not leaked, f"{where} leaked {leaked}"
            if theirs.status_code == 404:
                reached.append(role)
        assert reached, f"no role of agency-b got past the role check on {route}"

    assert {"POST /v1/cases", "GET /v1/cases/{case_id}"} <= {f"{r.method} {r.path}" for r in swept}
    assert footprint(api, a) == before


def listings(api: Api) -> list[Route]:
    return [r for r in routes_of(api) if r.method == "GET" and not r.params]


def queries(api: Api, route: Route, seeded: Seeded) -> list[dict[str, Any]]:
    """No filter, then each filter that can point at one of ``seeded``'s records."""
    document = api.client.get("/openapi.json").json()
    accepted = {p["name"] for p in document["paths"][route.path]["get"].get("parameters", [])}
    values = {
        "case_id": seeded.ids["case_id"],
        "client_id": seeded.ids["client_id"],
        "name": seeded.texts["family_name"],
        "client_number": seeded.texts["client_number"],
        "organisation": seeded.texts["organisation"],
        "actor_id": f"caseworker@{seeded.agency}",
    }
    big = {"limit": 1000} if "limit" in accepted else {}
    return [big] + [big | {p: values[p]} for p in POINTING if p in accepted]


def test_listings_search_audit_trail_and_the_feed_show_another_agency_none_of_its_data(
    api: Api, agencies: Agencies
) -> None:
    a, b = agencies.a, agencies.b
    shown_to_a, shown_to_b = set(), set()

    for route in listings(api):
        for role in ROLES:
            own = call(api, route, {}, role, "agency-a")
            if own.status_code == 403:
                continue
            assert own.status_code == 200, f"{route} as {role}: {own.text}"
            if any(s in own.text for s in a.secrets):
                shown_to_a.add(route.path)
            for query in queries(api, route, a):
                seen = call(api, route, {}, role, "agency-b", query)
                where = f"{route.path}?{query} as {role} of agency-b"

                assert seen.status_code == 200, f"{where}: {seen.text}"
                leaked = [s for s in a.secrets if s in seen.text]
                assert not leaked, f"{where} leaked {leaked}"
            if any(s in call(api, route, {}, role, "agency-b").text for s in b.secrets):
                shown_to_b.add(route.path)

    # Each listing shows an agency its own records, so an empty answer proves nothing.
    expected = {
        "/v1/clients",
        "/v1/caseloads",
        "/v1/referrals",
        "/v1/audit-trail",
        "/v1/events",
        "/v1/tokens",
    }
    assert expected <= shown_to_a
    assert expected <= shown_to_b


def test_another_agencys_event_feed_pages_hold_only_its_own_events(
    api: Api, agencies: Agencies
) -> None:
    seen: list[dict[str, Any]] = []
    after = 0
    for _ in range(100):
        page = api.get("/v1/events", agency="agency-b", after=after, limit=3).json()
        seen += page["events"]
        after = page["next_after"]
        if not page["has_more"]:
            break

    assert seen
    assert {e["actor"]["agency_id"] for e in seen} == {"agency-b"}
    assert not {e["stream_id"] for e in seen} & set(agencies.a.ids.values())
    assert not [s for s in agencies.a.secrets if s in str(seen)]


def test_another_agency_cannot_revoke_a_token_and_it_keeps_working(
    api: Api, agencies: Agencies
) -> None:
    (admin_a,) = [t for t in api.get("/v1/tokens", role="admin").json() if t["role"] == "admin"]

    refused = api.post(
        f"/v1/tokens/{admin_a['token_id']}/revocation", role="admin", agency="agency-b"
    )

    assert refused.status_code == 404
    assert api.get("/v1/tokens", role="admin").status_code == 200
