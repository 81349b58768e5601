"""The staff directory and identity over HTTP: admins keep the directory, tokens act for a
staff member, and once an agency has a directory every request names a person."""

from tests.e2e.http import (
    Api,
    a_case,
    add_staff,
    caseworker_of,
    staff_the_agency,
    staff_token,
)


def test_an_admin_keeps_the_directory_and_every_token_then_acts_for_a_person(
    api: Api,
) -> None:
    legacy = api.get("/v1/me").json()
    assert (legacy["actor_id"], legacy["staff"]) == ("caseworker@agency-a", None)
    client_id, case_id = a_case(api)

    add_staff(api, "cm-alice")
    add_staff(api, "sup-bo", role="supervisor")
    listed = api.get("/v1/staff", role="admin", limit=1)
    assert [m["staff_id"] for m in listed.json()["items"]] == ["cm-alice"]
    second = api.get("/v1/staff", role="admin", cursor=listed.json()["next"]).json()
    assert [m["staff_id"] for m in second["items"]] == ["sup-bo"]
    nurse = {"staff_id": "x", "name": "X", "role": "nurse"}
    assert api.post("/v1/staff", nurse, role="supervisor").status_code == 403

    # A token that names no one is refused now; the admin's own still works (bootstrap).
    refused = api.get(f"/v1/cases/{case_id}")
    assert (refused.status_code, refused.json()["code"]) == (403, "token_not_bound")
    alice = staff_token(api, "cm-alice", "caseworker")
    me = api.get("/v1/me", role=alice).json()
    assert (me["actor_id"], me["staff"]["name"], me["service_account"]) == (
        "cm-alice",
        "Cm-Alice",
        False,
    )

    # Assignment checks the directory.
    bo = staff_token(api, "sup-bo", "supervisor")
    unknown = api.post(
        f"/v1/cases/{case_id}/assignment", {"case_manager_id": "cm-zed", "reason": "x"}, role=bo
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "staff_not_found")
    api.created(
        f"/v1/cases/{case_id}/assignment",
        {"case_manager_id": "cm-alice", "reason": "new caseload"},
        role=bo,
    )
    history = api.get(f"/v1/cases/{case_id}/timeline", role=bo).json()["items"]
    assert history[-1]["actor"]["id"] == "sup-bo"

    # A service account acts for the staff member each request names.
    robot = staff_token(api, None, "caseworker", service_account=True)
    missing = api.get(f"/v1/clients/{client_id}", role=robot)
    assert (missing.status_code, missing.json()["code"]) == (422, "on_behalf_of_required")
    as_alice = {"X-On-Behalf-Of": "cm-alice"}
    assert api.get("/v1/me", role=robot, headers=as_alice).json()["actor_id"] == "cm-alice"

    # Deactivation stops the member's tokens and the service account acting for them.
    api.created("/v1/staff/cm-alice/deactivation", {"reason": "left"}, role="admin")
    assert api.get("/v1/me", role=alice).json()["code"] == "staff_inactive"
    assert api.get("/v1/me", role=robot, headers=as_alice).status_code == 403
    assert api.get("/v1/staff/cm-alice", role=bo).json()["active"] is False


def test_a_case_gains_a_care_team_and_is_handed_over_by_a_transfer(api: Api) -> None:
    _, case_id = a_case(api)
    staff_the_agency(api, extra=("cm-alice", "rn-sam"))
    base = f"/v1/cases/{case_id}"
    nurse = {"role": "nurse", "staff_id": "rn-sam", "starts_on": "2026-03-01"}
    member_id = api.created(f"{base}/care-team", nurse)["entity_id"]
    outsider = {"role": "school_counsellor", "name": "Jo Park", "organisation": "Hill School"}
    outsider["starts_on"] = "2026-01-05"
    api.created(f"{base}/care-team", outsider)
    unknown = api.post(f"{base}/care-team", {"role": "nurse", "staff_id": "rn-zed"})
    assert (unknown.status_code, unknown.json()["code"]) == (422, "staff_not_found")

    handoff = {"to_staff_id": "cm-alice", "handoff_summary": "Court date 3 May; calls weekly"}
    transfer_id = api.created(f"{base}/transfers", handoff)["entity_id"]
    pending = api.get(base).json()
    assert (pending["case_manager_id"], pending["pending_transfer"]["to_staff_id"]) == (
        caseworker_of("agency-a"),
        "cm-alice",
    )
    not_theirs = api.post(f"{base}/transfers/{transfer_id}/acceptance", {})
    assert (not_theirs.status_code, not_theirs.json()["code"]) == (403, "not_the_receiver")
    alice = staff_token(api, "cm-alice", "caseworker")
    accepted = api.post(f"{base}/transfers/{transfer_id}/acceptance", {}, role=alice)
    assert accepted.status_code == 200, accepted.text
    # Another token's write: the view is read once it has reached it.
    reached = {"X-Min-Position": accepted.headers["X-Record-Position"]}

    case = api.get(base).json()
    assert (case["case_manager_id"], case["pending_transfer"]) == ("cm-alice", None)
    assert [m["name"] for m in case["care_team"]] == ["Rn-Sam", "Jo Park"]
    caseload = api.get("/v1/caseloads", case_manager_id="cm-alice", headers=reached).json()
    assert caseload["items"][0]["case_id"] == case_id
    ended = {"reason": "rotated", "ends_on": "2026-04-30"}
    api.created(f"{base}/care-team/{member_id}/end", ended, role=alice)  # her case now
    on_team = api.get(f"{base}/care-team", on="2026-05-01").json()["items"]
    assert [m["name"] for m in on_team] == ["Jo Park"]
    summaries = [e["summary"] for e in api.get(f"{base}/timeline").json()["items"]]
    assert "Transfer to cm-alice requested" in summaries


def test_a_task_goes_only_to_an_active_member_of_the_directory_once_the_agency_has_one(
    api: Api,
) -> None:
    _, case_id = a_case(api)
    staff_the_agency(api, extra=("cm-alice",))
    tasks = f"/v1/cases/{case_id}/tasks"
    task = {"title": "Call the landlord", "owner_id": "cm-alice", "due_on": "2026-06-01"}
    task_id = api.created(tasks, task)["entity_id"]

    unknown = api.post(tasks, task | {"owner_id": "cm-zed"})
    reassigned = api.post(f"{tasks}/{task_id}/reassignment", {"owner_id": "cm-zed"})

    assert (unknown.status_code, unknown.json()["code"]) == (422, "staff_not_found")
    assert (reassigned.status_code, reassigned.json()["code"]) == (422, "staff_not_found")
    assert api.get(f"{tasks}/{task_id}").json()["owner_id"] == "cm-alice"


def test_a_staff_members_write_names_them_in_entity_id_as_the_schema_says(api: Api) -> None:
    body = {"staff_id": "cm-alice", "name": "Alice", "role": "case_manager"}

    added = api.post("/v1/staff", body, role="admin")

    assert added.json()["entity_id"] == "cm-alice"
    assert added.headers["Location"] == "/v1/staff/cm-alice"
    assert api.get(f"/v1/staff/{added.json()['id']}", role="admin").status_code == 404
    schema = api.get("/openapi.json").json()["components"]["schemas"]["CommandOut"]
    assert "`entity_id` names them" in schema["properties"]["id"]["description"]
    assert "staff id" in schema["properties"]["entity_id"]["description"]
