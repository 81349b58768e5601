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


def test_a_step_entered_in_error_is_marked_with_a_reason_and_shown_as_such(api: Api) -> None:
    _, case_id = a_case(api)
    base = f"/v1/cases/{case_id}/benefit-applications"
    snap = {"program": "snap", "agency_name": "County DSS", "submitted_on": "2020-01-06"}
    one = f"{base}/{api.created(base, snap)['entity_id']}"
    requested = api.created(f"{one}/documents-requests", {"documents": ["pay stubs"]})
    marks = f"{one}/steps-in-error"

    no_reason = api.post(marks, {"target_version": requested["version"]})
    not_a_step = api.post(marks, {"target_version": 1, "reason": "the intake"})
    marked = api.post(marks, {"target_version": requested["version"], "reason": "duplicate"})
    again = api.post(marks, {"target_version": requested["version"], "reason": "duplicate"})
    application = api.get(one).json()
    timeline = api.get(f"/v1/cases/{case_id}/timeline", limit=100).json()["items"]
    shown = [e for e in timeline if e["event_type"] == "BenefitDocumentsRequested"]

    assert (no_reason.status_code, not_a_step.status_code) == (422, 404)
    assert marked.status_code == 200
    assert (again.status_code, again.json()["code"]) == (409, "already_in_error")
    assert application["documents"][0]["in_error"] is True
    assert [(e["in_error"], e["marked_in_error_by"]) for e in shown] == [
        (True, marked.json()["version"])
    ]
