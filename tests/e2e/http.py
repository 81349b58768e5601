"""The app over HTTP for end-to-end tests: a `TestClient` with a token for every role in two
agencies, and a client and a case to start from."""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from caserecord.access import Tables, TokenStore
from caserecord.api import create_app
from caserecord.config import Settings
from caserecord.domain.values import Role
from caserecord.provision import init_store
from caserecord.store import open_records

AGENCIES = ("agency-a", "agency-b")
# The organisation every agency's provider token answers for: the same id in both agencies,
# so a provider of one never reaching the other's referrals is tested too.
PROVIDER_ORG = "org-harbour"
NUMBERS = itertools.count(5001)  # a client number for each client a test makes


@dataclass
class Api:
    """The app over HTTP, acting as ``role`` of ``agency`` (agency-a unless told)."""

    client: TestClient
    settings: Settings
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    def headers(self, role: str, agency: str, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens[agency, role]}"}
        return headers | (extra or {})

    def get(
        self,
        path: str,
        *,
        role: str = "caseworker",
        agency: str = "agency-a",
        headers: dict[str, str] | None = None,
        query: dict[str, Any] | None = None,
        **params: Any,
    ) -> Any:
        """GET with query parameters given as keywords (or as ``query``)."""
        params = (query or {}) | params
        return self.client.get(path, params=params, headers=self.headers(role, agency, headers))

    def post(
        self,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        role: str = "caseworker",
        agency: str = "agency-a",
        headers: dict[str, str] | None = None,
    ) -> Any:
        return self.client.post(path, json=body or {}, headers=self.headers(role, agency, headers))

    def created(self, path: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """POST that must succeed; its JSON body."""
        response = self.post(path, body, **kwargs)
        assert response.status_code in (200, 201), response.text
        if "location" in response.headers:  # a created record or part
            assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result


def add_staff(
    api: Api, staff_id: str, role: str = "case_manager", agency: str = "agency-a"
) -> None:
    """A staff member of the agency, added by its admin (the first turns the directory on:
    from then on the agency's other non-admin tokens must name a staff member)."""
    body = {"staff_id": staff_id, "name": staff_id.title(), "role": role}
    api.created("/v1/staff", body, role="admin", agency=agency)


def staff_token(
    api: Api,
    staff_id: str | None,
    role: str,
    agency: str = "agency-a",
    *,
    service_account: bool = False,
) -> str:
    """A token of the staff member (or, with no staff id, a service account) in ``role``:
    pass what this returns as ``role=`` to act with it."""
    records = open_records(api.settings)
    try:
        secret = TokenStore(Tables(records)).create(
            agency_id=agency,
            role=role,
            name=f"{staff_id or 'service'} token",
            staff_id=staff_id,
            service_account=service_account,
        )[1]
    finally:
        records.close()
    key = f"{role}:{staff_id or 'service'}"
    api.tokens[agency, key] = secret
    return key


STAFF_ROLE = {"caseworker": "case_manager", "supervisor": "supervisor"}
STAFF_ROLE["compliance_reviewer"] = "compliance"


def staff_the_agency(api: Api, agency: str = "agency-a", extra: tuple[str, ...] = ()) -> None:
    """Set up the agency's staff directory: a staff member for each non-admin role, named
    as its token was (``caseworker@agency-a``), whose tokens then act for them; the case
    managers the intake and assignment bodies name (worker-1, worker-9); and ``extra``."""
    for role, staff_role in STAFF_ROLE.items():
        staff_id = f"{role}@{agency}"
        add_staff(api, staff_id, staff_role, agency)
        api.tokens[agency, role] = api.tokens[agency, staff_token(api, staff_id, role, agency)]
    for staff_id in ("worker-1", "worker-9", *extra):
        add_staff(api, staff_id, "case_manager", agency)


def issue_tokens(settings: Settings) -> dict[tuple[str, str], str]:
    records = open_records(settings)
    try:
        store = TokenStore(Tables(records))
        return {
            (agency, role.value): store.create(
                agency_id=agency,
                role=role.value,
                name=f"{role.value}@{agency}",
                organization_id=PROVIDER_ORG if role == Role.PROVIDER else None,
            )[1]
            for agency in AGENCIES
            for role in Role
        }
    finally:
        records.close()


def serve(settings: Settings) -> Iterator[Api]:
    init_store(settings)
    tokens = issue_tokens(settings)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, settings, tokens)


CLIENT = {
    "given_name": "Maria",
    "family_name": "Lopez",
    "date_of_birth": "1984-05-17",
    "client_number": "C-1001",
    "preferred_language": "es",
    "phone": "555-0100",
}


def caseworker_of(agency: str) -> str:
    """The staff id the agency's ``caseworker`` token acts as."""
    return f"caseworker@{agency}"


def intake(client_id: str) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "specialty": "social_work",
        "referral_source": "county court",
        "presenting_needs": ["alcohol use", "housing instability"],
        "interview_summary": "Client requests help with sobriety and stable housing.",
        # The caseworker token's own case: a caseworker writes to the cases they manage.
        "case_manager_id": caseworker_of("agency-a"),
    }


def a_case(api: Api, agency: str = "agency-a", **intake_options: Any) -> tuple[str, str]:
    """(client_id, case_id) of a newly opened case, managed by the agency's caseworker (the
    ``caseworker`` token's, who writes to it: a caseworker writes to their own cases);
    ``intake_options``: e.g. effective_at, to backdate the intake (entries cannot be
    effective before it), or another case_manager_id."""
    another = {"client_number": f"C-{next(NUMBERS)}", "confirmed_distinct": True}
    client_id = api.created("/v1/clients", CLIENT | another, agency=agency)["id"]
    body = intake(client_id) | {"case_manager_id": caseworker_of(agency)} | intake_options
    case_id = api.created("/v1/cases", body, agency=agency)["id"]
    return client_id, case_id


def forget_cached(api: Api) -> None:
    """Empty the service's aggregate cache, so the next read loads from the store (the
    library's ``LRUCache.clear`` resets its order but keeps the entries)."""
    cache = api.client.app.state.runtime.records.repository.cache  # type: ignore[attr-defined]
    with cache.lock:
        cache.cache.clear()
        cache.clear()
        cache.full = False
