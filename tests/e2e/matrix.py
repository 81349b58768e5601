"""Every operation of the app called generically (the tenancy and role matrices): a populated
agency to call them on, and a valid body for every write."""

import re
from dataclasses import dataclass
from typing import Any

from caserecord.domain.values import Role
from tests.e2e.http import PROVIDER_ORG, Api, caseworker_of, intake, staff_the_agency

# ---- a populated agency, and a valid body for every write (tenancy and role matrices) ----

# Distinctive texts, so a leak of agency A's data into another response cannot go unnoticed.
SEED_CLIENT = {
    "given_name": "Ximena",
    "family_name": "Quillabamba",
    "date_of_birth": "1979-02-03",
    "client_number": "A-SEED-7731",
    "phone": "555-7731",
}


@dataclass(frozen=True)
class Seeded:
    """One agency's populated case: its ids by path parameter name, and its secret texts."""

    agency: str
    ids: dict[str, str]
    texts: dict[str, str]

    @property
    def secrets(self) -> tuple[str, ...]:
        """Everything of this agency no other agency may ever see (its name too)."""
        return (self.agency, *self.ids.values(), *self.texts.values())


def seed_agency(api: Api, agency: str, marker: str) -> Seeded:
    """A client with a support contact, and a case with an assessment, a plan with a goal,
    a referral and a note; every text carries ``marker``."""

    def made(path: str, body: dict[str, Any], role: str = "caseworker") -> dict[str, Any]:
        return api.created(path, body, agency=agency, role=role)

    staff_id = f"staff-{marker}"
    staff_the_agency(api, agency, (staff_id,))

    texts = {
        "family_name": f"Quillabamba{marker}",
        "client_number": f"{marker}-7731",
        "contact": f"Rosalind {marker}",
        "summary": f"Intake summary {marker}",
        "plan": f"Recovery plan {marker}",
        "goal": f"Stay sober {marker}",
        "organisation": f"Harbour Trust {marker}",
        "note": f"Home visit {marker}",
        "task": f"Call the landlord {marker}",
        "caregiver": f"Caregiver {marker}",
        "handoff": f"Handoff {marker}",
        "recipient": f"Bayview Clinic {marker}",
        "benefits_agency": f"County DSS {marker}",
    }
    client = SEED_CLIENT | {
        "family_name": texts["family_name"],
        "client_number": texts["client_number"],
    }
    client_id = made("/v1/clients", client)["id"]
    contact_id = made(
        f"/v1/clients/{client_id}/support-contacts",
        {"name": texts["contact"], "relationship": "family"},
    )["entity_id"]
    # Managed by the caseworker who writes to it (a caseworker writes to their own cases).
    manager = {"case_manager_id": caseworker_of(agency), "interview_summary": texts["summary"]}
    case_id = made("/v1/cases", intake(client_id) | manager)["id"]
    base = f"/v1/cases/{case_id}"
    assessment_id = made(
        f"{base}/assessments", {"assessments": [{"domain": "therapeutic", "level": "high"}]}
    )["entity_id"]
    treatment_id = made(f"{base}/prior-treatments", {"treatment": "Detox", "effectiveness": 2})[
        "entity_id"
    ]
    plan_id = made(
        f"{base}/plans",
        {"title": texts["plan"], "activities": [{"activity": "AA", "cadence": "weekly"}]},
    )["entity_id"]
    goal_id = made(
        f"{base}/goals",
        {"plan_id": plan_id, "description": texts["goal"], "need_domain": "therapeutic"},
    )["entity_id"]
    made(f"{base}/goals/{goal_id}/lifecycle", {"lifecycle": "active"})
    progress_id = made(f"{base}/goals/{goal_id}/progress", {"achievement": "improving"})[
        "entity_id"
    ]
    referral_id = made(
        f"{base}/referrals",
        {
            "resource_kind": "housing",
            "organisation": texts["organisation"],
            "service_name": "S",
            "organization_id": PROVIDER_ORG,
            "need": "housing",
        },
    )["entity_id"]
    note_id = made(
        f"{base}/notes",
        {"text": texts["note"], "contact_kind": "client", "contact_mode": "phone"},
    )["entity_id"]
    addendum_id = made(f"{base}/notes/{note_id}/addenda", {"text": "Later"})["entity_id"]
    task_id = made(
        f"{base}/tasks",
        {"title": texts["task"], "owner_id": f"caseworker@{agency}", "due_on": "2027-01-01"},
    )["entity_id"]
    score_id = made(f"{base}/scored-assessments", FLAGGED_PHQ9)["entity_id"]
    code = made("/v1/instruments", {"definition": mood(f"mood-{marker.lower()}")}, role="admin")
    member_id = made(f"{base}/care-team", {"role": "caregiver", "name": texts["caregiver"]})[
        "entity_id"
    ]
    handoff = {"to_staff_id": "worker-9", "handoff_summary": texts["handoff"]}
    transfer_id = made(f"{base}/transfers", handoff)["entity_id"]
    # Answered, so the case takes direct assignment and new transfers as usual.
    made(f"{base}/transfers/{transfer_id}/cancellation", {"reason": "client stays"})
    application_id = made(
        f"{base}/benefit-applications",
        BENEFIT_APPLICATION | {"agency_name": texts["benefits_agency"]},
    )["entity_id"]
    applied = f"{base}/benefit-applications/{application_id}"
    request_id = made(f"{applied}/documents-requests", {"documents": ["ID"]})["entity_id"]
    appointment_id = made(f"{applied}/appointments", {"kind": "interview", "on": "2027-01-12"})[
        "entity_id"
    ]
    consent_id = made(
        f"/v1/clients/{client_id}/consents", CONSENT | {"recipient": texts["recipient"]}
    )["entity_id"]
    disclosure_id = made(
        f"/v1/clients/{client_id}/disclosures", DISCLOSURE | {"recipient": texts["recipient"]}
    )["entity_id"]
    emergency = {"basis": "medical_emergency", "reason": "collapsed", "recipient": f"ER {marker}"}
    made(f"/v1/clients/{client_id}/disclosures", DISCLOSURE | emergency, role="supervisor")
    made(f"{base}/break-glass", {"minutes": 5, "reason": f"crisis {marker}"})
    spare = made("/v1/tokens", {"name": f"spare {marker}", "role": "caseworker"}, role="admin")
    service = made("/v1/directory/services", directory_service(marker), role="supervisor")
    ids = {
        "client_id": client_id,
        "contact_id": contact_id,
        "case_id": case_id,
        "plan_id": plan_id,
        "goal_id": goal_id,
        "referral_id": referral_id,
        "note_id": note_id,
        "task_id": task_id,
        "consent_id": consent_id,
        "disclosure_id": disclosure_id,
        "token_id": spare["token_id"],
        "code": code["entity_id"],
        "staff_id": staff_id,
        "service_id": service["entity_id"],
        "member_id": member_id,
        "transfer_id": transfer_id,
        "application_id": application_id,
        "request_id": request_id,
        "appointment_id": appointment_id,
    }
    entries = {
        "assessment_id": assessment_id,
        "treatment_id": treatment_id,
        "progress_id": progress_id,
        "addendum_id": addendum_id,
        "score_id": score_id,
    }
    assert entries == {k: v for k, v in FIXED_PATH_VALUES.items() if k in entries}
    return Seeded(agency, ids, texts)


