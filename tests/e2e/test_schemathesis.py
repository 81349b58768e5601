"""schemathesis over every operation, in-process over ASGI, against a seeded store
(SQLite, then PostgreSQL).

Each operation gets a bounded number of generated requests (examples, coverage and fuzzing
phases) with a valid token; path ids are agency A's real records about half the time, so the
handlers run past "not found". Every response must be documented, match its schema, and never
be a 5xx.
"""

import itertools
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import PositiveDataAcceptanceConfig
from schemathesis.python.asgi import shutdown_lifespans

from caserecord.api import create_app
from caserecord.api.paging import encode
from caserecord.config import Settings
from tests.e2e.http import CLIENT, Api, a_case, serve
from tests.e2e.matrix import Seeded, seed_agency

MAX_EXAMPLES = 5
KEY = re.compile(r"[\x21-\x7e]{1,200}")
KEYS = itertools.count()
REACHED = {200, 201, 409, 412}
# Moments the hooks put into requests; "t2" (and any other moment) becomes the end of the
# seeding, after the seeded case opened and never in the future.
RECENT = {"t1": "2020-01-01T00:00:00Z", "since": "2020-01-01T00:00:00Z", "t2": ""}
# Status codes answered, by operation, checked once all operations ran.
SEEN: dict[str, Counter[int]] = {}
# The records of the store under test, for the hooks that put their ids into requests.
SEEDED: list[Seeded] = []


# The document the app serves, loaded without starting the app, so collecting this module
# opens no store; the requests go to a started app on the seeded store (``app=``).
# (schemathesis.pytest.from_fixture would defer this, but fails on pytest 9.2: no _nodeid.)
DOCUMENT = create_app(Settings(database_url="sqlite:///unused.db")).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)
# HTTP servers ignore headers and query parameters they do not know, as they should.
schema.config.generation.update(allow_extra_parameters=False)
# Valid JSON can still break a rule no schema states (a closure needs a reason, If-Match must
# be the current version, effective_at not after now): 412 and 422, as documented.
schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429"]
)
# A body over the size limit is refused before parsing with 413, as documented: a list at
# maxItems + 1 (5,001 HSDS services in an import) is over 1 MiB, so that refusal is a 413.
_rejection = schema.config.checks.negative_data_rejection
_rejection.expected_statuses = [*_rejection.expected_statuses, "413"]


def with_real_ids(values: Any) -> Any:
    """``values`` with each well-formed id of a seeded kind replaced by the real record's.

    A malformed id is left alone: the negative phases sent it on purpose."""
    if not isinstance(values, dict) or not SEEDED:
        return values
    seeded = SEEDED[0]
    real = {k: seeded.ids[k] for k, v in values.items() if k in seeded.ids and sound(k, v)}
    # Most generated moments are centuries away and refused; recent past ones go through.
    moments = {k: RECENT.get(k, RECENT["t2"]) for k, v in values.items() if moment(v)}
    # Cases and tasks go to staff of the directory the seeding set up (others are refused).
    named = ("case_manager_id", "to_staff_id", "owner_id")
    staff = {k: "worker-9" for k in named if k in values}
    # A referral names a directory service or else its organisation and service, a rule
    # across fields the schema cannot state: one naming neither is sent to the seeded one.
    referral = "resource_kind" in values
    nameless = referral and not values.get("service_id") and not values.get("organisation")
    service = {"service_id": seeded.ids["service_id"]} if nameless else {}
    return values | real | moments | staff | service


def moment(value: Any) -> bool:
    try:
        return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def sound(name: str, value: Any) -> bool:
    """Whether the generated ``value`` is a well-formed id (case and client ids are UUIDs)."""
    if not isinstance(value, str) or not value:
        return False
    if name not in ("case_id", "client_id"):
        return True
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# What a response must never carry: a trace, SQL, a driver's name or a path on the server.
INTERNALS = re.compile(
    r"Traceback|File \"|/work/|site-packages|\bSELECT\b|\bINSERT\b|psycopg|sqlite3"
)


def discloses_no_internals(_ctx: Any, response: Any, _case: Any) -> None:
    if response.headers.get("content-type", [""])[0] == "application/zip":
        return  # a datapackage export: CSV files in a zip, not text
    found = INTERNALS.search(response.text)
    if found:
        raise AssertionError(f"the response discloses {found.group(0)!r}: {response.text[:300]}")


@schema.hook
def flatmap_path_parameters(_context: Any, parameters: dict[str, Any] | None) -> Any:
    return st.sampled_from([with_real_ids(parameters), parameters])


@schema.hook
def flatmap_body(_context: Any, body: Any) -> Any:
    return st.sampled_from([with_real_ids(body), body])


@schema.hook
def flatmap_query(_context: Any, query: Any) -> Any:
    return st.sampled_from([with_real_ids(query), query])


@dataclass(frozen=True)
class World:
    app: Any
    seeded: Seeded
    tokens: dict[tuple[str, str], str]


