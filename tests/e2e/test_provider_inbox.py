"""The provider's side of a referral over HTTP: its own token, an inbox of only the referrals
sent to its organisation with only what they share, and its answers on the record."""

from tests.e2e.http import PROVIDER_ORG, Api, a_case

FOOD_BANK = {
    "resource_kind": "community_resource",
    "organisation": "Harbour Food Bank",
    "service_name": "Emergency groceries",
    "referral_reason": "no food at home since the eviction",
    "organization_id": PROVIDER_ORG,
    "service_id": "svc-groceries",
    "need": "food",
    "respond_by": "2099-01-01",
}


def test_a_provider_answers_the_referrals_sent_to_it_and_sees_nothing_else(
    sqlite_api: Api,
) -> None:
    api = sqlite_api
    _, case_id = a_case(api)
    base = f"/v1/cases/{case_id}/referrals"
    ours = api.created(base, FOOD_BANK)["entity_id"]
    elsewhere = api.created(base, FOOD_BANK | {"organization_id": "org-other"})["entity_id"]
    note = {"text": "Secret note", "contact_kind": "client", "contact_mode": "phone"}
    api.created(f"/v1/cases/{case_id}/notes", note)

    inbox = api.get("/v1/provider/referrals", role="provider").json()["items"]
    steps = [
        {"status": "received"},
        {"status": "waitlisted", "note": "two weeks"},
        {"status": "accepted"},
        {"status": "completed", "outcome": "need_met"},
    ]
    answers = [
        api.post(f"/v1/provider/referrals/{ours}/status", step, role="provider") for step in steps
    ]
    not_theirs = api.post(
        f"/v1/provider/referrals/{elsewhere}/status", {"status": "received"}, role="provider"
    )
    read_other = api.get(f"/v1/provider/referrals/{elsewhere}", role="provider")
    case_read = api.get(f"/v1/cases/{case_id}", role="provider")
    other_agency = api.get(f"/v1/provider/referrals/{ours}", role="provider", agency="agency-b")
    history = api.get(f"{base}/{ours}").json()
    events = api.get(f"/v1/cases/{case_id}/timeline", limit=100).json()["items"]

    assert [r["referral_id"] for r in inbox] == [ours]
    assert set(inbox[0]) == {
        "referral_id", "organization_id", "organisation", "service_id", "service_name",
        "resource_kind", "need", "urgency", "status", "made_at", "respond_by", "accepted_at",
        "closed_at", "outcome", "reason_code", "contact",
    }  # fmt: skip
    assert inbox[0]["contact"] == {}  # nothing shared unless the case manager chose to
    assert "eviction" not in str(inbox) and "Secret note" not in str(inbox)
    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert (not_theirs.status_code, not_theirs.json()["code"]) == (404, "referral_not_found")
    assert read_other.status_code == 404
    assert case_read.status_code == 403
    assert other_agency.status_code == 404
    assert [c["value"] for c in history["status_history"]] == [
        "sent", "received", "waitlisted", "accepted", "completed",
    ]  # fmt: skip
    assert history["outcome"] == "need_met"
    answered = [e for e in events if e["event_type"] in ("ReferralReceived", "ReferralCompleted")]
    assert len(answered) == 2
    assert {(e["actor"]["id"], e["actor"]["role"]) for e in answered} == {
        (f"{PROVIDER_ORG}:provider@agency-a", "provider")
    }


def test_the_provider_sees_the_contact_details_the_case_manager_chose_to_share(
    sqlite_api: Api,
) -> None:
    api = sqlite_api
    _, case_id = a_case(api)
    base = f"/v1/cases/{case_id}/referrals"
    sharing = {"share_contact": ["phone"], "preferred_contact": "text after 5pm"}

    shared = api.post(base, FOOD_BANK | sharing)
    no_email = api.post(base, FOOD_BANK | {"share_contact": ["email"]})
    inbox = api.get("/v1/provider/referrals", role="provider").json()["items"]
    one = api.get(f"/v1/provider/referrals/{shared.json()['entity_id']}", role="provider").json()
    referral = api.get(f"{base}/{shared.json()['entity_id']}").json()
    disclosed = shared.json()["disclosure"]["entries_disclosed"]

    contact = {"phone": "555-0100", "preferred_contact": "text after 5pm"}
    assert shared.status_code == 201
    assert (no_email.status_code, no_email.json()["code"]) == (422, "invalid_value")
    assert [r["contact"] for r in inbox] == [contact]  # the refused one recorded nothing
    assert one["contact"] == referral["contact"] == contact
    assert [(e["kind"], e.get("fields", [])) for e in disclosed] == [
        ("case", []),
        ("contact_details", ["phone", "preferred_contact"]),
    ]


