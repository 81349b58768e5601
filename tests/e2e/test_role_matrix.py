"""Role matrix: which role may call which operation, and that a refused write records nothing.

The operations come from the app's OpenAPI document (writes are every method but GET), so a
new route is held to the policy below without anyone remembering to add it here.
"""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from caserecord.domain.recording import Actor
from tests.e2e.http import Api
from tests.e2e.matrix import ROLES, Route, Seeded, call, footprint, routes_of, seed_agency

CASEWORKER, SUPERVISOR, REVIEWER, ADMIN = "caseworker", "supervisor", "compliance_reviewer", "admin"
PROVIDER = "provider"
SUPERVISOR_ONLY = {
    "/v1/cases/{case_id}/assignment",
    "/v1/cases/{case_id}/closure",
    "/v1/cases/{case_id}/reopening",
}
# Compliance reads: supervisors oversee, reviewers audit; caseworkers do casework.
AUDIT_READS = {
    "/v1/cases/{case_id}/verification",
    "/v1/audit-trail",
    "/v1/clients/{client_id}/access-log",
    "/v1/quarantine",
    "/v1/break-glass",
    "/v1/break-glass/reads",
}
# A supervisor sees every staff member's workload.
SUPERVISOR_READS = {"/v1/worklist/summary"}


def allowed_roles(route: Route) -> set[str]:
    """The roles the issue gives each operation; a provider only its referral inbox."""
    if route.path.startswith("/v1/provider/"):
        return {PROVIDER}
    if route.path.startswith("/v1/tokens"):
        return {ADMIN}
    if route.path == "/v1/me":
        return {CASEWORKER, SUPERVISOR, REVIEWER, ADMIN}
    # Admins keep the directory and the instrument definitions; neither holds a client's
    # data, so everyone reads them.
    if route.path.startswith(("/v1/staff", "/v1/instruments")):
        return {ADMIN} if route.method != "GET" else {CASEWORKER, SUPERVISOR, REVIEWER, ADMIN}
    # Admins and supervisors keep the resource directory; it holds no client's data.
    if route.path.startswith("/v1/directory"):
        return (
            {ADMIN, SUPERVISOR}
            if route.method != "GET"
            else {CASEWORKER, SUPERVISOR, REVIEWER, ADMIN}
        )
    if route.method != "GET":
        return {SUPERVISOR} if route.path in SUPERVISOR_ONLY else {CASEWORKER, SUPERVISOR}
    if route.path in AUDIT_READS:
        return {SUPERVISOR, REVIEWER}
    if route.path in SUPERVISOR_READS:
        return {SUPERVISOR}
    return {CASEWORKER, SUPERVISOR, REVIEWER}


@pytest.fixture
def seeded(api: Api) -> Iterator[Seeded]:
    yield seed_agency(api, "agency-a", "Alpha")


def writes(api: Api) -> list[Route]:
    return [r for r in routes_of(api) if r.method != "GET"]


def keys_kept(api: Api, keys: list[str]) -> list[str]:
    """The idempotency keys agency A's store holds a result for (for any of its callers)."""
    runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
    anyone = Actor("probe", CASEWORKER, "agency-a")
    callers = [t.token_id for t in runtime.tokens.list("agency-a")]
    return [
        k
        for k in keys
        if any(runtime.records.find_idempotent_result(anyone, f"{c}:{k}") for c in callers)
    ]


def test_each_write_is_allowed_to_exactly_the_roles_the_issue_gives(sqlite_api: Api) -> None:
    names = {p for r in writes(sqlite_api) for p in r.params} | {"client_id"}
    unknown = {name: str(uuid.uuid4()) for name in names}
    granted: dict[str, set[str]] = {}

    for route in writes(sqlite_api):
        # Past the role check an unknown id answers 404, and a body no route accepts 422, so
        # no probe records anything.
        body = None if route.names_a_record else {"not_a_field": True}
        for role in ROLES:
            response = call(sqlite_api, route, unknown, role, "agency-a", body=body)
            where = f"{route.method} {route.path} as {role}"
            assert response.status_code in (403, 404, 422), f"{where}: {response.text}"
            if response.status_code == 403:
                assert response.json()["code"] == "forbidden", where
            else:
                granted.setdefault(route.path, set()).add(role)

    assert granted == {r.path: allowed_roles(r) for r in writes(sqlite_api)}


