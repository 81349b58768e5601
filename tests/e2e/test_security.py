"""Bearer tokens, roles and tenancy at the HTTP boundary."""

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI

from caserecord.access import Tables, TokenStore
from caserecord.api.runtime import Runtime
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.store import open_records
from tests.e2e.http import CLIENT, Api, a_case, add_staff, serve, staff_token


def test_a_request_without_a_token_is_401_with_a_bearer_challenge(sqlite_api: Api) -> None:
    response = sqlite_api.client.get("/v1/caseloads")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthorized"


def test_an_unknown_token_is_401(sqlite_api: Api) -> None:
    response = sqlite_api.client.get(
        "/v1/events", headers={"Authorization": "Bearer crt_not-a-real-token"}
    )

    assert response.status_code == 401
    assert response.json()["detail"] == "the token is unknown or revoked"


def test_who_is_calling_is_settled_before_anything_else_the_request_says(
    sqlite_api: Api,
) -> None:
    _, case_id = a_case(sqlite_api)
    malformed = {"If-Match": "soon", "Idempotency-Key": "", "X-Purpose-Of-Use": "why?"}
    path = f"/v1/cases/{case_id}/notes"

    no_token = sqlite_api.client.post(path, json={"text": "x"}, headers=malformed)
    unknown = sqlite_api.client.post(
        path, json={"text": "x"}, headers=malformed | {"Authorization": "Bearer crt_unknown"}
    )
    read = sqlite_api.client.get(path, headers={"X-Purpose-Of-Use": "why?"})

    assert [r.status_code for r in (no_token, unknown, read)] == [401, 401, 401]


