"""The core scenario driven purely over HTTP, on SQLite and PostgreSQL.

One case from intake to reopening, as a caseworker and a supervisor of one agency would
record it through the API: every write carries If-Match with the ETag the previous answer
gave, and the final state is read back through the case, plan, timeline, verification,
audit trail and event feed routes.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.http import Api
from tests.scenario import NEW_MANAGER, key_fields

CASEWORKER = "caseworker@agency-a"
SUPERVISOR = "supervisor@agency-a"


class Recorder:
    """Posts each step with If-Match and checks that it made the next version."""

    def __init__(self, api: Api, case_id: str, version: int) -> None:
        self.api = api
        self.case = f"/v1/cases/{case_id}"
        self.version = version

    def step(self, path: str, body: dict[str, Any], role: str = "caseworker") -> str | None:
        response = self.api.post(
            self.case + path, body, role=role, headers={"If-Match": f'"{self.version}"'}
        )
        assert response.status_code in (200, 201), f"{path}: {response.text}"
        if response.status_code == 201:  # a created part can be read where Location says
            part = self.api.get(response.headers["location"], role=role)
            assert part.status_code == 200, (path, part.text)
        self.version += 1
        assert response.json()["version"] == self.version, path
        assert response.headers["etag"] == f'"{self.version}"', path
        entity_id: str | None = response.json()["entity_id"]
        return entity_id


def test_the_core_scenario_runs_over_http_from_intake_to_reopening(api: Api) -> None:
    registered = api.post(
        "/v1/clients",
        {
            "given_name": "Maria",
            "family_name": "Lopez",
            "date_of_birth": "1984-05-17",
            "client_number": "C-2001",
            "preferred_language": "es",
        },
    )
    assert registered.status_code == 201, registered.text
    client_id = registered.json()["id"]
    assert registered.headers["location"] == f"/v1/clients/{client_id}"

    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    opened = api.post(
        "/v1/cases",
        {
            "client_id": client_id,
            "specialty": "social_work",
            "referral_source": "county court",
            "presenting_needs": ["alcohol use", "housing instability"],
            "interview_summary": "Requests help with sobriety and stable housing.",
            "case_manager_id": CASEWORKER,
            "effective_at": two_days_ago,
        },
    )
    assert opened.status_code == 201, opened.text
    assert opened.headers["etag"] == '"1"'
    case_id = opened.json()["id"]
    r = Recorder(api, case_id, 1)

    r.step(
        "/assessments",
        {
            "assessments": [
                {"domain": "therapeutic", "level": "high", "notes": "daily drinking"},
                {
                    "domain": "psycho_social",
                    "level": "moderate",
                    "instrument": "AUDIT",
                    "score": 24,
                },
            ]
        },
    )
    r.step(
        "/prior-treatments",
        {
            "treatment": "Outpatient detox",
            "provider": "St. Mary's",
            "started_on": "2022-01-10",
            "ended_on": "2022-03-01",
            "outcome": "relapsed after six weeks",
            "effectiveness": 2,
        },
    )
    routines = [
        {"activity": "AA meeting", "cadence": "weekly", "time": "19:00"},
        {"activity": "Breathalyser check-in", "cadence": "daily", "time": "08:00"},
    ]
    plan_id = r.step(
        "/plans",
        {"title": "Recovery plan", "activities": routines, "next_review_on": "2027-03-01"},
    )
    sobriety = r.step(
        "/goals",
        {
            "plan_id": plan_id,
            "description": "Stay sober",
            "need_domain": "therapeutic",
            "target_measure": "90 days without alcohol",
            "due_on": "2027-06-01",
        },
    )
    housing = r.step(
        "/goals",
        {
            "plan_id": plan_id,
            "description": "Find stable housing",
            "need_domain": "psycho_social",
            "target_measure": "signed lease",
        },
    )
    r.step(f"/plans/{plan_id}/activate", {})
    r.step(f"/goals/{sobriety}/lifecycle", {"lifecycle": "active"})
    r.step(f"/goals/{housing}/lifecycle", {"lifecycle": "active"})
    r.step(
        f"/goals/{sobriety}/progress",
        {"achievement": "improving", "measured_value": "21 days", "note": "two meetings a week"},
    )

    housing_referral = r.step(
        "/referrals",
        {
            "resource_kind": "housing",
            "organisation": "City Housing Trust",
            "service_name": "Supported tenancy",
            "referral_reason": "homeless since March",
            "urgency": "urgent",
            "respond_by": "2027-01-15",
        },
    )
    r.step(f"/referrals/{housing_referral}/acceptance", {})
    support_referral = r.step(
        "/referrals",
        {
            "resource_kind": "support_group",
            "organisation": "Harbour Recovery",
            "service_name": "Women's peer group",
        },
    )
    r.step(
        f"/referrals/{support_referral}/decline",
        {"declined_by": "client", "reason": "prefers a group nearer home"},
    )

    note = r.step(
        "/notes",
        {
            "text": "Home visit: client sober, flat cold and damp.",
            "contact_kind": "client",
            "contact_mode": "in_person",
            "present": ["client", "sister"],
        },
    )
    r.step(f"/notes/{note}/addenda", {"text": "Sister agreed to help with the move."})
    r.step(
        "/notes",
        {"text": "Phoned about court date.", "contact_kind": "client", "contact_mode": "phone"},
    )
    wrong = r.version
    r.step(
        "/entries-in-error",
        {"target_version": wrong, "reason": "recorded on the wrong case"},
        role="supervisor",
    )

    r.step(
        f"/referrals/{housing_referral}/completion",
        {"outcome": "need_met", "note": "tenancy offered"},
    )
    r.step(
        f"/plans/{plan_id}/revisions",
        {
            "title": "Recovery and tenancy plan",
            "activities": [*routines, {"activity": "Tenancy support visit", "cadence": "monthly"}],
            "next_review_on": "2027-06-01",
            "reason": "housing secured: add tenancy support",
        },
    )
    r.step(f"/goals/{housing}/progress", {"achievement": "achieved", "measured_value": "lease"})
    r.step(f"/goals/{housing}/lifecycle", {"lifecycle": "completed"})

    r.step(
        "/assignment",
        {"case_manager_id": NEW_MANAGER, "reason": "caseload balancing"},
        role="supervisor",
    )
    r.step(
        "/closure",
        {"outcome": "goals partly met", "reason": "client moved away"},
        role="supervisor",
    )
    closed_at = r.version
    stale = api.post(
        f"/v1/cases/{case_id}/notes",
        {"text": "Written on an old copy.", "contact_kind": "client", "contact_mode": "phone"},
        headers={"If-Match": f'"{closed_at - 1}"'},
    )
    assert stale.status_code == 412
    assert stale.json()["code"] == "version_mismatch"
    r.step("/reopening", {"reason": "client returned to the area"}, role="supervisor")
    final = r.version

    # ---- the case as read back -----------------------------------------------------------
    read = api.get(f"/v1/cases/{case_id}")
    assert read.status_code == 200
    assert read.headers["etag"] == f'"{final}"'
    case = read.json()
    fields = key_fields(case)
    assert fields == {
        "version": 25,
        "status": "open",
        "case_manager_id": NEW_MANAGER,
        "assessment_count": 2,
        "prior_treatment_count": 1,
        "plan": {
            "status": "active",
            "version_number": 2,
            "title": "Recovery and tenancy plan",
            "activity_count": 3,
        },
        "goals": {
            sobriety: {"lifecycle": "active", "achievement": "improving"},
            housing: {"lifecycle": "completed", "achievement": "achieved"},
        },
        "referrals": {housing_referral: "completed", support_referral: "declined"},
        "note_count": 1,
        "addendum_count": 1,
        "entries_in_error": {str(wrong): wrong + 1},
    }
    assert [s["value"] for s in case["status_history"]] == ["open", "closed", "open"]
    assert case["status_history"][1]["version"] == closed_at
    assert case["client_id"] == client_id

    # ---- the current plan from the read model ---------------------------------------------
    plan = api.get(f"/v1/cases/{case_id}/plan").json()["plan"]
    assert (plan["plan_id"], plan["status"], plan["version_number"]) == (plan_id, "active", 2)
    assert plan["title"] == "Recovery and tenancy plan"
    assert [a["activity"] for a in plan["activities"]][-1] == "Tenancy support visit"
    assert len(plan["goals"]) == 2

    # ---- the timeline: the client's registration, the disclosures of its two referrals, and
    # every case event, flagged
    entries = api.get(f"/v1/cases/{case_id}/timeline").json()["items"]
    assert len(entries) == 3 + final
    case_entries = [e for e in entries if e["stream_id"] == case_id]
    assert [e["version"] for e in case_entries] == list(range(1, final + 1))
    assert [e["version"] for e in case_entries if e["in_error"]] == [wrong]
    assert case_entries[0]["late"] is True
    assert [e["addendum_to"]["note_id"] for e in entries if e["addendum_to"]] == [note]

    # ---- compliance: the hash chains verify, the audit trail has a row per event ----------
    verified = api.get(f"/v1/cases/{case_id}/verification", role="compliance_reviewer").json()
    assert verified["ok"] is True
    checked = {s["stream_id"]: s["versions_checked"] for s in verified["streams"]}
    assert checked == {case_id: final, client_id: 3}

    # The reviewer wrote nothing of its own to wait for: it reads at the writers' position.
    head = api.client.app.state.runtime.records.recorder.max_notification_id()  # type: ignore[attr-defined]
    trail = api.get(
        "/v1/audit-trail",
        role="compliance_reviewer",
        case_id=case_id,
        limit=100,
        headers={"X-Min-Position": str(head)},
    ).json()["items"]
    assert [row["version"] for row in trail] == list(range(1, final + 1))
    assert all(row["hash"] for row in trail)
    assert [r["version"] for r in trail if r["marked_in_error_by"]] == [wrong]
    assert [r["version"] for r in trail if r["in_error"]] == [wrong]
    assert trail[wrong - 1]["marked_in_error_by"] == case_entries[wrong - 1]["marked_in_error_by"]
    assert trail[wrong - 1]["marked_in_error_by"] == wrong + 1
    by_supervisor = sorted(row["version"] for row in trail if row["actor"]["id"] == SUPERVISOR)
    assert by_supervisor == [wrong + 1, final - 2, final - 1, final]
    assert {row["actor"]["id"] for row in trail} == {CASEWORKER, SUPERVISOR}

    # ---- the event feed: the same events, in recording order -----------------------------
    feed = api.get("/v1/events", limit=100).json()
    assert feed["next"] is None
    items = [(e["stream_id"], e["version"]) for e in feed["items"]]
    assert [i for i in items if i[0] == case_id] == [(case_id, v) for v in range(1, final + 1)]
    assert [i for i in items if i[0] == client_id] == [(client_id, v) for v in (1, 2, 3)]
    assert len(items) == final + 3
