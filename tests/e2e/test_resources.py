"""Resources a client can address: every creating POST answers 201 with Location, and
GET of that Location reads what was created; revisions keep what they do not name."""

from typing import Any

from tests.e2e.http import Api, a_case
from tests.e2e.matrix import WRITE_BODIES, fill, seed_agency

# Every operation that creates a record or a part of one. A creating POST that answers 200
# again (or a new one that is not declared 201) fails the test below.
CREATING = {
    "register_client",
    "add_support_contact",
    "open_case",
    "assess_needs",
    "review_prior_treatment",
    "draft_plan",
    "revise_plan",
    "add_goal",
    "record_goal_progress",
    "make_referral",
    "record_note",
    "append_addendum",
    "grant_consent",
    "record_disclosure",
    "create_token",
    "create_task",
    "add_instrument",
    "administer_instrument",
    "add_staff_member",
    "add_care_team_member",
    "request_transfer",
    "start_benefit_application",
    "request_benefit_documents",
    "schedule_benefit_appointment",
    "add_service",
}
DRAFT = "/v1/cases/{case_id}/plans"


def creating_posts(api: Api) -> dict[str, str]:
    """operationId -> path of every POST whose success is 201, from the OpenAPI document."""
    document = api.client.get("/openapi.json").json()
    return {
        operation["operationId"]: path
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method == "post" and "201" in operation["responses"]
    }


def test_the_creating_posts_are_exactly_those_that_create_something(sqlite_api: Api) -> None:
    found = creating_posts(sqlite_api)

    assert set(found) == CREATING
    document = sqlite_api.client.get("/openapi.json").json()
    for operation_id, path in found.items():
        created = document["paths"][path]["post"]["responses"]["201"]
        assert "Location" in created["headers"], operation_id
        assert "200" not in document["paths"][path]["post"]["responses"], operation_id


def test_every_creating_post_answers_201_with_a_location_that_reads_what_it_made(
    api: Api,
) -> None:
    seeded = seed_agency(api, "agency-a", "R")
    paths = sorted(creating_posts(api).values(), key=lambda p: p == DRAFT)  # drafting last
    for template in paths:
        admin = template.startswith(("/v1/tokens", "/v1/instruments", "/v1/staff"))
        # The directory is kept by admins and supervisors.
        keeper = template.startswith("/v1/directory")
        role = "admin" if admin else "supervisor" if keeper else "caseworker"
        if template == DRAFT:  # one current plan at a time: revoke the seeded one first
            plan = api.get(fill(DRAFT + "/{plan_id}", seeded.ids)).json()
            goals = {
                g["goal_id"]: "no-longer-relevant"
                for g in plan["goals"]
                if g["lifecycle"] in ("proposed", "active", "on-hold")
            }
            revoke = fill(DRAFT + "/{plan_id}/revoke", seeded.ids)
            api.created(revoke, {"reason": "replaced", "goals": goals})
        path = fill(template, seeded.ids)

        response = api.post(path, fill(WRITE_BODIES[template], seeded.ids), role=role)

        assert response.status_code == 201, f"{template}: {response.text}"
        location = response.headers["location"]
        assert location.startswith(path.rsplit("/", 1)[0] if "revisions" in path else path)
        made = response.json().get("entity_id") or response.json().get("token_id")
        made = made or response.json()["id"]
        assert location.rsplit("/", 1)[1] == str(made), template
        read = api.get(location, role=role)
        assert read.status_code == 200, f"{template} -> {location}: {read.text}"
        assert "x-position" in read.headers, location


