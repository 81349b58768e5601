"""Service coordination end to end over HTTP: a directory imported from HSDS, a referral
sent by naming a directory service, the provider's own token answering it, a decline
re-routed to another listed service that closes the loop, and a benefits application
beside it on the worklist."""

from datetime import date, timedelta
from typing import Any

from caserecord.hsds import sample_directory
from tests.e2e.http import Api, a_case


def provider_token(api: Api, organization_id: str) -> str:
    body = {"name": "intake desk", "role": "provider", "organization_id": organization_id}
    return str(api.created("/v1/tokens", body, role="admin")["token"])


def as_provider(api: Api, token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def service(api: Api, need: str) -> dict[str, Any]:
    found = api.get("/v1/directory/services", need=need).json()["items"]
    return dict(found[0])


def test_a_referral_to_a_listed_service_is_answered_by_its_provider_and_rerouted_to_close(
    api: Api,
) -> None:
    api.created("/v1/directory/imports", sample_directory(), role="supervisor")
    shelter = service(api, "housing-insecurity")
    legal = service(api, "legal")
    _, case_id = a_case(api)
    referrals = f"/v1/cases/{case_id}/referrals"

    # Named by its directory service only: the directory supplies who and by when.
    first_id = api.created(
        referrals, {"resource_kind": "housing", "service_id": shelter["service_id"]}
    )["entity_id"]
    first = api.get(f"{referrals}/{first_id}").json()
    shelter_desk = provider_token(api, shelter["organization_id"])
    inbox = api.client.get("/v1/provider/referrals", headers=as_provider(api, shelter_desk)).json()[
        "items"
    ]
    answers = [
        api.client.post(
            f"/v1/provider/referrals/{first_id}/status",
            json=step,
            headers=as_provider(api, shelter_desk),
        )
        for step in ({"status": "received"}, {"status": "declined", "reason_code": "no_capacity"})
    ]
    rerouted_id = api.created(
        referrals,
        {"resource_kind": "legal", "service_id": legal["service_id"], "rerouted_from": first_id},
    )["entity_id"]
    legal_desk = provider_token(api, legal["organization_id"])
    for step in ({"status": "accepted"}, {"status": "completed", "outcome": "need_met"}):
        done = api.client.post(
            f"/v1/provider/referrals/{rerouted_id}/status",
            json=step,
            headers=as_provider(api, legal_desk),
        )
        assert done.status_code == 200, done.text
    unknown = api.post(referrals, {"resource_kind": "legal", "service_id": "not-listed"})
    nameless = api.post(referrals, {"resource_kind": "legal"})

    assert (first["organisation"], first["organization_id"]) == (
        shelter["organization_name"],
        shelter["organization_id"],
    )
    assert date.fromisoformat(first["respond_by"]) == date.fromisoformat(
        first["effective_at"][:10]
    ) + timedelta(days=shelter["response_days"])
    assert [r["referral_id"] for r in inbox] == [first_id]
    assert [a.status_code for a in answers] == [200, 200]
    closed = api.get(f"{referrals}/{rerouted_id}").json()
    assert (closed["status"], closed["outcome"], closed["rerouted_from"]) == (
        "completed",
        "need_met",
        first_id,
    )
    assert api.get(f"{referrals}/{first_id}").json()["rerouted_to"] == rerouted_id
    assert (unknown.status_code, unknown.json()["code"]) == (422, "directory_service_not_found")
    assert nameless.status_code == 422
    history = api.get(f"/v1/cases/{case_id}/timeline").json()["items"]
    provider_steps = [e for e in history if e["actor"]["role"] == "provider"]
    assert len(provider_steps) == 4

    # A benefits application the same week: its pending decision is due on the worklist.
    application = {"program": "snap", "agency_name": "County DSS", "submitted_on": "2020-01-06"}
    app_id = api.created(f"/v1/cases/{case_id}/benefit-applications", application)["entity_id"]
    manager = {"case_manager_id": "caseworker@agency-a", "reason": "intake"}
    api.created(f"/v1/cases/{case_id}/assignment", manager, role="supervisor")
    due = api.get("/v1/worklist", kind="benefit_decision").json()["items"]
    assert [(i["subject_id"], i["overdue"]) for i in due] == [(app_id, True)]
