"""Standardized assessments over HTTP: the registry, scoring, refusals naming the item,
a client's trend, a goal targeting a score, and the safety flag due at once."""

from tests.e2e.http import Api, a_case


def phq9(*values: int) -> dict[str, int]:
    return {str(i + 1): v for i, v in enumerate(values)}


def test_phq_9_twice_with_a_falling_score_moves_a_goal_and_item_9_is_due_at_once(
    api: Api,
) -> None:
    client_id, case_id = a_case(api)
    base = f"/v1/cases/{case_id}"
    plan_id = api.created(f"{base}/plans", {"title": "Mood", "activities": []})["entity_id"]
    goal_id = api.created(
        f"{base}/goals",
        {"plan_id": plan_id, "description": "Less depressed", "need_domain": "psychiatric",
         "target_instrument": "phq-9", "target_score": 10, "direction": "below"},
    )["entity_id"]  # fmt: skip

    given = {"instrument": "phq-9", "respondent": "client"}
    scored = f"{base}/scored-assessments"
    first = api.created(scored, given | {"responses": phq9(3, 3, 2, 2, 2, 1, 1, 0, 0)})
    incomplete = api.post(scored, given | {"responses": phq9(1, 1, 1, 1)})
    second = api.created(scored, given | {"responses": phq9(1, 1, 1, 0, 0, 0, 0, 0, 1)})
    due = api.get("/v1/safety-flags").json()["items"]
    trend = api.get(f"/v1/clients/{client_id}/scores", instrument="phq-9").json()
    goal = api.get(f"{base}/goals/{goal_id}").json()
    read = api.get(f"{base}/scored-assessments/{first['entity_id']}").json()

    assert (incomplete.status_code, incomplete.json()["code"]) == (422, "invalid_response")
    assert incomplete.json()["item"] == "5"
    assert (read["total"], read["band"], read["definition_version"]) == (14, "moderate", 1)
    assert [(r["total"], r["band"]) for r in trend["items"]] == [(14, "moderate"), (4, "minimal")]
    assert [(s["total"], s["met"]) for s in goal["scores"]] == [(14, False), (4, True)]
    assert [(f["case_id"], f["version"], f["flags"]) for f in due] == [
        (case_id, second["version"], ["self-harm-thoughts"])
    ]
    assert api.get(f"/v1/cases/{case_id}").json()["safety_flags"][0]["version"] == second["version"]

    reviewed = api.post(
        f"{base}/safety-flags/{second['version']}/review", {"note": "Safety plan agreed."}
    )

    assert reviewed.status_code == 200
    assert api.get("/v1/safety-flags").json()["items"] == []
    assert api.get("/v1/safety-flags", agency="agency-b").json()["items"] == []


def test_an_admin_adds_a_definition_that_readers_see_and_a_broken_one_is_refused(
    sqlite_api: Api,
) -> None:
    options = [{"value": v, "label": str(v)} for v in (0, 1)]
    definition = {
        "code": "sleep-2", "version": 1, "title": "Sleep", "scoring": {"method": "sum"},
        "items": [{"id": i, "text": i, "options": options} for i in ("a", "b")],
    }  # fmt: skip

    added = sqlite_api.post("/v1/instruments", {"definition": definition}, role="admin")
    broken = sqlite_api.post(
        "/v1/instruments", {"definition": definition | {"scoring": {"method": "x"}}}, role="admin"
    )
    again = sqlite_api.post("/v1/instruments", {"definition": definition}, role="admin")
    by_worker = sqlite_api.post("/v1/instruments", {"definition": definition})
    listed = sqlite_api.get("/v1/instruments", limit=3).json()

    assert (added.status_code, added.headers["location"]) == (201, "/v1/instruments/sleep-2")
    assert (broken.status_code, broken.json()["code"]) == (422, "invalid_instrument_definition")
    assert (again.status_code, again.json()["code"]) == (409, "duplicate_id")
    assert by_worker.status_code == 403
    assert [i["code"] for i in listed["items"]] == ["asam", "audit-c", "dast-10"]
    found = sqlite_api.get("/v1/instruments/sleep-2").json()
    assert (found["origin"], found["versions"][0]["title"]) == ("agency", "Sleep")
    assert sqlite_api.get("/v1/instruments/sleep-2", agency="agency-b").status_code == 404