def test_each_read_is_allowed_to_exactly_the_roles_the_issue_gives(
    api: Api, seeded: Seeded
) -> None:
    granted: dict[str, set[str]] = {}

    for route in routes_of(api):
        if route.method != "GET":
            continue
        for role in ROLES:
            response = call(api, route, seeded.ids, role, "agency-a")
            where = f"GET {route.path} as {role}"
            assert response.status_code in (200, 403), f"{where}: {response.text}"
            if response.status_code == 200:
                granted.setdefault(route.path, set()).add(role)

    expected = {r.path: allowed_roles(r) for r in routes_of(api) if r.method == "GET"}
    assert granted == expected
    # A refused read reveals nothing, so it is not in the access log either.
    log = f"/v1/clients/{seeded.ids['client_id']}/access-log"
    readers = {
        e["actor"]["role"] for e in api.get(log, role=SUPERVISOR, limit=1000).json()["items"]
    }
    assert readers == {CASEWORKER, SUPERVISOR, REVIEWER, PROVIDER}


@pytest.mark.parametrize("role", [REVIEWER, ADMIN])
def test_every_write_outside_a_roles_rights_is_refused_and_records_nothing(
    api: Api, seeded: Seeded, role: str
) -> None:
    refused = [r for r in writes(api) if role not in allowed_roles(r)]
    before = footprint(api, seeded)
    keys = [f"{role}-{n}" for n in range(len(refused))]

    for route, key in zip(refused, keys, strict=True):
        response = call(api, route, seeded.ids, role, "agency-a", headers={"Idempotency-Key": key})

        assert response.status_code == 403, f"{route} as {role}: {response.text}"
        assert response.json()["code"] == "forbidden"

    assert len(refused) == len(writes(api)) if role == REVIEWER else refused
    assert footprint(api, seeded) == before
    assert keys_kept(api, keys) == []


def test_a_caseworker_is_refused_assignment_closure_and_reopening_which_a_supervisor_may_do(
    api: Api, seeded: Seeded
) -> None:
    in_order = ["assignment", "closure", "reopening"]
    routes = {r.path.rsplit("/", 1)[1]: r for r in writes(api) if r.path in SUPERVISOR_ONLY}
    before = footprint(api, seeded)
    case_url = f"/v1/cases/{seeded.ids['case_id']}"

    refused = [
        call(
            api, routes[step], seeded.ids, CASEWORKER, "agency-a", headers={"Idempotency-Key": step}
        )
        for step in in_order
    ]

    assert [r.status_code for r in refused] == [403, 403, 403]
    assert footprint(api, seeded) == before
    assert keys_kept(api, in_order) == []

    # The same keys are still free: the supervisor's requests run rather than replay.
    done: list[Any] = []
    for step in in_order:
        response = call(
            api, routes[step], seeded.ids, SUPERVISOR, "agency-a", headers={"Idempotency-Key": step}
        )
        assert response.status_code == 200, response.text
        assert "idempotent-replayed" not in response.headers
        done.append(response.json()["version"])
    case = api.get(case_url).json()

    # The closure leaves the seeded referral open and cancels the seeded task first.
    assert done == [before["case"]["version"] + n for n in (1, 4, 5)]
    assert case["case_manager_id"] == "worker-9"
    assert [c["value"] for c in case["status_history"]][-2:] == ["closed", "open"]
    assert keys_kept(api, in_order) == in_order


def test_token_administration_is_refused_to_every_other_role_and_changes_no_token(
    api: Api, seeded: Seeded
) -> None:
    tokens = [r for r in routes_of(api) if r.path.startswith("/v1/tokens")]
    before = api.get("/v1/tokens", role=ADMIN).json()

    for route in tokens:
        for role in (CASEWORKER, SUPERVISOR, REVIEWER):
            response = call(api, route, seeded.ids, role, "agency-a")
            assert response.status_code == 403, f"{route} as {role}: {response.text}"
            assert "crt_" not in response.text

    assert {r.method for r in tokens} == {"GET", "POST"}
    assert api.get("/v1/tokens", role=ADMIN).json() == before