def seeded_world(config: Settings) -> Iterator[World]:
    seeding = serve(config)
    api = next(seeding)
    seeded = seed_agency(api, "agency-a", "Alpha")
    next(seeding, None)  # stops the app that seeded the store
    app = create_app(config)
    with TestClient(app) as client:
        assert client.get("/openapi.json").json() == DOCUMENT
    SEEDED[:] = [seeded]
    RECENT["t2"] = datetime.now(UTC).isoformat()
    yield World(app, seeded, api.tokens)
    # schemathesis keeps the app's lifespan (the runtime) running until told.
    shutdown_lifespans()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Agency A's seeded records on SQLite, and an app serving them.  The fuzzing checks the
    HTTP contract, which the store does not shape; the stores' own contract suite
    (tests/integration) and the e2e tests run on both."""
    folder = tmp_path_factory.mktemp("schemathesis")
    yield from seeded_world(Settings(database_url=f"sqlite:///{folder}/records.db"))


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_generated_requests_as_documented(case: Any, world: World) -> None:
    app, tokens = world.app, world.tokens
    # The operations were made from the document at collection; the app they go to is this
    # one (their schema's transport also carries the checks' own probe requests).
    case.operation.app = case.operation.schema.app = app
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and KEY.fullmatch(key):
        # A fresh key per request: one key reused with another body is a (documented) 422.
        case.headers["Idempotency-Key"] = f"st-{next(KEYS)}"
    if "Authorization" in (case.headers or {}):
        # A generated bearer token becomes a real one; a case left without one stays so.
        # The provider routes answer only a provider's token (bound to the seeded referral's
        # organisation); the others, staff.
        admin = case.path.startswith(("/v1/tokens", "/v1/staff")) or case.path == "/v1/instruments"
        provider = case.path.startswith("/v1/provider/")
        role = "admin" if admin else "provider" if provider else "supervisor"
        case.headers["Authorization"] = f"Bearer {tokens['agency-a', role]}"
    response = case.call_and_validate(additional_checks=[discloses_no_internals])
    SEEN.setdefault(f"{case.method} {case.path}", Counter())[response.status_code] += 1
    if case.path.endswith("/closure") and response.status_code == 200:
        # Keep the seeded case open, so the other writes do not all meet "case closed".
        reopened = TestClient(app).post(
            f"/v1/cases/{world.seeded.ids['case_id']}/reopening",
            json={"reason": "schemathesis closed it"},
            headers={"Authorization": f"Bearer {tokens['agency-a', 'supervisor']}"},
        )
        assert reopened.status_code == 200, reopened.text


def test_the_generated_requests_got_past_authentication_and_reached_real_records() -> None:
    """Runs after the operations above (it guards the hooks that make them meaningful)."""
    operations = {
        f"{method.upper()} {path}" for path, item in DOCUMENT["paths"].items() for method in item
    }
    missing = sorted(operations - set(SEEN))
    if missing:
        # pytest-xdist may hand the generated operations to other workers than this one.
        pytest.skip(f"needs every operation of the schemathesis run in this process: {missing}")
    # Only a caller past authentication hears "not found", "conflict" or a success.
    authenticated = {op for op, statuses in SEEN.items() if set(statuses) & {*REACHED, 404}}
    # 2xx, or a refusal only an existing record can give (a conflict or a stale If-Match).
    reached = {op for op, statuses in SEEN.items() if set(statuses) & REACHED}

    assert operations - authenticated == set()
    # A floor, not every one: which examples a bounded run draws depends on the schema.
    assert len(reached) >= 0.75 * len(operations), sorted(operations - reached)


def test_a_version_or_position_too_large_for_any_store_is_refused_not_a_500(
    sqlite_api: Api,
) -> None:
    _, case_id = a_case(sqlite_api)
    client_id = sqlite_api.get(f"/v1/cases/{case_id}").json()["client_id"]
    huge = 2**63

    cursor = encode(huge)

    answers = [
        sqlite_api.get(f"/v1/cases/{case_id}", version=huge),
        sqlite_api.get("/v1/audit-trail", role="compliance_reviewer", cursor=cursor),
        sqlite_api.get("/v1/events", cursor=cursor),
        sqlite_api.get(f"/v1/clients/{client_id}/access-log", role="supervisor", cursor=cursor),
        sqlite_api.get(f"/v1/cases/{case_id}/notes", cursor=cursor),
        sqlite_api.get("/v1/events", limit=huge),
    ]

    assert [a.status_code for a in answers] == [422] * 6
    assert {a.json()["code"] for a in answers} == {"validation_failed", "invalid_cursor"}


def test_a_nul_character_is_refused_before_it_can_stall_the_read_models(api: Api) -> None:
    _, case_id = a_case(api)
    note = {"text": "a\x00b", "contact_kind": "client", "contact_mode": "phone"}

    client = api.post("/v1/clients", CLIENT | {"family_name": "Lo\x00pez"})
    noted = api.post(f"/v1/cases/{case_id}/notes", note)
    needs = api.post(
        f"/v1/cases/{case_id}/notes", note | {"text": "ok", "present": ["client", "x\x00"]}
    )
    searched = api.get("/v1/clients", name="Lo\x00pez")

    assert [r.status_code for r in (client, noted, needs)] == [422, 422, 422]
    assert [e["path"] for r in (client, noted, needs) for e in r.json()["errors"]] == [
        "family_name",
        "text",
        "present",
    ]
    assert searched.status_code in (200, 422)
    # The read models still answer (on PostgreSQL one NUL in an event stalled them all).
    assert api.get("/v1/clients", name="Lopez").json()["items"]
    assert api.get(f"/v1/cases/{case_id}").json()["version"] == 1
