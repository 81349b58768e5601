"""Service coordination end to end over HTTP: a directory imported from HSDS, a referral
sent by naming a directory service and answered by the provider with its own token, a
referral that expires past its deadline (read so by the case and due on the worklist)
re-routed to another listed service, a declined one due until re-routed, a SNAP
application from submission to approval, and a PHQ-9 trend that moves a goal and whose
item-9 answer is due at once."""

from datetime import date, timedelta
from typing import Any

from caserecord.hsds import sample_directory
from tests.e2e.http import Api, a_case

LONG_AGO = "2020-01-06T10:00:00Z"


def provider_token(api: Api, organization_id: str) -> str:
    body = {"name": "intake desk", "role": "provider", "organization_id": organization_id}
    return str(api.created("/v1/tokens", body, role="admin")["token"])


def answer(api: Api, token: str, referral_id: str, step: dict[str, str]) -> int:
    path = f"/v1/provider/referrals/{referral_id}/status"
    headers = {"Authorization": f"Bearer {token}"}
    return int(api.client.post(path, json=step, headers=headers).status_code)


def listed(api: Api, **search: Any) -> dict[str, Any]:
    return dict(api.get("/v1/directory/services", **search).json()["items"][0])


def worklist(api: Api, kind: str) -> list[tuple[str, bool]]:
    # Some items come from the provider's answers, another token's writes: the caseworker
    # reads at the log's head rather than at its own last write.
    head = api.client.app.state.runtime.records.recorder.max_notification_id()  # type: ignore[attr-defined]
    reached = {"X-Min-Position": str(head)}
    items = api.get("/v1/worklist", kind=kind, headers=reached).json()["items"]
    return [(i["subject_id"], i["overdue"]) for i in items]


def phq9(*values: int) -> dict[str, int]:
    return {str(i + 1): v for i, v in enumerate(values)}


