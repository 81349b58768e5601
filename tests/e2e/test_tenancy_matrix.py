"""Tenancy matrix: every route, called by agency B on agency A's records, is 404 and leaks
nothing; B's listings, search, audit trail and event feed hold none of A's data.

The routes come from the app's own OpenAPI document, so a new route is swept (or fails for
want of a body) without anyone remembering to add it here.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.http import Api
from tests.e2e.matrix import ROLES, Route, Seeded, call, footprint, routes_of, seed_agency


def masked(text: str, ids: dict[str, str]) -> str:
    """The response with the ids the caller itself sent replaced by their names."""
    for name, value in ids.items():
        text = text.replace(value, f"<{name}>")
    return text


# Query parameters through which a listing could be pointed at one of A's records.
POINTING = ("case_id", "client_id", "name", "client_number", "organisation", "actor_id")


@dataclass(frozen=True)
class Agencies:
    a: Seeded
    b: Seeded


@pytest.fixture
def agencies(api: Api) -> Iterator[Agencies]:
    yield Agencies(seed_agency(api, "agency-a", "Alpha"), seed_agency(api, "agency-b", "Bravo"))


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

    # Each listing shows an agency its own records, so an empty answer proves nothing.  The
    # quarantine is empty unless a record is damaged: test_compliance.py damages one.  The
    # stats per need hold counts under a closed vocabulary: no text of either agency.
    every_listing = {r.path for r in listings(api)} - {
        "/v1/quarantine",
        "/v1/referrals/stats/needs",
    }
    assert {"/v1/clients", "/v1/caseloads", "/v1/referrals", "/v1/events"} <= every_listing
    assert shown_to_a == every_listing
    assert shown_to_b == every_listing


def test_another_agencys_event_feed_pages_hold_only_its_own_events(
    api: Api, agencies: Agencies
) -> None:
    seen: list[dict[str, Any]] = []
    more: dict[str, Any] = {}
    for _ in range(100):
        page = api.get("/v1/events", agency="agency-b", query=more | {"limit": 3}).json()
        seen += page["items"]
        if page["next"] is None:
            break
        more = {"cursor": page["next"]}

    assert seen
    assert {e["actor"]["agency_id"] for e in seen} == {"agency-b"}
    assert not {e["stream_id"] for e in seen} & set(agencies.a.ids.values())
    assert not [s for s in agencies.a.secrets if s in str(seen)]


def test_another_agency_cannot_revoke_a_token_and_it_keeps_working(
    api: Api, agencies: Agencies
) -> None:
    (admin_a,) = [
        t for t in api.get("/v1/tokens", role="admin").json()["items"] if t["role"] == "admin"
    ]

    refused = api.post(
        f"/v1/tokens/{admin_a['token_id']}/revocation", role="admin", agency="agency-b"
    )

    assert refused.status_code == 404
    assert api.get("/v1/tokens", role="admin").status_code == 200
