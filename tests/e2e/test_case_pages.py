"""A long case over HTTP: the case shows its latest referrals and goal progress, and pages
(newest first) walk all of them, now or as they stood at a moment."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.e2e.http import Api, a_case

# More than the case itself shows (the latest 20), and not a whole number of pages.
MANY = 23
SHOWN = 20


@dataclass(frozen=True)
class LongCase:
    client_id: str
    case_id: str
    goal_id: str
    referral_ids: list[str]  # oldest first
    progress_versions: list[int]  # oldest first

    @property
    def referrals(self) -> str:
        return f"/v1/cases/{self.case_id}/referrals"

    @property
    def progress(self) -> str:
        return f"/v1/cases/{self.case_id}/goals/{self.goal_id}/progress"


def a_long_case(api: Api) -> LongCase:
    """A case with MANY referrals, and an active goal with MANY progress entries."""
    client_id, case_id = a_case(api)
    base = f"/v1/cases/{case_id}"
    plan_id = api.created(f"{base}/plans", {"title": "Recovery plan"})["entity_id"]
    api.created(f"{base}/plans/{plan_id}/activate", {})
    goal = {"plan_id": plan_id, "description": "90 days sober", "need_domain": "therapeutic"}
    goal_id = api.created(f"{base}/goals", goal)["entity_id"]
    api.created(f"{base}/goals/{goal_id}/lifecycle", {"lifecycle": "active"})
    referral_ids = [
        api.created(
            f"{base}/referrals",
            {"resource_kind": "housing", "organisation": f"Trust {i}", "service_name": "Bed"},
        )["entity_id"]
        for i in range(MANY)
    ]
    versions = [
        api.created(
            f"{base}/goals/{goal_id}/progress", {"achievement": "improving", "note": f"week {i}"}
        )["version"]
        for i in range(MANY)
    ]
    return LongCase(client_id, case_id, goal_id, referral_ids, versions)


def walk(api: Api, path: str, limit: int, **query: Any) -> list[dict[str, Any]]:
    """Every page of a listing, following `next` until the last (a cursor that never ends
    fails rather than hangs)."""
    pages = [api.get(path, limit=limit, **query).json()]
    while pages[-1]["next"] is not None:
        assert len(pages) <= MANY, f"{path} pages on past {MANY} pages"
        pages.append(api.get(path, limit=limit, cursor=pages[-1]["next"], **query).json())
    return pages


def test_the_case_shows_the_latest_20_referrals_and_progress_with_counts_of_all(
    api: Api,
) -> None:
    long = a_long_case(api)

    case = api.get(f"/v1/cases/{long.case_id}").json()

    assert [r["referral_id"] for r in case["referrals"]] == long.referral_ids[-SHOWN:]
    assert case["referral_count"] == MANY
    (goal,) = case["current_plan"]["goals"]
    assert [p["version"] for p in goal["progress"]] == long.progress_versions[-SHOWN:]
    assert goal["progress_count"] == MANY
    assert (goal["latest_progress"]["version"], goal["latest_progress"]["note"]) == (
        long.progress_versions[-1],
        f"week {MANY - 1}",
    )


def test_pages_of_referrals_and_of_progress_walk_every_entry_newest_first(api: Api) -> None:
    long = a_long_case(api)

    referral_pages = walk(api, long.referrals, limit=10)
    progress_pages = walk(api, long.progress, limit=10)
    log = api.get(
        f"/v1/clients/{long.client_id}/access-log", role="compliance_reviewer", limit=1000
    ).json()["items"]

    assert [len(p["items"]) for p in referral_pages] == [10, 10, 3]
    assert [r["referral_id"] for p in referral_pages for r in p["items"]] == long.referral_ids[::-1]
    assert {(p["case_id"], p["referral_count"], p["as_of"]) for p in referral_pages} == {
        (long.case_id, MANY, None)
    }
    newest = referral_pages[0]["items"][0]
    assert (newest["organisation"], newest["status"]) == (f"Trust {MANY - 1}", "sent")
    assert newest["recorded_at"] and newest["effective_at"]
    assert [len(p["items"]) for p in progress_pages] == [10, 10, 3]
    assert [e["version"] for p in progress_pages for e in p["items"]] == long.progress_versions[
        ::-1
    ]
    assert [e["note"] for e in progress_pages[-1]["items"]] == ["week 2", "week 1", "week 0"]
    assert {(p["goal_id"], p["progress_count"]) for p in progress_pages} == {(long.goal_id, MANY)}
    actions = [e["action"] for e in log if e["subjects"][0]["case_id"] == long.case_id]
    assert actions.count("read_referrals") == 3 and actions.count("read_goal_progress") == 3


def test_an_entry_marked_in_error_is_left_out_of_pages_and_counts(api: Api) -> None:
    long = a_long_case(api)
    referrals = api.get(long.referrals, limit=MANY).json()["items"]
    wrong_referral = referrals[5]
    wrong_progress = long.progress_versions[-1]
    corrections = f"/v1/cases/{long.case_id}/entries-in-error"

    for version in (wrong_referral["made_in_version"], wrong_progress):
        api.created(corrections, {"target_version": version, "reason": "wrong case"})
    referral_pages = walk(api, long.referrals, limit=10)
    progress_pages = walk(api, long.progress, limit=10)
    case = api.get(f"/v1/cases/{long.case_id}").json()

    standing = [r for r in long.referral_ids if r != wrong_referral["referral_id"]]
    assert [r["referral_id"] for p in referral_pages for r in p["items"]] == standing[::-1]
    assert referral_pages[0]["referral_count"] == case["referral_count"] == MANY - 1
    assert [e["version"] for p in progress_pages for e in p["items"]] == long.progress_versions[
        -2::-1
    ]
    (goal,) = case["current_plan"]["goals"]
    assert progress_pages[0]["progress_count"] == goal["progress_count"] == MANY - 1
    assert goal["latest_progress"]["version"] == long.progress_versions[-2]
    assert [r["referral_id"] for r in case["referrals"]] == standing[-SHOWN:]


def test_a_page_as_of_a_moment_shows_what_was_standing_then(api: Api) -> None:
    long = a_long_case(api)
    then = datetime.now(UTC).isoformat()
    latest = api.get(long.referrals, limit=1).json()["items"][0]
    api.created(
        f"/v1/cases/{long.case_id}/entries-in-error",
        {"target_version": latest["made_in_version"], "reason": "wrong case"},
    )
    api.created(
        long.referrals,
        {"resource_kind": "legal", "organisation": "Legal Aid", "service_name": "Advice"},
    )
    api.created(long.progress, {"achievement": "worsening", "note": "relapse"})

    now = api.get(long.referrals, limit=MANY).json()
    referrals_then = walk(api, long.referrals, limit=10, as_of=then)
    progress_then = walk(api, long.progress, limit=10, as_of=then)

    assert now["referral_count"] == MANY
    assert now["items"][0]["organisation"] == "Legal Aid"
    assert latest["referral_id"] not in [r["referral_id"] for r in now["items"]]
    assert [r["referral_id"] for p in referrals_then for r in p["items"]] == long.referral_ids[::-1]
    assert [e["version"] for p in progress_then for e in p["items"]] == long.progress_versions[::-1]
    assert (referrals_then[0]["referral_count"], progress_then[0]["progress_count"]) == (MANY, MANY)
    assert referrals_then[0]["as_of"]["known_version"] == long.progress_versions[-1]


def test_another_agency_and_an_unknown_goal_get_404(api: Api) -> None:
    long = a_long_case(api)
    unknown_goal = f"/v1/cases/{long.case_id}/goals/missing/progress"
    now = datetime.now(UTC).isoformat()

    answers = [
        api.get(long.referrals, agency="agency-b"),
        api.get(long.progress, agency="agency-b"),
        api.get(long.referrals, agency="agency-b", as_of=now),
        api.get(long.progress, agency="agency-b", as_of=now),
    ]
    missing = api.get(unknown_goal)

    assert [(a.status_code, a.json()["code"]) for a in answers] == [(404, "case_not_found")] * 4
    assert not [a for a in answers if "Trust" in a.text or long.goal_id in a.text]
    assert (missing.status_code, missing.json()["code"]) == (404, "goal_not_found")