def directory_service(marker: str) -> dict[str, Any]:
    """A service of the agency's resource directory."""
    return {
        "service_id": f"pantry-{marker.lower()}",
        "organization_name": f"Harbour Food Bank {marker}",
        "name": f"Pantry {marker}",
        "needs": ["food-insecurity"],
        "kinds": ["food-pantry"],
        "areas": ["Bayview"],
        "response_days": 3,
    }


# A PHQ-9 with item 9 answered: it raises the safety flag.
FLAGGED_PHQ9 = {
    "instrument": "phq-9",
    "respondent": "client",
    "responses": {str(i): 1 for i in range(1, 10)},
}


def mood(code: str) -> dict[str, Any]:
    """An agency's own instrument definition."""
    options = [{"value": 0, "label": "no"}, {"value": 1, "label": "yes"}]
    return {
        "code": code,
        "version": 1,
        "title": "Mood check",
        "items": [{"id": i, "text": i, "options": options} for i in ("a", "b")],
        "scoring": {"method": "sum"},
    }


APPLIED = "/v1/cases/{case_id}/benefit-applications/{application_id}"
BENEFIT_APPLICATION = {"program": "snap", "agency_name": "County DSS", "submitted_on": "2027-01-04"}
CONSENT = {
    "recipient_kind": "organisation",
    "recipient": "Bayview Clinic",
    "purpose": "treatment",
    "data": ["substance_use", "hiv"],
    "form_sha256": "b" * 64,
    "expires_on": "2099-12-31",
}
DISCLOSURE = {
    "recipient_kind": "organisation",
    "recipient": "Bayview Clinic",
    "purpose": "treatment",
    "channel": "phone",
    "data_classes": ["hiv"],
}


