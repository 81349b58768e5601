"""Benefits applications over HTTP: from submission to approval, the worklist and the
agency's listing."""

from tests.e2e.http import Api, a_case


def test_a_snap_application_is_documented_approved_and_listed(api: Api) -> None:
    _, case_id = a_case(api)  # the caseworker's own case: their worklist shows its items
    base = f"/v1/cases/{case_id}/benefit-applications"
    snap = {"program": "snap", "agency_name": "County DSS", "submitted_on": "2020-01-06"}

    app_id = api.created(base, snap)["entity_id"]
    one = f"{base}/{app_id}"
    request_id = api.created(f"{one}/documents-requests", {"documents": ["pay stubs"]})["entity_id"]
    api.created(f"{one}/documents-requests/{request_id}/provided", {"provided_on": "2020-01-10"})
    late = api.get("/v1/benefit-applications", status="submitted", program="snap").json()
    due = api.get("/v1/worklist", kind="benefit_decision").json()["items"]
    no_award = api.post(f"{one}/decision", {"decision": "approved"})
    award = {"amount": 291, "frequency": "monthly", "starts_on": "2020-02-01"}
    api.created(f"{one}/decision", {"decision": "approved", "renews_on": "2020-08-01"} | award)
    application = api.get(one).json()
    theirs = api.get("/v1/benefit-applications", agency="agency-b").json()["items"]
    unknown = api.get(f"{base}/nope")

    assert [(r["application_id"], r["decision_overdue"]) for r in late["items"]] == [(app_id, True)]
    assert [(i["subject_id"], i["overdue"]) for i in due] == [(app_id, True)]
    assert (no_award.status_code, no_award.json()["code"]) == (422, "invalid_value")
    assert (application["status"], application["decision"]["amount"]) == ("approved", 291)
    assert application["expected_decision_on"] == "2020-02-05"
    assert application["documents"][0]["provided_on"] == "2020-01-10"
    assert theirs == []
    assert (unknown.status_code, unknown.json()["code"]) == (404, "benefit_application_not_found")
