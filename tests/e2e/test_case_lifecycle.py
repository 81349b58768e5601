"""The case lifecycle over HTTP: waitlisted at intake, service started, on hold and
resumed, closed with a discharge reason and an aftercare plan."""

from tests.e2e.http import Api, a_case


def test_a_case_goes_from_the_waitlist_to_a_discharge_with_aftercare(api: Api) -> None:
    _, case_id = a_case(api, waitlisted=True)
    base = f"/v1/cases/{case_id}"
    waiting = api.get("/v1/caseloads", status="waitlisted").json()["items"]

    api.created(f"{base}/service-start", {})
    api.created(f"{base}/hold", {"reason": "inpatient stay", "until": "2030-01-31"})
    on_hold = api.get(base).json()
    refused = api.post(
        f"{base}/referrals",
        {"resource_kind": "legal", "organisation": "L", "service_name": "Advice"},
    )
    api.created(f"{base}/resumption", {})
    api.created(
        f"{base}/closure",
        {
            "outcome": "Stable housing, sober 6 months",
            "reason": "goals met",
            "discharge_reason": "goals_met",
            "aftercare_plan": "Monthly call for three months",
            "follow_up_on": "2030-03-01",
        },
        role="supervisor",
    )
    # The supervisor closed it: the caseworker reads the caseload at that position.
    head = api.client.app.state.runtime.records.recorder.max_notification_id()  # type: ignore[attr-defined]
    reached = {"X-Min-Position": str(head)}

    assert [c["case_id"] for c in waiting] == [case_id]
    assert on_hold["status"] == "on_hold"
    assert on_hold["status_details"] == {"reason": "inpatient stay", "until": "2030-01-31"}
    assert (refused.status_code, refused.json()["code"]) == (409, "case_not_in_service")
    closed = api.get(base).json()
    assert closed["status"] == "closed"
    assert closed["status_details"]["discharge_reason"] == "goals_met"
    assert [s["value"] for s in closed["status_history"]] == [
        "waitlisted",
        "open",
        "on_hold",
        "open",
        "closed",
    ]
    timeline = api.get(f"{base}/timeline").json()["items"]
    assert "Case closed (goals_met)" in [e["summary"] for e in timeline]
    assert api.get("/v1/caseloads", headers=reached).json()["items"] == []