def test_created_parts_read_back_what_was_written(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    base = f"/v1/cases/{case_id}"
    note = sqlite_api.post(
        f"{base}/notes", {"text": "Home visit", "contact_kind": "client", "contact_mode": "phone"}
    )
    addendum = sqlite_api.post(
        f"{note.headers['location']}/addenda", {"text": "Landlord called back"}
    )
    referral = sqlite_api.post(
        f"{base}/referrals",
        {"resource_kind": "housing", "organisation": "Harbour", "service_name": "Rooms"},
    )
    referral_id = referral.json()["entity_id"]
    sqlite_api.created(f"{base}/referrals/{referral_id}/acceptance", {})

    read_note = sqlite_api.get(note.headers["location"]).json()
    read_addendum = sqlite_api.get(addendum.headers["location"]).json()
    read_referral = sqlite_api.get(referral.headers["location"]).json()

    assert read_note["text"] == "Home visit"
    assert [a["text"] for a in read_note["addenda"]] == ["Landlord called back"]
    assert read_addendum["version"] == int(addendum.json()["entity_id"])
    assert [s["value"] for s in read_referral["status_history"]] == ["sent", "accepted"]
    elsewhere = sqlite_api.get(note.headers["location"], agency="agency-b")
    assert elsewhere.status_code == 404


def test_a_replayed_creating_post_answers_the_same_201_and_location(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    key = {"Idempotency-Key": "goal-progress-1"}
    body = {"text": "Phoned", "contact_kind": "client", "contact_mode": "phone"}

    first = sqlite_api.post(f"/v1/cases/{case_id}/notes", body, headers=key)
    again = sqlite_api.post(f"/v1/cases/{case_id}/notes", body, headers=key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"


def plan_with_goal(api: Api) -> tuple[str, str, str]:
    _, case_id = a_case(api)
    base = f"/v1/cases/{case_id}"
    plan = {
        "title": "Recovery plan",
        "activities": [{"activity": "AA meeting", "cadence": "weekly"}],
        "next_review_on": "2027-03-01",
    }
    plan_id = api.created(f"{base}/plans", plan)["entity_id"]
    goal = {
        "plan_id": plan_id,
        "description": "90 days sober",
        "need_domain": "therapeutic",
        "target_measure": "days",
        "due_on": "2027-06-01",
    }
    goal_id = api.created(f"{base}/goals", goal)["entity_id"]
    return base, plan_id, goal_id


def test_a_plan_revision_keeps_what_it_does_not_name_and_clears_what_is_null(
    sqlite_api: Api,
) -> None:
    base, plan_id, _ = plan_with_goal(sqlite_api)

    retitled = sqlite_api.post(
        f"{base}/plans/{plan_id}/revisions", {"title": "Recovery plan v2", "reason": "renamed"}
    )
    cleared = sqlite_api.post(
        f"{base}/plans/{plan_id}/revisions", {"next_review_on": None, "reason": "no date yet"}
    )

    assert retitled.headers["location"] == f"{base}/plans/{plan_id}/versions/2"
    v2: dict[str, Any] = sqlite_api.get(retitled.headers["location"]).json()
    assert v2["title"] == "Recovery plan v2"
    assert v2["activities"] == [
        {"activity": "AA meeting", "cadence": "weekly", "time": "", "notes": ""}
    ]
    assert v2["next_review_on"] == "2027-03-01"
    v3 = sqlite_api.get(cleared.headers["location"]).json()
    assert (v3["title"], v3["next_review_on"]) == ("Recovery plan v2", None)
    assert v3["activities"] == v2["activities"]


def test_a_goal_revision_keeps_its_due_date_unless_told_to_clear_it(sqlite_api: Api) -> None:
    base, _, goal_id = plan_with_goal(sqlite_api)

    sqlite_api.created(f"{base}/goals/{goal_id}/revisions", {"description": "120 days sober"})
    kept = sqlite_api.get(f"{base}/goals/{goal_id}").json()
    sqlite_api.created(f"{base}/goals/{goal_id}/revisions", {"due_on": None})
    cleared = sqlite_api.get(f"{base}/goals/{goal_id}").json()

    assert (kept["description"], kept["due_on"], kept["target_measure"]) == (
        "120 days sober",
        "2027-06-01",
        "days",
    )
    assert (cleared["description"], cleared["due_on"]) == ("120 days sober", None)


def test_a_revision_that_names_nothing_or_nulls_a_required_field_is_refused(
    sqlite_api: Api,
) -> None:
    base, plan_id, goal_id = plan_with_goal(sqlite_api)

    empty = sqlite_api.post(f"{base}/goals/{goal_id}/revisions", {})
    untitled = sqlite_api.post(
        f"{base}/plans/{plan_id}/revisions", {"title": None, "reason": "oops"}
    )
    unreasoned = sqlite_api.post(f"{base}/plans/{plan_id}/revisions", {"title": "v2"})

    assert empty.status_code == 422
    assert [e["path"] for e in untitled.json()["errors"]] == ["title"]
    assert [e["path"] for e in unreasoned.json()["errors"]] == ["reason"]


def test_required_reasons_are_required_in_the_openapi_schemas(sqlite_api: Api) -> None:
    document = sqlite_api.client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    reasoned = [
        ("/v1/cases/{case_id}/closure", "post"),
        ("/v1/cases/{case_id}/reopening", "post"),
        ("/v1/cases/{case_id}/assignment", "post"),
        ("/v1/cases/{case_id}/corrections", "post"),
        ("/v1/cases/{case_id}/plans/{plan_id}/revisions", "post"),
        ("/v1/cases/{case_id}/plans/{plan_id}/suspend", "post"),
        ("/v1/cases/{case_id}/plans/{plan_id}/revoke", "post"),
        ("/v1/cases/{case_id}/referrals/{referral_id}/decline", "post"),
        ("/v1/cases/{case_id}/referrals/{referral_id}/withdrawal", "post"),
        ("/v1/clients/{client_id}/corrections", "post"),
        ("/v1/clients/{client_id}/support-contacts/{contact_id}/removal", "post"),
    ]
    for path, method in reasoned:
        body = document["paths"][path][method]["requestBody"]["content"]["application/json"]
        schema = schemas[body["schema"]["$ref"].rsplit("/", 1)[1]]
        assert "reason" in schema["required"], path
        assert schema["properties"]["reason"]["minLength"] == 1, path
