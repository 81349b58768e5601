"""Contacts over HTTP: participants of every kind, consent of the support network, the
goals and referrals a note concerns, and the caseload's last contact with the client."""

from tests.e2e.http import Api, a_case, caseworker_of


def test_a_multi_participant_contact_shows_on_the_goal_and_in_the_caseload(api: Api) -> None:
    client_id, case_id = a_case(api)
    sister = api.created(
        f"/v1/clients/{client_id}/support-contacts", {"name": "Rosa", "relationship": "family"}
    )["entity_id"]
    plan_id = api.created(f"/v1/cases/{case_id}/plans", {"title": "Plan"})["entity_id"]
    goal_id = api.created(
        f"/v1/cases/{case_id}/goals",
        {"plan_id": plan_id, "description": "Stay sober", "need_domain": "therapeutic"},
    )["entity_id"]
    body = {
        "text": "Family meeting.",
        "contact_mode": "in_person",
        "participants": {
            "client": True,
            "support_contact_ids": [sister],
            "providers": [{"name": "Dr Okafor", "organisation": "St Mary's"}],
            "staff_ids": ["nurse-2"],
        },
        "location": "Office",
        "duration_minutes": 50,
        "goal_ids": [goal_id],
    }

    note_id = api.created(f"/v1/cases/{case_id}/notes", body)["entity_id"]
    api.created(
        f"/v1/cases/{case_id}/notes",
        {"text": "GP called back.", "contact_mode": "phone", "contact_kind": "provider"},
    )

    goal = api.get(f"/v1/cases/{case_id}/goals/{goal_id}").json()
    listed = api.get(f"/v1/cases/{case_id}/notes", goal_id=goal_id).json()["items"]
    assert [n["note_id"] for n in goal["notes"]] == [note_id]
    assert [n["note_id"] for n in listed] == [note_id]
    assert goal["notes"][0]["participants"]["support_contact_ids"] == [sister]
    assert goal["notes"][0]["duration_minutes"] == 50
    [row] = api.get("/v1/caseloads", case_manager_id=caseworker_of("agency-a")).json()["items"]
    assert row["last_contact_at"] == goal["notes"][0]["effective_at"]


def test_a_support_contact_who_may_not_be_contacted_is_a_409_that_names_them(
    sqlite_api: Api,
) -> None:
    client_id, case_id = a_case(sqlite_api)
    father = sqlite_api.created(
        f"/v1/clients/{client_id}/support-contacts",
        {"name": "Luis", "relationship": "family", "may_contact": False},
    )["entity_id"]

    response = sqlite_api.post(
        f"/v1/cases/{case_id}/notes",
        {
            "text": "Called",
            "contact_mode": "phone",
            "participants": {"support_contact_ids": [father]},
        },
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "contact_not_permitted"
    assert "Luis" in problem["detail"] and "may not be contacted" in problem["detail"]
    assert (problem["contact_id"], problem["name"]) == (father, "Luis")