# A valid body for every write, by route path; "{name}" is replaced by the id of that name.
WRITE_BODIES: dict[str, dict[str, Any]] = {
    "/v1/clients/{client_id}/consents": CONSENT,
    "/v1/clients/{client_id}/consents/{consent_id}/revocation": {},
    "/v1/clients/{client_id}/disclosures": DISCLOSURE,
    "/v1/clients/{client_id}/accounting-requests": {"part2": True},
    "/v1/cases/{case_id}/exports": {
        "recipient_kind": "person",
        "recipient": "Probation officer Diaz",
        "purpose": "court",
    },
    "/v1/cases/{case_id}/relabellings": {"target_version": 2, "labels": ["hiv"], "reason": "r"},
    "/v1/cases/{case_id}/break-glass": {"minutes": 5, "reason": "crisis"},
    "/v1/clients": SEED_CLIENT,
    "/v1/clients/{client_id}/corrections": {"changes": {"phone": "555-0199"}, "reason": "typo"},
    "/v1/clients/{client_id}/detail-corrections": {
        "changes": {"phone": "555-0198"},
        "reason": "typo",
    },
    "/v1/clients/{client_id}/support-contacts": {"name": "Ana", "relationship": "friend"},
    "/v1/clients/{client_id}/support-contacts/{contact_id}/removal": {"reason": "moved"},
    "/v1/cases": intake("{client_id}"),
    "/v1/cases/{case_id}/assessments": {
        "assessments": [{"domain": "medical", "level": "low"}],
    },
    "/v1/cases/{case_id}/prior-treatments": {"treatment": "Detox", "effectiveness": 3},
    "/v1/cases/{case_id}/assignment": {"case_manager_id": "worker-9", "reason": "balancing"},
    "/v1/cases/{case_id}/closure": {
        "outcome": "goals met",
        "reason": "moved away",
        "referrals": {"{referral_id}": {"settlement": "leave_open"}},
    },
    "/v1/cases/{case_id}/reopening": {"reason": "returned"},
    "/v1/cases/{case_id}/service-start": {},
    "/v1/cases/{case_id}/hold": {"reason": "in hospital", "until": "2030-01-01"},
    "/v1/cases/{case_id}/resumption": {},
    "/v1/cases/{case_id}/corrections": {"target_version": 2, "reason": "wrong case"},
    "/v1/cases/{case_id}/entries-in-error": {"target_version": 2, "reason": "wrong case"},
    "/v1/cases/{case_id}/plans": {"title": "Another plan"},
    "/v1/cases/{case_id}/plans/{plan_id}/revisions": {"title": "Revised", "reason": "review"},
    "/v1/cases/{case_id}/plans/{plan_id}/{action}": {},
    "/v1/cases/{case_id}/plans/{plan_id}/suspend": {"reason": "hospital stay"},
    "/v1/cases/{case_id}/plans/{plan_id}/revoke": {"reason": "wrong focus"},
    "/v1/cases/{case_id}/goals": {
        "plan_id": "{plan_id}",
        "description": "Find work",
        "need_domain": "psycho_social",
    },
    "/v1/cases/{case_id}/goals/{goal_id}/revisions": {
        "description": "Stay sober for 90 days",
        "need_domain": "therapeutic",
    },
    "/v1/cases/{case_id}/goals/{goal_id}/lifecycle": {"lifecycle": "on-hold"},
    "/v1/cases/{case_id}/goals/{goal_id}/settlement": {"settlement": "achieved"},
    "/v1/cases/{case_id}/plans/{plan_id}/reviews": {
        "outcome": "continue",
        "next_review_on": "2999-01-01",
    },
    "/v1/cases/{case_id}/tasks": {"title": "Call", "owner_id": "worker-1", "due_on": "2027-01-01"},
    "/v1/cases/{case_id}/tasks/{task_id}/completion": {},
    "/v1/cases/{case_id}/tasks/{task_id}/reassignment": {"owner_id": "worker-9"},
    "/v1/cases/{case_id}/tasks/{task_id}/cancellation": {"reason": "not needed"},
    "/v1/cases/{case_id}/goals/{goal_id}/progress": {"achievement": "improving"},
    "/v1/cases/{case_id}/referrals": {
        "resource_kind": "legal",
        "organisation": "Legal Aid",
        "service_name": "Advice",
    },
    "/v1/cases/{case_id}/referrals/{referral_id}/acceptance": {},
    "/v1/cases/{case_id}/referrals/{referral_id}/decline": {
        "declined_by": "provider",
        "reason": "full",
    },
    "/v1/cases/{case_id}/referrals/{referral_id}/completion": {"outcome": "need_met"},
    "/v1/cases/{case_id}/referrals/{referral_id}/withdrawal": {"reason": "no longer needed"},
    "/v1/cases/{case_id}/referrals/{referral_id}/status": {"status": "received"},
    "/v1/cases/{case_id}/notes": {
        "text": "Phoned",
        "contact_kind": "client",
        "contact_mode": "phone",
    },
    "/v1/cases/{case_id}/notes/{note_id}/addenda": {"text": "And texted"},
    "/v1/cases/{case_id}/scored-assessments": FLAGGED_PHQ9,
    "/v1/cases/{case_id}/safety-flags/{flag_version}/review": {"note": "Called the client."},
    "/v1/instruments": {"definition": mood("mood-extra")},
    "/v1/tokens": {"name": "spare", "role": "caseworker"},
    "/v1/cases/{case_id}/care-team": {"role": "caregiver", "name": "Lee"},
    "/v1/cases/{case_id}/care-team/{member_id}/end": {"reason": "moved away"},
    "/v1/cases/{case_id}/transfers": {"to_staff_id": "worker-9", "handoff_summary": "Over"},
    "/v1/cases/{case_id}/transfers/{transfer_id}/acceptance": {},
    "/v1/cases/{case_id}/transfers/{transfer_id}/decline": {"reason": "caseload full"},
    "/v1/cases/{case_id}/transfers/{transfer_id}/cancellation": {"reason": "client stays"},
    "/v1/cases/{case_id}/benefit-applications": BENEFIT_APPLICATION,
    APPLIED + "/submission": {"submitted_on": "2027-01-04"},
    APPLIED + "/documents-requests": {
        "documents": ["pay stubs"],
        "due_on": "2027-02-01",
    },
    APPLIED + "/documents-requests/{request_id}/provided": {"provided_on": "2027-01-10"},
    APPLIED + "/appointments": {
        "kind": "medical_exam",
        "on": "2027-01-20",
    },
    APPLIED + "/appointments/{appointment_id}/outcome": {"outcome": "attended"},
    APPLIED + "/decision": {
        "decision": "approved",
        "amount": 291,
        "frequency": "monthly",
        "starts_on": "2027-02-01",
        "renews_on": "2027-08-01",
    },
    APPLIED + "/appeal": {"hearing_on": "2027-03-01"},
    APPLIED + "/appeal-decision": {"outcome": "upheld"},
    APPLIED + "/renewal": {"renews_on": "2028-02-01"},
    APPLIED + "/withdrawal": {"reason": "moved away"},
    APPLIED + "/steps-in-error": {"target_version": 2, "reason": "entered in error"},
    "/v1/staff": {"staff_id": "cm-new", "name": "New Member", "role": "nurse"},
    "/v1/staff/{staff_id}": {"name": "Renamed Member", "role": "nurse"},
    "/v1/staff/{staff_id}/deactivation": {"reason": "left"},
    "/v1/staff/{staff_id}/reactivation": {"reason": "returned"},
    "/v1/tokens/{token_id}/revocation": {},
    "/v1/directory/services": directory_service("New") | {"service_id": "pantry-new"},
    "/v1/directory/services/{service_id}": {
        k: v for k, v in directory_service("Renamed").items() if k != "service_id"
    },
    "/v1/directory/services/{service_id}/deactivation": {"reason": "closed"},
    "/v1/directory/services/{service_id}/reactivation": {"reason": "reopened"},
    "/v1/directory/imports": {"contents": []},
    "/v1/provider/referrals/{referral_id}/status": {"status": "received"},
}

