"""The plan and its goals over HTTP, and the current-plan read model."""

from typing import Any

from tests.e2e.http import Api, a_case

PLAN = {
    "title": "Recovery plan",
    "activities": [{"activity": "AA meeting", "cadence": "weekly", "time": "19:00"}],
    "next_review_on": "2027-03-01",
}


def a_plan(api: Api, case_id: str) -> str:
    plan_id: str = api.created(f"/v1/cases/{case_id}/plans", PLAN)["entity_id"]
    api.created(f"/v1/cases/{case_id}/plans/{plan_id}/activate", {})
    return plan_id


def test_a_plan_is_drafted_activated_revised_and_goals_progress(api: Api) -> None:
    _, case_id = a_case(api)
    base = f"/v1/cases/{case_id}"
    plan_id = a_plan(api, case_id)

    api.created(
        f"{base}/plans/{plan_id}/revisions",
        PLAN | {"title": "Recovery plan v2", "reason": "add counselling"},
    )
    goal_id = api.created(
        f"{base}/goals",
        {
            "plan_id": plan_id,
            "description": "90 days sober",
            "need_domain": "therapeutic",
        },
    )["entity_id"]
    api.created(
        f"{base}/goals/{goal_id}/revisions",
        {"description": "90 days without alcohol", "need_domain": "therapeutic"},
    )
    api.created(f"{base}/goals/{goal_id}/lifecycle", {"lifecycle": "active"})
    api.created(
        f"{base}/goals/{goal_id}/progress", {"achievement": "improving", "measured_value": "21"}
    )
    plan: dict[str, Any] = api.get(f"{base}").json()["current_plan"]
    view = api.get(f"{base}/plan").json()

    assert plan["status"] == "active"
    assert plan["version_number"] == 2 and plan["title"] == "Recovery plan v2"
    (goal,) = plan["goals"]
    assert goal["description"] == "90 days without alcohol"
    assert (goal["lifecycle"], goal["achievement"]) == ("active", "improving")
    assert view["plan"]["plan_id"] == plan_id