def test_a_provider_answer_that_the_referral_does_not_allow_is_refused(sqlite_api: Api) -> None:
    api = sqlite_api
    _, case_id = a_case(api)
    ours = api.created(f"/v1/cases/{case_id}/referrals", FOOD_BANK)["entity_id"]
    url = f"/v1/provider/referrals/{ours}/status"

    early = api.post(url, {"status": "completed", "outcome": "need_met"}, role="provider")
    no_outcome = api.post(url, {"status": "completed"}, role="provider")
    uncoded = api.post(url, {"status": "declined"}, role="provider")
    stray = api.post(url, {"status": "accepted", "outcome": "need_met"}, role="provider")
    written = api.post(url, {"status": "expired"}, role="provider")
    declined = api.post(url, {"status": "declined", "reason_code": "no_capacity"}, role="provider")

    assert (early.status_code, early.json()["code"]) == (409, "invalid_transition")
    assert [r.status_code for r in (no_outcome, uncoded, stray, written)] == [422] * 4
    assert declined.status_code == 200


def test_open_referrals_come_by_deadline_and_stats_count_outcomes_per_service_and_need(
    sqlite_api: Api,
) -> None:
    api = sqlite_api
    _, case_id = a_case(api)
    base = f"/v1/cases/{case_id}/referrals"
    late = api.created(base, FOOD_BANK | {"respond_by": "2099-03-01"})["entity_id"]
    soon = api.created(base, FOOD_BANK | {"respond_by": "2099-02-01"})["entity_id"]
    done = api.created(base, FOOD_BANK | {"need": "housing"})["entity_id"]
    for step in ({"status": "accepted"}, {"status": "completed", "outcome": "partly_met"}):
        answered = api.post(f"/v1/provider/referrals/{done}/status", step, role="provider")
    # The provider's writes, which the caseworker's reads wait for only when told.
    seen = {"X-Min-Position": answered.headers["x-record-position"]}

    open_ids = [
        r["referral_id"] for r in api.get("/v1/referrals/open", headers=seen).json()["items"]
    ]
    services = api.get("/v1/referrals/stats/services", headers=seen).json()["items"]
    needs = {
        n["need"]: n for n in api.get("/v1/referrals/stats/needs", headers=seen).json()["items"]
    }

    assert open_ids == [soon, late]
    assert [(s["organization_id"], s["service_id"], s["referrals"]) for s in services] == [
        (PROVIDER_ORG, "svc-groceries", 3)
    ]
    assert services[0]["outcomes"]["partly_met"] == 1
    assert services[0]["median_days_to_accept"] is not None
    assert (needs["housing"]["completed"], needs["food"]["completed"]) == (1, 0)
    assert needs["food"]["median_days_to_complete"] is None


def test_a_provider_answer_declares_the_read_position_it_answers_with(sqlite_api: Api) -> None:
    api = sqlite_api
    _, case_id = a_case(api)
    ours = api.created(f"/v1/cases/{case_id}/referrals", FOOD_BANK)["entity_id"]

    answered = api.post(
        f"/v1/provider/referrals/{ours}/status", {"status": "received"}, role="provider"
    )

    document = api.get("/openapi.json").json()
    operation = document["paths"]["/v1/provider/referrals/{referral_id}/status"]["post"]
    assert answered.status_code == 200 and "X-Position" in answered.headers
    assert {"X-Position", "X-Record-Position"} <= set(operation["responses"]["200"]["headers"])