# Values for path parameters that are not record ids: the entries a case knows by the case
# version that recorded them are at the same versions of every seeded case (not secrets).
FIXED_PATH_VALUES = {
    "action": "activate",
    "number": "1",
    "assessment_id": "2",
    "treatment_id": "3",
    "progress_id": "7",
    "addendum_id": "10",
    "score_id": "12",
    "flag_version": "12",
}


def fill(template: Any, ids: dict[str, str]) -> Any:
    """``template`` with every ``{name}`` replaced by ``ids[name]`` (in strings, lists, dicts)."""
    if isinstance(template, str):
        return template.format_map(ids | FIXED_PATH_VALUES)
    if isinstance(template, list):
        return [fill(t, ids) for t in template]
    if isinstance(template, dict):
        return {fill(k, ids): fill(v, ids) for k, v in template.items()}
    return template


# Values for required query parameters, by name.
QUERY_VALUES = {"t1": "2020-01-01T00:00:00Z", "t2": "2099-01-01T00:00:00Z"}


# ---- the operations of the app, called generically ---------------------------------------

ROLES = [r.value for r in Role]
PARAM = re.compile(r"{(\w+)}")


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
    assert not unexpected, f"teach the route matrices about {unexpected}"
    return found


def call(
    api: Api,
    route: Route,
    ids: dict[str, str],
    role: str,
    agency: str,
    query: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
) -> Any:
    """Call ``route`` on the records ``ids`` names, with its valid body unless told."""
    missing = set(route.params) - set(ids) - set(FIXED_PATH_VALUES)
    assert not missing, f"no seeded id for {missing} in {route}"
    path = fill(route.path, ids)
    if route.method == "GET":
        unknown = set(route.required_query) - set(QUERY_VALUES)
        assert not unknown, f"add values for {unknown} of {route} to QUERY_VALUES"
        required = {name: QUERY_VALUES[name] for name in route.required_query}
        query = required | (query or {})
        return api.get(path, role=role, agency=agency, query=query, headers=headers)
    body = fill(route.body, ids) if body is None else body
    return api.post(path, body, role=role, agency=agency, headers=headers)


def footprint(api: Api, a: Seeded) -> dict[str, Any]:
    """What any write or recorded read on A's records would change."""
    runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
    client, case = a.ids["client_id"], a.ids["case_id"]
    feed = api.get("/v1/events", limit=1000).json()
    return {
        "client": api.get(f"/v1/clients/{client}").json(),
        "case": api.get(f"/v1/cases/{case}").json(),
        "positions": [e["position"] for e in feed["items"]],
        "last_position": runtime.records.recorder.max_notification_id(),
        "tokens": api.get("/v1/tokens", role="admin").json(),
        "readers": {
            (e["actor"]["id"], e["action"])
            for e in api.get(
                f"/v1/clients/{client}/access-log", role="compliance_reviewer", limit=1000
            ).json()["items"]
        },
    }