def test_a_write_is_refused_for_its_role_before_its_headers(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    malformed = {"If-Match": "soon", "Idempotency-Key": ""}

    response = sqlite_api.post(
        f"/v1/cases/{case_id}/notes", {"text": "x"}, role="compliance_reviewer", headers=malformed
    )

    assert response.status_code == 403


def test_who_acts_and_why_is_checked_before_the_role_and_the_role_before_the_body(
    sqlite_api: Api,
) -> None:
    _, case_id = a_case(sqlite_api)
    path = f"/v1/cases/{case_id}/notes"
    reviewer = "compliance_reviewer"

    why_malformed = sqlite_api.post(path, {}, role=reviewer, headers={"X-Purpose-Of-Use": "why?"})
    body_malformed = sqlite_api.post(path, {"text": 5}, role=reviewer)
    path_malformed = sqlite_api.post("/v1/cases/not-a-uuid/notes", {"text": "x"}, role=reviewer)

    assert why_malformed.status_code == 422
    assert [body_malformed.status_code, path_malformed.status_code] == [403, 403]


def revoke_elsewhere(api: Api, role: str = "caseworker") -> None:
    """Revoke the agency-a token of ``role`` as the CLI or another worker would."""
    records = open_records(api.settings)
    store = TokenStore(Tables(records))
    (mine,) = [t for t in store.list("agency-a") if t.role == role]
    store.revoke(mine.token_id)
    records.close()


@contextmanager
def served_with_a_token_cache(sqlite_url: str) -> Iterator[tuple[Api, Settings, list[float]]]:
    """The service with a 2 s token cache, its clock (tokens and identities) at ``now[0]``."""
    settings = Settings(database_url=sqlite_url, token_cache_seconds=2.0)
    with contextmanager(serve)(settings) as api:
        app: FastAPI = api.client.app  # type: ignore[assignment]
        runtime: Runtime = app.state.runtime
        now = [1000.0]
        runtime.tokens.clock = runtime.identities.clock = lambda: now[0]
        yield api, settings, now


def test_a_token_revoked_by_another_process_is_401_at_once_by_default(sqlite_api: Api) -> None:
    assert sqlite_api.get("/v1/events").status_code == 200

    revoke_elsewhere(sqlite_api)

    assert sqlite_api.get("/v1/events").status_code == 401


def test_with_a_token_cache_a_token_revoked_elsewhere_is_401_once_the_cache_time_passes(
    sqlite_url: str,
) -> None:
    with served_with_a_token_cache(sqlite_url) as (api, settings, now):
        assert api.get("/v1/events").status_code == 200

        revoke_elsewhere(api)
        cached = api.get("/v1/events").status_code
        now[0] += settings.token_cache_seconds

        assert cached == 200
        assert api.get("/v1/events").status_code == 401


def test_with_a_token_cache_a_staff_change_here_counts_at_once_and_one_elsewhere_in_time(
    sqlite_url: str,
) -> None:
    with served_with_a_token_cache(sqlite_url) as (api, settings, now):
        assert api.get("/v1/me").status_code == 200  # a token that names no one, kept

        add_staff(api, "cm-alice")
        unbound = api.get("/v1/me")
        alice = staff_token(api, "cm-alice", "caseworker")
        assert api.get("/v1/me", role=alice).status_code == 200
        api.post("/v1/staff/cm-alice/deactivation", {"reason": "left"}, role="admin")
        deactivated_here = api.get("/v1/me", role=alice)
        add_staff(api, "cm-bo")
        bo = staff_token(api, "cm-bo", "caseworker")
        assert api.get("/v1/me", role=bo).status_code == 200
        records = open_records(settings)
        records.deactivate_staff_member(Actor("cli", "admin", "agency-a"), "cm-bo", reason="left")
        records.close()
        elsewhere_cached = api.get("/v1/me", role=bo).status_code
        now[0] += settings.token_cache_seconds

        assert (unbound.status_code, unbound.json()["code"]) == (403, "token_not_bound")
        assert (deactivated_here.status_code, deactivated_here.json()["code"]) == (
            403,
            "staff_inactive",
        )
        assert elsewhere_cached == 200
        assert api.get("/v1/me", role=bo).json()["code"] == "staff_inactive"


def test_only_the_hash_of_a_token_is_stored(sqlite_api: Api) -> None:
    secret = sqlite_api.tokens["agency-a", "caseworker"]
    records = open_records(sqlite_api.settings)
    rows = Tables(records).query("SELECT * FROM api_tokens")
    records.close()

    assert rows
    assert not any(secret in str(value) for row in rows for value in row.values())


def test_a_compliance_reviewer_cannot_write_and_nothing_is_recorded(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    before = sqlite_api.get(f"/v1/cases/{case_id}").json()["version"]

    response = sqlite_api.post(
        f"/v1/cases/{case_id}/notes",
        {"text": "x", "contact_kind": "client", "contact_mode": "phone"},
        role="compliance_reviewer",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert sqlite_api.get(f"/v1/cases/{case_id}").json()["version"] == before


def test_a_caseworker_cannot_close_a_case_but_a_supervisor_can(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    closure = {"outcome": "goals met", "reason": "plan completed"}

    refused = sqlite_api.post(f"/v1/cases/{case_id}/closure", closure)
    closed = sqlite_api.post(f"/v1/cases/{case_id}/closure", closure, role="supervisor")

    assert refused.status_code == 403
    assert closed.status_code == 200
    assert sqlite_api.get(f"/v1/cases/{case_id}").json()["status"] == "closed"


def test_a_refused_read_is_not_in_the_access_log(sqlite_api: Api) -> None:
    client_id = sqlite_api.created("/v1/clients", CLIENT)["id"]

    assert sqlite_api.get(f"/v1/clients/{client_id}", role="admin").status_code == 403
    log = sqlite_api.get(f"/v1/clients/{client_id}/access-log", role="compliance_reviewer")

    assert log.status_code == 200
    assert log.json()["items"] == []


def test_another_agencys_client_is_404_and_reveals_nothing(sqlite_api: Api) -> None:
    client_id = sqlite_api.created("/v1/clients", CLIENT)["id"]

    read = sqlite_api.get(f"/v1/clients/{client_id}", agency="agency-b")
    write = sqlite_api.post(
        f"/v1/clients/{client_id}/support-contacts",
        {"name": "Ana", "relationship": "family"},
        agency="agency-b",
    )

    assert (read.status_code, write.status_code) == (404, 404)
    assert "Lopez" not in read.text + write.text
    assert sqlite_api.get(f"/v1/clients/{client_id}").json()["support_contacts"] == []


def test_an_admin_manages_the_tokens_of_its_own_agency_over_http(sqlite_api: Api) -> None:
    made = sqlite_api.post("/v1/tokens", {"name": "new-worker", "role": "caseworker"}, role="admin")
    assert made.status_code == 201
    token = made.json()["token"]
    token_id = made.json()["token_id"]
    as_new = {"Authorization": f"Bearer {token}"}
    assert sqlite_api.client.get("/v1/events", headers=as_new).status_code == 200

    listed = sqlite_api.get("/v1/tokens", role="admin").json()["items"]
    others = sqlite_api.get("/v1/tokens", role="admin", agency="agency-b").json()["items"]
    foreign = sqlite_api.post(f"/v1/tokens/{token_id}/revocation", role="admin", agency="agency-b")
    revoked = sqlite_api.post(f"/v1/tokens/{token_id}/revocation", role="admin")

    assert token_id in [t["token_id"] for t in listed]
    assert "token" not in listed[0]
    assert token_id not in [t["token_id"] for t in others]
    assert foreign.status_code == 404
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert sqlite_api.client.get("/v1/events", headers=as_new).status_code == 401


def test_token_management_is_refused_to_every_other_role(sqlite_api: Api) -> None:
    for role in ("caseworker", "supervisor", "compliance_reviewer"):
        assert sqlite_api.get("/v1/tokens", role=role).status_code == 403
        made = sqlite_api.post("/v1/tokens", {"name": "x", "role": "admin"}, role=role)
        assert made.status_code == 403


def test_responses_are_never_cached_or_sniffed(sqlite_api: Api) -> None:
    client_id = sqlite_api.created("/v1/clients", CLIENT)["id"]

    read = sqlite_api.get(f"/v1/clients/{client_id}")
    refused = sqlite_api.client.get("/v1/events")

    for response in (read, refused):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_a_retried_token_creation_issues_no_second_token(api: Api) -> None:
    key = {"Idempotency-Key": "onboard-j.smith"}
    body = {"name": "j.smith", "role": "caseworker"}

    first = api.post("/v1/tokens", body, role="admin", headers=key)
    retry = api.post("/v1/tokens", body, role="admin", headers=key)
    other = api.post("/v1/tokens", body | {"role": "supervisor"}, role="admin", headers=key)

    assert first.status_code == 201
    assert (retry.status_code, retry.json()["code"]) == (409, "token_already_issued")
    assert first.json()["token_id"] in retry.json()["detail"]
    assert first.json()["token"] not in retry.text
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    names = [t["name"] for t in api.get("/v1/tokens", role="admin").json()["items"]]
    assert names.count("j.smith") == 1
