"""Consent and disclosures over HTTP: a Part 2 consent, referrals checked against it, the
break-glass override, revocation, the accounting (JSON and CSV), and who on staff reads
the Part 2 case: redacted outside its team, a psychotherapy note hidden, a break-glass
read logged."""

import csv
import io

from caserecord.domain.consent import REDISCLOSURE_NOTICE, form_hash
from tests.e2e.http import Api, a_case, staff_the_agency, staff_token

CLINIC = "Bayview Clinic"


def test_referrals_are_disclosed_under_consent_refused_without_it_and_accounted_for(
    sqlite_api: Api,
) -> None:
    api = sqlite_api
    staff_the_agency(api)
    outsider = staff_token(api, "worker-9", "caseworker")  # not on this case's team
    client_id, case_id = a_case(api, specialty="substance_abuse")
    granted = api.created(
        f"/v1/clients/{client_id}/consents",
        {
            "recipient_kind": "organisation",
            "recipient": CLINIC,
            "purpose": "treatment",
            "data": ["substance_use"],
            "form_sha256": form_hash(b"signed form"),
            "expires_on": "2099-12-31",
        },
    )
    consent_id = granted["entity_id"]
    referral = {"resource_kind": "medical", "organisation": CLINIC, "service_name": "MAT"}

    sent = api.post(f"/v1/cases/{case_id}/referrals", referral)
    refused = api.post(
        f"/v1/cases/{case_id}/referrals", referral | {"organisation": "Housing First"}
    )
    override = {"basis": "medical_emergency", "reason": "overdose in the office"}
    by_worker = api.post(f"/v1/cases/{case_id}/referrals", referral | override)
    by_supervisor = api.post(
        f"/v1/cases/{case_id}/referrals",
        referral | override | {"organisation": "County ER"},
        role="supervisor",
    )
    revoked = api.post(f"/v1/clients/{client_id}/consents/{consent_id}/revocation", {})
    after = api.post(f"/v1/cases/{case_id}/referrals", referral)
    accounting = api.get(f"/v1/clients/{client_id}/disclosures")
    as_csv = api.get(f"/v1/clients/{client_id}/disclosures", format="csv")
    # The reviewer wrote nothing of its own to wait for: it reads at the writers' position.
    head = api.client.app.state.runtime.records.recorder.max_notification_id()  # type: ignore[attr-defined]
    reached = {"X-Min-Position": str(head)}
    glass = api.get("/v1/break-glass", role="compliance_reviewer", headers=reached)
    in_force = api.get(f"/v1/clients/{client_id}/consents")
    visit = {"text": "Cravings down since the clinic.", "contact_mode": "in_person"}
    api.created(f"/v1/cases/{case_id}/notes", visit)
    session = visit | {"text": "Session: grief work.", "labels": ["psychotherapy_notes"]}
    therapy = api.created(f"/v1/cases/{case_id}/notes", session)["entity_id"]
    seen_outside = api.get(f"/v1/cases/{case_id}", role=outsider)
    therapy_outside = api.get(f"/v1/cases/{case_id}/notes/{therapy}", role=outsider)
    crisis = {"minutes": 30, "reason": "client in crisis, manager away"}
    broken = api.post(f"/v1/cases/{case_id}/break-glass", crisis, role=outsider)
    api.get(f"/v1/cases/{case_id}", role=outsider)
    log = api.get(f"/v1/clients/{client_id}/access-log", role="compliance_reviewer")

    assert sent.status_code == 201, sent.text
    disclosure = sent.json()["disclosure"]
    assert (disclosure["basis"], disclosure["consent_id"]) == ("consent", consent_id)
    assert disclosure["consent_version"] == 1
    assert disclosure["notice"] == REDISCLOSURE_NOTICE
    assert refused.status_code == 409
    assert refused.json()["code"] == "consent_required"
    assert refused.json()["classes_needing_consent"] == ["substance_use"]
    assert by_worker.status_code == 403 and by_worker.json()["code"] == "override_not_allowed"
    assert by_supervisor.status_code == 201, by_supervisor.text
    assert by_supervisor.json()["disclosure"]["emergency"] is True
    assert revoked.status_code == 200, revoked.text
    assert [r["recipient"] for r in revoked.json()["disclosed_to"]] == [CLINIC]
    assert after.status_code == 409 and after.json()["code"] == "consent_required"
    rows = accounting.json()["items"]
    assert [(r["recipient"], r["basis"]) for r in rows] == [
        (CLINIC, "consent"),
        ("County ER", "medical_emergency"),
    ]
    assert rows[0]["consent"]["status"] == "active" and rows[0]["consent"]["version"] == 1
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert [(r["recipient"], r["consent_version"]) for r in table] == [
        (CLINIC, "1"),
        ("County ER", ""),
    ]
    assert [g["recipient"] for g in glass.json()["items"]] == ["County ER"]
    assert in_force.json()["items"] == []
    referrals = api.get(f"/v1/cases/{case_id}/referrals").json()["items"]
    assert len(referrals) == 2  # the refused ones were never recorded
    # A caseworker outside the care team sees the case, its Part 2 entries redacted.
    case = seen_outside.json()
    assert seen_outside.status_code == 200 and case["read_basis"] == "other"
    assert {n["restricted"] for n in case["notes"]} == {True}
    assert "Cravings" not in seen_outside.text and "grief" not in seen_outside.text
    assert therapy_outside.status_code == 404
    assert broken.status_code == 200, broken.text
    reads = [(e["basis"], e["break_glass_reason"]) for e in log.json()["items"]]
    assert ("break_glass", "client in crisis, manager away") in reads


