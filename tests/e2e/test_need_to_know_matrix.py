"""Need-to-know matrix: every read of the app (from its OpenAPI document) by every staff
relation to a case (own case, care team, other caseworker, supervisor, reviewer) by labelled
and unlabelled content.

One case holds an entry of each kind twice: once unlabelled, its texts carrying ``PLAIN``,
and once labelled ``hiv``, its texts carrying ``LABELLED``; a psychotherapy note by the case
manager carries ``PSYCHOTHERAPY``.  Each read is called as each relation, with the ids of
the unlabelled entries and again with those of the labelled ones (and ``as_of`` where it
takes one), and its answer is searched for the markers: labelled content reaches only the
relations with a need to know, psychotherapy content only its author, and unlabelled content
everyone the route lets read the case.  A read the matrix cannot call is listed in
``NOT_SEEDED`` with the reason; a new read it does not know fails
``test_every_read_with_a_case_or_client_in_its_path_is_in_the_matrix``."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.http import PROVIDER_ORG, Api, intake, staff_the_agency, staff_token
from tests.e2e.matrix import CONSENT, DISCLOSURE, FLAGGED_PHQ9, QUERY_VALUES, Route, routes_of

PLAIN, LABELLED, PSYCHOTHERAPY = "Plainview", "Hushwood", "Innerroom"
RELATIONS = ("own_case", "care_team", "other", "supervisor", "reviewer")
# The relations with a need to know the case's labelled entries (ADR 0019).
ENTITLED = {"own_case", "care_team", "supervisor", "reviewer"}
AUTHOR = {"own_case"}  # the psychotherapy note's author

# Reads the matrix does not call, with the reason (a read named here is still called by
# the role and tenancy matrices).
NOT_SEEDED: dict[str, str] = {
    "/v1/tokens/{token_id}": "an admin's read of a token: no staff relation reads it",
    "/v1/staff/{staff_id}": "the staff directory: no client data",
    "/v1/instruments/{code}": "an instrument definition: no client data",
    "/v1/directory/services/{service_id}": "the resource directory: no client data",
    "/v1/provider/referrals/{referral_id}": "a provider's inbox: no staff relation reads it",
}
# Reads whose answers carry the markers without carrying any client's data: the agency's
# instrument definitions are named after them.
NO_CLIENT_DATA = {"/v1/instruments", "/v1/instruments/{code}"}
# Counts of referrals per organisation and service: no client's data, though they name the
# seeded services.
NO_CLIENT_DATA |= {"/v1/referrals/outcomes", "/v1/referrals/stats/services"}
NO_CLIENT_DATA |= {"/v1/referrals/stats/needs"}
# Reads of the caller's own work: what they show depends on who asks, labelled or not.
OWN_WORK = {"/v1/worklist"}

# Reads that show labelled content to readers without a need to know, in the area of the
# cross-record surfaces (audit trail content, worklist, caseloads, the client's pages, the
# event feed, the provider inbox), redacted by their own change: each is expected to leak
# here until then, and must be taken out of this set when it stops leaking.
CROSS_RECORD_LEAKS: set[str] = set()


# The path parameters that name the same record whichever entries a read is about.
COMMON = {"client_id", "case_id", "contact_id", "consent_id", "disclosure_id"}


@dataclass(frozen=True)
class Ward:
    """The seeded case: ids by path parameter name, for its unlabelled entries (``plain``),
    its labelled ones (``labelled``) and its psychotherapy note (``psychotherapy``); a
    token for each relation."""

    plain: dict[str, str]
    labelled: dict[str, str]
    psychotherapy: dict[str, str]
    tokens: dict[str, str]
    seeded_at: str


def seed_entries(
    api: Api, case_id: str, marker: str, own: str, plan_id: str | None = None
) -> tuple[dict[str, str], list[int]]:
    """An entry of each kind on the case, every text carrying ``marker``: the ids by path
    parameter name, and the case versions that recorded them (to label)."""
    base = f"/v1/cases/{case_id}"
    versions: list[int] = []

    def made(path: str, body: dict[str, Any], role: str = own) -> str:
        answer = api.created(f"{base}{path}", body, role=role)
        versions.append(int(answer["version"]))
        return str(answer["entity_id"])

    ids: dict[str, str] = {}
    ids["note_id"] = made(
        "/notes", {"text": f"{marker} note", "contact_kind": "client", "contact_mode": "phone"}
    )
    ids["addendum_id"] = made(f"/notes/{ids['note_id']}/addenda", {"text": f"{marker} addendum"})
    ids["referral_id"] = made(
        "/referrals",
        {
            "resource_kind": "housing",
            # The organisation is named by the disclosure the referral records on the
            # client: what left, and to whom, is the compliance reviewer's to read.
            "organisation": "Harbour Trust",
            "service_name": f"{marker} beds",
            "referral_reason": f"{marker} eviction",
            "organization_id": PROVIDER_ORG,
            "need": "housing",
        },
    )
    ids["assessment_id"] = made(
        "/assessments",
        {"assessments": [{"domain": "medical", "level": "low", "notes": f"{marker} liver"}]},
    )
    ids["treatment_id"] = made(
        "/prior-treatments",
        {"treatment": f"{marker} detox", "effectiveness": 3, "notes": f"{marker} relapse"},
    )
    if plan_id is None:
        ids["plan_id"] = made(
            "/plans",
            {
                "title": f"{marker} plan",
                "activities": [{"activity": f"{marker} meeting", "cadence": "weekly"}],
            },
        )
        ids["number"] = "1"
    else:  # a case has one current plan: this entry is its next version
        revision = {"title": f"{marker} plan", "reason": f"{marker} review"}
        ids["plan_id"] = plan_id
        ids["number"] = made(f"/plans/{plan_id}/revisions", revision)
    ids["goal_id"] = made(
        "/goals",
        {
            "plan_id": ids["plan_id"],
            "description": f"{marker} goal",
            "need_domain": "therapeutic",
            "need": f"{marker} need",
        },
    )
    made(f"/goals/{ids['goal_id']}/lifecycle", {"lifecycle": "active"})
    ids["progress_id"] = made(
        f"/goals/{ids['goal_id']}/progress",
        {"achievement": "improving", "note": f"{marker} progress"},
    )
    ids["task_id"] = made(
        "/tasks", {"title": f"{marker} task", "owner_id": "worker-1", "due_on": "2027-01-01"}
    )
    ids["score_id"] = made(
        "/scored-assessments",
        FLAGGED_PHQ9 | {"instrument": f"{marker.lower()}-check", "responses": {"a": 1, "b": 1}},
    )
    ids["member_id"] = made(
        "/care-team", {"role": "caregiver", "name": f"{marker} Lee", "contact": f"{marker} 555"}
    )
    ids["transfer_id"] = made(
        "/transfers", {"to_staff_id": "worker-9", "handoff_summary": f"{marker} handoff"}
    )
    made(f"/transfers/{ids['transfer_id']}/cancellation", {"reason": f"{marker} stays"})
    ids["application_id"] = made(
        "/benefit-applications", {"program": "snap", "agency_name": f"{marker} DSS"}
    )
    applied = f"/benefit-applications/{ids['application_id']}"
    made(f"{applied}/submission", {"submitted_on": "2027-01-04"})
    ids["request_id"] = made(f"{applied}/documents-requests", {"documents": [f"{marker} stubs"]})
    ids["appointment_id"] = made(
        f"{applied}/appointments",
        {"kind": "interview", "on": "2027-01-12", "location": f"{marker} office"},
    )
    return ids, versions


def mood(code: str) -> dict[str, Any]:
    options = [{"value": 0, "label": "no"}, {"value": 1, "label": "yes"}]
    return {
        "code": code,
        "version": 1,
        "title": "Mood check",
        "items": [{"id": i, "text": i, "options": options} for i in ("a", "b")],
        "scoring": {"method": "sum"},
    }


@pytest.fixture
def ward(sqlite_api: Api) -> Iterator[Ward]:
    api = sqlite_api
    staff_the_agency(api)
    tokens = {
        "own_case": staff_token(api, "worker-1", "caseworker"),
        "care_team": staff_token(api, "worker-9", "caseworker"),
        "other": "caseworker",
        "supervisor": "supervisor",
        "reviewer": "compliance_reviewer",
    }
    own = tokens["own_case"]
    for marker in (PLAIN, LABELLED):
        api.created(
            "/v1/instruments", {"definition": mood(f"{marker.lower()}-check")}, role="admin"
        )
    client = {
        "given_name": "Ada",
        "family_name": "Mendel",
        "date_of_birth": "1980-01-01",
        "client_number": "NTK-1",
    }
    client_id = api.created("/v1/clients", client, role=own)["id"]
    managed = intake(client_id) | {"case_manager_id": "worker-1"}
    case_id = api.created("/v1/cases", managed, role=own)["id"]
    api.created(
        f"/v1/cases/{case_id}/care-team", {"role": "therapist", "staff_id": "worker-9"}, role=own
    )
    contact_id = api.created(
        f"/v1/clients/{client_id}/support-contacts",
        {"name": "Rosa", "relationship": "family"},
        role=own,
    )["entity_id"]
    consent_id = api.created(f"/v1/clients/{client_id}/consents", CONSENT, role=own)["entity_id"]
    disclosure_id = api.created(f"/v1/clients/{client_id}/disclosures", DISCLOSURE, role=own)[
        "entity_id"
    ]
    plain, _ = seed_entries(api, case_id, PLAIN, own)
    labelled, versions = seed_entries(api, case_id, LABELLED, own, plain["plan_id"])
    for version in versions:
        relabel = {"target_version": version, "labels": ["hiv"], "reason": "HIV status"}
        api.created(f"/v1/cases/{case_id}/relabellings", relabel, role=own)
    note = {
        "text": f"{PSYCHOTHERAPY} session",
        "contact_mode": "in_person",
        "labels": ["psychotherapy_notes"],
    }
    psychotherapy = api.created(f"/v1/cases/{case_id}/notes", note, role=own)["entity_id"]
    common = {
        "client_id": client_id,
        "case_id": case_id,
        "contact_id": contact_id,
        "consent_id": consent_id,
        "disclosure_id": disclosure_id,
    }
    assert common.keys() == COMMON
    yield Ward(
        common | plain,
        common | labelled,
        common | {"note_id": psychotherapy},
        tokens,
        datetime.now(UTC).isoformat(),
    )


def reads(api: Api) -> list[tuple[Route, dict[str, Any]]]:
    """Every read with each query worth asking it: none, and the moment just after the
    seeding where it takes ``as_of`` (a replay of the case rather than its current state)."""
    document = api.client.get("/openapi.json").json()
    found = []
    for route in routes_of(api):
        if route.method != "GET" or route.path in NOT_SEEDED:
            continue
        accepted = {p["name"] for p in document["paths"][route.path]["get"].get("parameters", [])}
        queries: list[dict[str, Any]] = [{"limit": 1000} if "limit" in accepted else {}]
        if "as_of" in accepted:
            queries.append({"as_of": "{seeded_at}"})
        if "version" in accepted:
            queries.append({"version": 3})
        found += [(route, q) for q in queries]
    return found


def client_data(text: str) -> str:
    """The answer's text, lower case, without the instrument definitions the seeded
    administrations are named after (an agency's definitions hold no client's data)."""
    text = text.lower()
    for marker in (PLAIN, LABELLED):
        text = text.replace(f'"code":"{marker.lower()}-check"', "")
    return text


def seen(api: Api, route: Route, ids: dict[str, str], token: str, query: dict[str, Any]) -> Any:
    path = route.path.format_map(ids)
    required = {name: QUERY_VALUES[name] for name in route.required_query}
    return api.get(path, role=token, query=required | query)


def test_each_read_shows_labelled_content_only_to_the_relations_with_a_need_to_know(
    sqlite_api: Api, ward: Ward
) -> None:
    api = sqlite_api
    # route -> marker -> the relations that saw it
    shown: dict[str, dict[str, set[str]]] = {}
    answered: dict[str, set[str]] = {}
    witness: dict[tuple[str, str, str], str] = {}  # what a marker was found in, to say where
    for route, query in reads(api):
        query = {k: ward.seeded_at if v == "{seeded_at}" else v for k, v in query.items()}
        entries = set(route.params) - COMMON
        for ids in (ward.plain, ward.labelled, ward.psychotherapy) if entries else (ward.plain,):
            if not set(route.params) <= set(ids):
                continue
            for relation, token in ward.tokens.items():
                response = seen(api, route, ids, token, query)
                where = f"GET {route.path}?{query} as {relation}"
                assert response.status_code in (200, 403, 404), f"{where}: {response.text}"
                if response.status_code != 200:
                    continue
                answered.setdefault(route.path, set()).add(relation)
                if entries and ids is ward.labelled and relation not in ENTITLED:
                    # A labelled entry read by its id is a placeholder that says so.
                    assert '"restricted":true' in response.text, where
                for marker in (PLAIN, LABELLED, PSYCHOTHERAPY):
                    text = client_data(response.text)
                    at = text.find(marker.lower())
                    if at >= 0:
                        shown.setdefault(route.path, {}).setdefault(marker, set()).add(relation)
                        witness[route.path, marker, relation] = text[max(0, at - 80) : at + 40]

    checked = {p: m for p, m in shown.items() if p not in NO_CLIENT_DATA}
    leaks = {
        path: sorted(
            (markers.get(LABELLED, set()) - ENTITLED) | (markers.get(PSYCHOTHERAPY, set()) - AUTHOR)
        )
        for path, markers in checked.items()
    }
    leaks = {path: who for path, who in leaks.items() if who}
    found = {
        p: (who, witness.get((p, PSYCHOTHERAPY, who[-1])) or witness.get((p, LABELLED, who[-1])))
        for p, who in leaks.items()
    }
    assert leaks.keys() - CROSS_RECORD_LEAKS == set(), "\n".join(
        f"{p}: {w}" for p, w in found.items()
    )
    # Each expected leak still leaks: one that stopped comes out of the set.
    assert leaks.keys() >= CROSS_RECORD_LEAKS
    # Unlabelled content does not depend on the relation: whoever the route answers sees it.
    unequal = {
        path: markers[PLAIN]
        for path, markers in checked.items()
        if PLAIN in markers and markers[PLAIN] != answered[path] and path not in OWN_WORK
    }
    # The case's own manager sees its labelled content wherever its unlabelled one shows.
    mine = {
        m: {p for p, found in checked.items() if "own_case" in found.get(m, ())}
        for m in (PLAIN, LABELLED)
    }
    assert unequal == {}
    assert mine[PLAIN] == mine[LABELLED]
    assert {"/v1/cases/{case_id}", "/v1/cases/{case_id}/notes/{note_id}"} <= mine[LABELLED]


# The path parameters the seeded case gives a value for.
SEEDED_PARAMS = COMMON | {
    *("note_id", "addendum_id", "referral_id", "assessment_id", "treatment_id", "plan_id"),
    *("number", "goal_id", "progress_id", "task_id", "score_id", "member_id", "transfer_id"),
    *("application_id", "request_id", "appointment_id"),
}


def test_every_read_with_a_case_or_client_in_its_path_is_in_the_matrix(sqlite_api: Api) -> None:
    gets = [r for r in routes_of(sqlite_api) if r.method == "GET"]
    scoped = [r for r in gets if {"case_id", "client_id"} & set(r.params)]

    unseeded = [r.path for r in gets if r.path not in NOT_SEEDED and set(r.params) - SEEDED_PARAMS]
    stale = NOT_SEEDED.keys() - {r.path for r in gets}

    assert unseeded == [], "seed the matrix's case for these reads, or say in NOT_SEEDED why not"
    assert stale == set()
    assert len(scoped) >= 30
    assert not {r.path for r in scoped} & NOT_SEEDED.keys()
