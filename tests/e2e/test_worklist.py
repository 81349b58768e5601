"""The worklist over HTTP: tasks, plan reviews and goals due, read by the caseworker and a
supervisor, until closing the case leaves nothing overdue."""

from datetime import UTC, datetime, timedelta

from tests.e2e.http import Api, a_case

ME = "caseworker@agency-a"  # the staff id of the caseworker's token (its name)


def test_a_worklist_shows_what_is_due_until_the_case_closes(api: Api) -> None:
    today = datetime.now(UTC).date()
    client_id, case_id = a_case(api)
    base = f"/v1/cases/{case_id}"
    plan_id = api.created(
        f"{base}/plans",
        {"title": "Recovery plan", "next_review_on": str(today - timedelta(days=3))},
    )["entity_id"]
    api.created(f"{base}/plans/{plan_id}/activate", {})
    goal_id = api.created(
        f"{base}/goals",
        {
            "plan_id": plan_id,
            "description": "Stay sober",
            "need_domain": "therapeutic",
            "due_on": str(today + timedelta(days=1)),
            "priority": "high",
            "need": "alcohol use",
            "measure": {"kind": "value", "baseline": 0, "target": 90, "unit": "sober days"},
        },
    )["entity_id"]
    api.created(f"{base}/goals/{goal_id}/lifecycle", {"lifecycle": "active"})
    task_id = api.created(
        f"{base}/tasks",
        {
            "title": "Call the housing office",
            "owner_id": ME,
            "due_on": str(today),
            "concerns": "goal",
            "concerns_id": goal_id,
        },
    )["entity_id"]

    mine = api.get("/v1/worklist", kind=["plan_review", "goal_due", "task"]).json()
    by_kind = {i["kind"]: i for i in mine["items"]}
    assert mine["staff_id"] == ME
    assert [i["kind"] for i in mine["items"]] == ["plan_review", "task", "goal_due"]
    assert by_kind["plan_review"]["overdue"] is True
    assert by_kind["goal_due"]["overdue"] is False
    assert by_kind["goal_due"]["days_until_due"] == 1
    assert by_kind["goal_due"]["link"] == f"{base}/goals/{goal_id}"
    assert by_kind["task"]["link"] == f"{base}/tasks/{task_id}"
    assert by_kind["task"]["client_id"] == client_id
    assert api.get("/v1/worklist", staff_id="someone-else").status_code == 403
    theirs = api.get("/v1/worklist", staff_id=ME, role="supervisor").json()
    assert len(theirs["items"]) >= 3
    summary = api.get("/v1/worklist/summary", role="supervisor").json()["items"]
    assert {s["staff_id"]: s["overdue"] for s in summary}[ME] >= 1

    api.created(
        f"{base}/plans/{plan_id}/reviews",
        {
            "outcome": "continue",
            "attendees": [ME, "client"],
            "client_participated": True,
            "client_agreed": True,
            "next_review_on": str(today + timedelta(days=90)),
        },
    )
    api.created(f"{base}/tasks/{task_id}/completion", {"outcome": "on the list"})
    after = api.get("/v1/worklist", kind=["plan_review", "task"]).json()["items"]
    assert [(i["kind"], i["overdue"]) for i in after] == [("plan_review", False)]
    plan = api.get(f"{base}/plans/{plan_id}").json()
    assert (plan["version_number"], len(plan["reviews"])) == (1, 1)
    assert plan["next_review_on"] == str(today + timedelta(days=90))

    api.created(
        f"{base}/closure",
        {"outcome": "goals partly met", "reason": "client moved away"},
        role="supervisor",
    )
    # Read as the supervisor who closed it: read-your-writes holds for the writer's token.
    closed = api.get("/v1/worklist", staff_id=ME, role="supervisor").json()["items"]
    assert closed and all(i["kind"] == "left_open" for i in closed)
    assert not any(i["overdue"] for i in closed)


def test_ending_a_plan_and_closing_a_case_settle_what_is_open(api: Api) -> None:
    _, case_id = a_case(api)
    base = f"/v1/cases/{case_id}"
    plan_id = api.created(f"{base}/plans", {"title": "Plan"})["entity_id"]
    api.created(f"{base}/plans/{plan_id}/activate", {})
    goal = {"plan_id": plan_id, "description": "Walk daily", "need_domain": "medical"}
    goal_id = api.created(f"{base}/goals", goal)["entity_id"]
    referral_id = api.created(
        f"{base}/referrals",
        {"resource_kind": "housing", "organisation": "Harbour", "service_name": "Rooms"},
    )["entity_id"]

    unsettled = api.post(f"{base}/plans/{plan_id}/complete", {})
    api.created(f"{base}/plans/{plan_id}/complete", {"goals": {goal_id: "carried-over"}})
    next_plan = api.created(f"{base}/plans", {"title": "Next plan"})["entity_id"]
    refused = api.post(f"{base}/closure", {"outcome": "done", "reason": "moved"}, role="supervisor")
    api.created(
        f"{base}/closure",
        {
            "outcome": "done",
            "reason": "moved",
            "referrals": {referral_id: {"settlement": "withdraw"}},
        },
        role="supervisor",
    )

    assert unsettled.status_code == 409
    assert unsettled.json()["code"] == "goals_not_settled"
    assert unsettled.json()["goal_ids"] == [goal_id]
    assert api.get(f"{base}/goals/{goal_id}").json()["plan_id"] == next_plan
    assert refused.status_code == 409
    assert refused.json()["referral_ids"] == [referral_id]
    referral = api.get(f"{base}/referrals/{referral_id}").json()
    assert referral["status"] == "withdrawn"
    timeline = [e["summary"] for e in api.get(f"{base}/timeline").json()["items"]]
    assert f"Goal {goal_id[:8]} settled: carried-over" in timeline
