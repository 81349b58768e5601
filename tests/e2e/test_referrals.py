"""Referrals over HTTP: the closed loop and the tracker."""

from tests.e2e.http import Api, a_case

HOUSING = {
    "resource_kind": "housing",
    "organisation": "Harbor Housing Trust",
    "service_name": "Sober living residence",
    "urgency": "urgent",
    "respond_by": "2020-01-01",
}


def test_a_referral_is_made_accepted_and_completed_and_tracked(api: Api) -> None:
    _, case_id = a_case(api)
    base = f"/v1/cases/{case_id}/referrals"

    referral_id = api.created(base, HOUSING)["entity_id"]
    expired = api.get("/v1/referrals", status="expired").json()["items"]
    overdue = api.get("/v1/referrals", overdue=True).json()["items"]
    api.created(f"{base}/{referral_id}/acceptance", {})
    api.created(f"{base}/{referral_id}/completion", {"outcome": "need_met", "note": "moved in"})
    done = api.get("/v1/referrals", case_id=case_id).json()["items"]
    theirs = api.get("/v1/referrals", agency="agency-b").json()["items"]

    assert [(r["referral_id"], r["status"]) for r in expired] == [(referral_id, "expired")]
    assert [r["referral_id"] for r in overdue] == [referral_id]
    assert [(r["status"], r["outcome"]) for r in done] == [("completed", "need_met")]
    assert theirs == []
    outcomes = api.get("/v1/referrals/outcomes").json()["items"]
    assert outcomes and outcomes[0]["organisation"] == "Harbor Housing Trust"


def test_declines_and_withdrawals_close_the_loop_with_a_reason(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    base = f"/v1/cases/{case_id}/referrals"
    declined_id = sqlite_api.created(base, HOUSING)["entity_id"]
    withdrawn_id = sqlite_api.created(base, HOUSING | {"service_name": "Shelter"})["entity_id"]

    no_reason = sqlite_api.post(f"{base}/{declined_id}/decline", {"declined_by": "provider"})
    declined = sqlite_api.post(
        f"{base}/{declined_id}/decline", {"declined_by": "provider", "reason": "waiting list"}
    )
    withdrawn = sqlite_api.post(f"{base}/{withdrawn_id}/withdrawal", {"reason": "not needed"})
    after_final = sqlite_api.post(f"{base}/{declined_id}/acceptance", {})
    unknown = sqlite_api.post(f"{base}/nope/acceptance", {})

    assert (no_reason.status_code, no_reason.json()["code"]) == (422, "validation_failed")
    assert [e["path"] for e in no_reason.json()["errors"]] == ["reason"]
    assert (declined.status_code, withdrawn.status_code) == (200, 200)
    assert (after_final.status_code, after_final.json()["code"]) == (409, "invalid_transition")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "referral_not_found")
    statuses = {
        r["referral_id"]: r["status"]
        for r in sqlite_api.get(f"/v1/cases/{case_id}").json()["referrals"]
    }
    assert statuses == {declined_id: "declined", withdrawn_id: "withdrawn"}


def test_outcomes_are_counted_per_organisation_and_resource_kind(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    base = f"/v1/cases/{case_id}/referrals"
    housed = sqlite_api.created(base, HOUSING)["entity_id"]
    sqlite_api.created(base, HOUSING | {"service_name": "Shelter"})
    sqlite_api.created(base, HOUSING | {"resource_kind": "legal", "service_name": "Tenancy law"})
    wrong = sqlite_api.created(base, HOUSING | {"resource_kind": "medical", "service_name": "GP"})
    sqlite_api.created(f"{base}/{housed}/acceptance", {})
    sqlite_api.created(f"{base}/{housed}/completion", {"outcome": "need_met", "note": "moved in"})
    sqlite_api.created(
        f"/v1/cases/{case_id}/entries-in-error",
        {"target_version": wrong["version"], "reason": "wrong service"},
    )

    outcomes = sqlite_api.get("/v1/referrals/outcomes").json()["items"]

    assert [(o["organisation"], o["resource_kind"]) for o in outcomes] == [
        ("Harbor Housing Trust", "housing"),
        ("Harbor Housing Trust", "legal"),
    ]
    housing, legal = outcomes
    assert (housing["total"], housing["completed"], housing["pending"]) == (2, 1, 1)
    assert (legal["total"], legal["pending"]) == (1, 1)


def test_staff_record_a_providers_answer_and_reroute_a_declined_referral(
    sqlite_api: Api,
) -> None:
    api = sqlite_api
    _, case_id = a_case(api)
    base = f"/v1/cases/{case_id}/referrals"
    first = api.created(base, HOUSING | {"respond_by": "2099-01-01"})["entity_id"]

    received = api.post(f"{base}/{first}/status", {"status": "received"})
    declined = api.post(
        f"{base}/{first}/decline",
        {"declined_by": "provider", "reason_code": "no_capacity", "reason": "no rooms"},
    )
    second = api.created(base, HOUSING | {"service_name": "Shelter", "rerouted_from": first})
    again = api.post(base, HOUSING | {"rerouted_from": first})
    rows = {r["referral_id"]: r for r in api.get("/v1/referrals", case_id=case_id).json()["items"]}

    assert (received.status_code, declined.status_code) == (200, 200)
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert rows[first]["reason_code"] == "no_capacity"
    assert rows[first]["rerouted_to"] == second["entity_id"]
    assert rows[second["entity_id"]]["rerouted_from"] == first