def test_a_client_is_referred_answered_rerouted_helped_to_benefits_and_screened(
    api: Api,
) -> None:
    api.created("/v1/directory/imports", sample_directory(), role="supervisor")
    food = listed(api, need="housing-insecurity", kind="food-pantry")
    shelter = listed(api, q="shelter")
    legal = listed(api, q="eviction")
    client_id, case_id = a_case(api, effective_at=LONG_AGO)
    base = f"/v1/cases/{case_id}"

    # A referral named by its directory service only: the directory says who and by when.
    to_food = {"resource_kind": "community_resource", "service_id": food["service_id"]}
    fed = api.created(f"{base}/referrals", to_food | {"need": "food"})["entity_id"]
    pantry = provider_token(api, food["organization_id"])
    inbox = api.client.get(
        "/v1/provider/referrals", headers={"Authorization": f"Bearer {pantry}"}
    ).json()["items"]
    steps = ["received", "waitlisted", "accepted"]
    answers = [answer(api, pantry, fed, {"status": s}) for s in steps]
    answers.append(answer(api, pantry, fed, {"status": "completed", "outcome": "need_met"}))
    # A referral whose deadline passed unanswered: expired, then re-routed.
    lapsed = api.created(
        f"{base}/referrals",
        {"resource_kind": "housing", "service_id": shelter["service_id"], "need": "housing",
         "respond_by": "2020-01-20", "effective_at": "2020-01-07T09:00:00Z"},
    )["entity_id"]  # fmt: skip
    expired = api.get("/v1/referrals", status="expired", case_id=case_id).json()["items"]
    # The case reads it expired too, as of the moment read; before its deadline it was sent.
    read_lapsed = api.get(f"{base}/referrals/{lapsed}").json()["status"]
    in_case = {r["referral_id"]: r["status"] for r in api.get(base).json()["referrals"]}
    then = api.get(f"{base}/as-of", effective_at="2020-01-10T00:00:00Z").json()["referrals"]
    responses_due = worklist(api, "referral_response")
    rerouted = api.created(
        f"{base}/referrals",
        {"resource_kind": "legal", "service_id": legal["service_id"], "rerouted_from": lapsed},
    )["entity_id"]
    # A referral the pantry declines is due for the case manager until it is re-routed.
    turned = api.created(f"{base}/referrals", to_food | {"need": "food"})["entity_id"]
    declined = answer(api, pantry, turned, {"status": "declined", "reason_code": "no_capacity"})
    reroutes_due = worklist(api, "referral_reroute")
    api.created(
        f"{base}/referrals",
        {"resource_kind": "housing", "service_id": shelter["service_id"], "rerouted_from": turned},
    )
    reroutes_left = worklist(api, "referral_reroute")
    responses_left = worklist(api, "referral_response")
    # SNAP from submission to approval, with its renewal.
    applications = f"{base}/benefit-applications"
    snap = {"program": "snap", "agency_name": "County DSS", "submitted_on": "2020-01-08"}
    app_id = api.created(applications, snap)["entity_id"]
    one = f"{applications}/{app_id}"
    asked = api.created(f"{one}/documents-requests", {"documents": ["pay stubs"]})["entity_id"]
    api.created(f"{one}/documents-requests/{asked}/provided", {"provided_on": "2020-01-15"})
    award = {"amount": 291, "frequency": "monthly", "starts_on": "2020-02-01"}
    api.created(f"{one}/decision", {"decision": "approved", "renews_on": "2099-08-01"} | award)
    # PHQ-9 twice against a goal targeting it; the second answers item 9.
    plan = api.created(f"{base}/plans", {"title": "Mood", "activities": []})["entity_id"]
    goal = api.created(
        f"{base}/goals",
        {"plan_id": plan, "description": "Less depressed", "need_domain": "psychiatric",
         "target_instrument": "phq-9", "target_score": 10, "direction": "below"},
    )["entity_id"]  # fmt: skip
    given = {"instrument": "phq-9", "respondent": "client"}
    api.created(
        f"{base}/scored-assessments", given | {"responses": phq9(3, 3, 2, 2, 2, 1, 1, 0, 0)}
    )
    flagged = api.created(
        f"{base}/scored-assessments", given | {"responses": phq9(1, 1, 1, 0, 0, 0, 0, 0, 1)}
    )

    made = api.get(f"{base}/referrals/{fed}").json()
    assert (made["organisation"], made["organization_id"]) == (
        food["organization_name"],
        food["organization_id"],
    )
    assert date.fromisoformat(made["respond_by"]) == date.fromisoformat(
        made["effective_at"][:10]
    ) + timedelta(days=food["response_days"])
    assert [r["referral_id"] for r in inbox] == [fed]
    assert answers == [200, 200, 200, 200]
    assert (api.get(f"{base}/referrals/{fed}").json()["outcome"]) == "need_met"
    timeline = api.get(f"{base}/timeline").json()["items"]
    assert len([e for e in timeline if e["actor"]["role"] == "provider"]) == 5
    assert [r["referral_id"] for r in expired] == [lapsed]
    assert (read_lapsed, in_case[lapsed], in_case[fed]) == ("expired", "expired", "completed")
    assert [r["status"] for r in then if r["referral_id"] == lapsed] == ["sent"]
    assert responses_due == [(lapsed, True)]
    assert lapsed not in [subject for subject, _ in responses_left]
    assert declined == 200
    assert reroutes_due == [(turned, False)]
    assert reroutes_left == []
    assert api.get(f"{base}/referrals/{lapsed}").json()["rerouted_to"] == rerouted
    assert api.get(f"{base}/referrals/{rerouted}").json()["rerouted_from"] == lapsed
    application = api.get(one).json()
    assert (application["status"], application["decision"]["amount"]) == ("approved", 291)
    assert application["documents"][0]["provided_on"] == "2020-01-15"
    trend = api.get(f"/v1/clients/{client_id}/scores", instrument="phq-9").json()["items"]
    assert [r["total"] for r in trend] == [14, 4]
    progress = api.get(f"{base}/goals/{goal}").json()["scores"]
    assert [(s["total"], s["met"]) for s in progress] == [(14, False), (4, True)]
    due = api.get("/v1/worklist", kind="safety_flag").json()["items"]
    assert [(i["case_id"], i["overdue"]) for i in due] == [(case_id, False)]
    assert api.get(f"{base}").json()["safety_flags"][0]["version"] == flagged["version"]