def test_a_case_export_for_an_outside_party_is_a_disclosure_checked_like_a_referral(
    sqlite_api: Api,
) -> None:
    api = sqlite_api
    client_id, case_id = a_case(api, specialty="mental_health")
    export = {"recipient_kind": "person", "recipient": "Judge Amari", "purpose": "court"}

    refused = api.post(f"/v1/cases/{case_id}/exports", export, role="supervisor")
    ordered = api.post(
        f"/v1/cases/{case_id}/exports",
        export | {"basis": "court_order", "order_reference": "2026-FC-118", "reason": "order"},
        role="supervisor",
    )

    assert refused.status_code == 409 and refused.json()["code"] == "consent_required"
    assert ordered.status_code == 200, ordered.text
    body = ordered.json()
    assert body["disclosure"]["channel"] == "export"
    assert body["disclosure"]["data_classes"] == ["mental_health"]
    assert body["case"]["id"] == case_id and body["case"]["version"] == 1
    assert body["id"] == client_id  # the record that holds the disclosure
    rows = api.get(f"/v1/clients/{client_id}/disclosures").json()["items"]
    assert [(r["basis"], r["order_reference"]) for r in rows] == [("court_order", "2026-FC-118")]


def test_an_export_carries_what_its_disclosure_lists_and_nothing_the_exporter_cannot_read(
    sqlite_api: Api,
) -> None:
    api = sqlite_api
    client_id, case_id = a_case(api, specialty="substance_abuse")
    note = {"contact_mode": "in_person", "contact_kind": "client"}
    api.created(f"/v1/cases/{case_id}/notes", note | {"text": "Relapse plan."})
    api.created(f"/v1/cases/{case_id}/notes", note | {"text": "Viral load.", "labels": ["hiv"]})
    api.created(
        f"/v1/cases/{case_id}/notes",
        note | {"text": "Session content.", "labels": ["psychotherapy_notes"]},
    )
    api.created(
        f"/v1/clients/{client_id}/consents",
        {
            "recipient_kind": "organisation",
            "recipient": CLINIC,
            "purpose": "treatment",
            "data": ["substance_use"],
            "form_sha256": form_hash(b"signed form"),
            "expires_on": "2099-12-31",
        },
    )
    export = {"recipient_kind": "organisation", "recipient": CLINIC, "purpose": "treatment"}

    whole = api.post(f"/v1/cases/{case_id}/exports", export, role="supervisor")
    narrowed = api.post(
        f"/v1/cases/{case_id}/exports", export | {"shares": ["substance_use"]}, role="supervisor"
    )

    assert whole.status_code == 409, whole.text
    assert whole.json()["classes_needing_consent"] == ["substance_use", "hiv"]
    assert narrowed.status_code == 200, narrowed.text
    body = narrowed.json()
    disclosure = body["disclosure"]
    left = [e["version"] for e in disclosure["entries_disclosed"] if e["kind"] == "case_entry"]
    assert disclosure["data_classes"] == ["substance_use"]
    assert disclosure["notice"] == REDISCLOSURE_NOTICE
    assert left == [1, 2] and body["withheld"] == [3, 4]
    assert [n["version"] for n in body["case"]["notes"]] == [2]
    assert body["case"]["labels"] == ["substance_use"] and body["case"]["entry_labels"] == {}
    assert "Viral load." not in narrowed.text and "Session content." not in narrowed.text
    rows = api.get(f"/v1/clients/{client_id}/disclosures", format="csv").text
    assert f"{case_id}@1 {case_id}@2" in rows and f"{case_id}@3" not in rows


def test_a_consent_without_an_expiry_is_refused_and_its_schema_says_one_is_required(
    api: Api,
) -> None:
    client_id, _ = a_case(api)
    grant = {
        "recipient_kind": "organisation",
        "recipient": CLINIC,
        "purpose": "treatment",
        "data": ["substance_use"],
        "form_sha256": form_hash(b"signed form"),
    }

    refused = api.post(f"/v1/clients/{client_id}/consents", grant)

    assert (refused.status_code, refused.json()["code"]) == (422, "invalid_value")
    schema = api.get("/openapi.json").json()["components"]["schemas"]["ConsentIn"]
    assert "`expires_on` or `expires_on_event`" in schema["description"]