def test_plan_status_moves_follow_the_lifecycle(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    base = f"/v1/cases/{case_id}/plans"
    plan_id = a_plan(sqlite_api, case_id)

    unsaid = sqlite_api.post(f"{base}/{plan_id}/suspend", {})
    suspended = sqlite_api.post(f"{base}/{plan_id}/suspend", {"reason": "hospital stay"})
    resumed = sqlite_api.post(f"{base}/{plan_id}/resume", {})
    resumed_twice = sqlite_api.post(f"{base}/{plan_id}/resume", {})
    completed = sqlite_api.post(f"{base}/{plan_id}/complete", {})
    revoked = sqlite_api.post(f"{base}/{plan_id}/revoke", {"reason": "x"})
    unknown = sqlite_api.post(f"{base}/{plan_id}/explode", {})

    assert (unsaid.status_code, unsaid.json()["code"]) == (422, "validation_failed")
    assert [e["path"] for e in unsaid.json()["errors"]] == ["reason"]
    assert (suspended.status_code, resumed.status_code, completed.status_code) == (200, 200, 200)
    assert (resumed_twice.status_code, resumed_twice.json()["code"]) == (
        409,
        "invalid_transition",
    )
    assert (revoked.status_code, revoked.json()["code"]) == (404, "plan_not_found")
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["path"] == "path:action"


def test_a_goal_on_a_plan_that_is_not_current_is_refused(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)

    response = sqlite_api.post(
        f"/v1/cases/{case_id}/goals",
        {
            "plan_id": "no-such-plan",
            "description": "x",
            "need_domain": "medical",
        },
    )

    assert response.status_code == 404
    assert response.json()["code"] == "plan_not_found"


def test_a_revoked_plan_can_be_followed_by_a_new_one(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    first = a_plan(sqlite_api, case_id)
    sqlite_api.created(f"/v1/cases/{case_id}/plans/{first}/revoke", {"reason": "wrong focus"})

    second = sqlite_api.post(f"/v1/cases/{case_id}/plans", PLAN | {"title": "New plan"})

    assert second.status_code == 201
    assert sqlite_api.get(f"/v1/cases/{case_id}").json()["current_plan"]["title"] == "New plan"


def test_a_goal_read_answers_the_case_version_as_etag_for_if_match_on_the_goal(
    sqlite_api: Api,
) -> None:
    _, case_id = a_case(sqlite_api)
    base = f"/v1/cases/{case_id}"
    plan_id = a_plan(sqlite_api, case_id)
    goal = {"plan_id": plan_id, "description": "Stable housing", "need_domain": "psycho_social"}
    goal_id = sqlite_api.created(f"{base}/goals", goal)["entity_id"]
    sqlite_api.created(
        f"{base}/notes", {"text": "Visit", "contact_kind": "client", "contact_mode": "phone"}
    )

    read = sqlite_api.get(f"{base}/goals/{goal_id}")
    case_version = sqlite_api.get(base).json()["version"]
    fresh = sqlite_api.post(
        f"{base}/goals/{goal_id}/lifecycle",
        {"lifecycle": "active"},
        headers={"If-Match": read.headers["etag"]},
    )
    stale = sqlite_api.post(
        f"{base}/goals/{goal_id}/lifecycle",
        {"lifecycle": "on-hold"},
        headers={"If-Match": read.headers["etag"]},
    )

    assert read.headers["etag"] == f'"{case_version}"'
    assert fresh.status_code == 200
    assert (stale.status_code, stale.json()["code"]) == (412, "version_mismatch")


def test_plan_reads_answer_the_case_version_they_were_read_from_as_etag(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    base = f"/v1/cases/{case_id}"
    plan_id = a_plan(sqlite_api, case_id)
    sqlite_api.created(f"{base}/plans/{plan_id}/revisions", PLAN | {"reason": "more detail"})
    goal = {"plan_id": plan_id, "description": "Stable housing", "need_domain": "psycho_social"}
    goal_id = sqlite_api.created(f"{base}/goals", goal)["entity_id"]
    sqlite_api.created(f"{base}/goals/{goal_id}/lifecycle", {"lifecycle": "active"})
    recorded = sqlite_api.post(f"{base}/goals/{goal_id}/progress", {"achievement": "improving"})
    progress, reached = recorded.json(), {"X-Min-Position": recorded.headers["x-record-position"]}
    version = sqlite_api.get(base).json()["version"]

    plan = sqlite_api.get(f"{base}/plans/{plan_id}")
    revision = sqlite_api.get(f"{base}/plans/{plan_id}/versions/2")
    entry = sqlite_api.get(f"{base}/goals/{goal_id}/progress/{progress['entity_id']}")
    current = sqlite_api.get(f"{base}/plan", headers=reached)

    assert [r.headers["etag"] for r in (plan, revision, entry)] == [f'"{version}"'] * 3
    # The current plan is the read model's row, which shows the case as of its last
    # change to the plan: here the progress just recorded.
    assert current.headers["etag"] == f'"{progress["version"]}"' == f'"{version}"'


def test_the_current_plan_answers_etag_only_while_there_is_one_and_it_serves_as_if_match(
    sqlite_api: Api,
) -> None:
    _, case_id = a_case(sqlite_api)
    base = f"/v1/cases/{case_id}"
    none = sqlite_api.get(f"{base}/plan")
    drafted = sqlite_api.post(f"{base}/plans", PLAN)
    reached = {"X-Min-Position": drafted.headers["x-record-position"]}

    current = sqlite_api.get(f"{base}/plan", headers=reached)
    plan_id = drafted.json()["entity_id"]
    activated = sqlite_api.post(
        f"{base}/plans/{plan_id}/activate", {}, headers={"If-Match": current.headers["etag"]}
    )

    assert none.json()["plan"] is None and "etag" not in none.headers
    assert current.headers["etag"] == f'"{drafted.json()["version"]}"'
    assert activated.status_code == 200
