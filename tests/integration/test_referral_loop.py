"""Referrals that close the loop, on both stores: the provider answers with its own
identity, an expired referral is re-routed, and the views (tracker, open list, stats,
worklist) follow."""

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.errors import ReferralNotFoundError
from caserecord.domain.recording import Actor
from caserecord.history import case_as_of, page_as_of, reading_day
from caserecord.projections import ProjectionService
from caserecord.projections.worklist import contact_standards
from tests.factories import an_open_case

TODAY = datetime.now(UTC).date()
PROVIDER = Actor("org-food:intake desk", "provider", "agency-a")
FOOD: dict[str, Any] = {
    "resource_kind": "community_resource",
    "organisation": "City Food Bank",
    "service_name": "Emergency groceries",
    "organization_id": "org-food",
    "service_id": "svc-groceries",
    "need": "food",
    "internal": True,
}


def days_ago(n: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=n)


def a_referral(records: CaseRecords, worker: Actor, case_id: UUID, **more: Any) -> str:
    referral_id = records.make_referral(worker, case_id, **(FOOD | more)).entity_id
    assert referral_id is not None
    return referral_id


def answer(records: CaseRecords, case_id: UUID, referral_id: str, **answer: Any) -> None:
    records.answer_referral(
        PROVIDER, case_id, organization_id="org-food", referral_id=referral_id, **answer
    )


def test_the_provider_closes_the_loop_and_the_stats_count_effective_days(
    records: CaseRecords, projections: ProjectionService, worker: Actor
) -> None:
    case_id = an_open_case(records, worker, effective_at=days_ago(30))
    referral_id = a_referral(records, worker, case_id, effective_at=days_ago(20))

    answer(records, case_id, referral_id, status="received", effective_at=days_ago(19))
    answer(records, case_id, referral_id, status="waitlisted", effective_at=days_ago(18))
    # Recorded today, effective eight days after the referral: eight days to accept.
    answer(records, case_id, referral_id, status="accepted", effective_at=days_ago(12))
    answer(
        records, case_id, referral_id, status="completed", outcome="need_met",
        effective_at=days_ago(10),
    )  # fmt: skip
    projections.catch_up()

    row = projections.queries.referrals("agency-a", case_id=case_id)[0]
    (service,) = projections.queries.referral_stats("agency-a", "service")
    needs = projections.queries.referral_stats("agency-a", "need")
    events = records.case_events(worker, case_id)

    assert (row["status"], row["outcome"], row["days_open"]) == ("completed", "need_met", 10)
    assert (service["median_days_to_accept"], service["median_days_to_complete"]) == (8.0, 10.0)
    assert service["outcomes"]["need_met"] == 1
    assert [n["need"] for n in needs] == ["food"]
    answered = [e["actor"] for e in events if e["type"] == "ReferralReceived"]
    assert [(a["id"], a["role"]) for a in answered] == [("org-food:intake desk", "provider")]


def test_a_provider_cannot_answer_a_referral_sent_to_another_organisation(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    referral_id = a_referral(records, worker, case_id, organization_id="org-other")
    before = records.get_case(worker, case_id)["version"]

    with pytest.raises(ReferralNotFoundError):
        answer(records, case_id, referral_id, status="received")

    assert records.get_case(worker, case_id)["version"] == before


def test_an_expired_referral_is_due_then_rerouted_and_leaves_the_open_list(
    records: CaseRecords, projections: ProjectionService, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    expired = a_referral(records, worker, case_id, respond_by=TODAY - timedelta(days=1))
    default = a_referral(records, worker, case_id)
    projections.catch_up()
    before = projections.queries.referrals("agency-a", case_id=case_id)
    due = worklist_referrals(projections)

    rerouted = a_referral(
        records, worker, case_id, organisation="Northside Pantry", organization_id="org-pantry",
        rerouted_from=expired,
    )  # fmt: skip
    projections.catch_up()
    after = {r["referral_id"]: r for r in projections.queries.referrals("agency-a")}
    open_ids = [r["referral_id"] for r in projections.queries.open_referrals("agency-a")]

    assert [(r["referral_id"], r["status"]) for r in before] == [
        (expired, "expired"),
        (default, "sent"),
    ]
    assert before[1]["respond_by"] == TODAY + timedelta(days=14)  # the default deadline
    assert due == [(expired, True), (default, False)]
    assert (after[expired]["rerouted_to"], after[rerouted]["rerouted_from"]) == (
        rerouted,
        expired,
    )
    assert expired not in open_ids and {default, rerouted} <= set(open_ids)
    assert expired not in [i for i, _ in worklist_referrals(projections)]


def worklist_referrals(projections: ProjectionService) -> list[tuple[str, bool]]:
    rows = projections.queries.worklist(
        "agency-a", owner_id="worker-1", standards=contact_standards("")
    )
    return [
        (r["link"].rsplit("/", 1)[-1], r["overdue"])
        for r in rows
        if r["kind"] == "referral_response"
    ]


def test_the_case_reads_a_referral_past_its_deadline_as_expired_as_of_the_moment_read(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker, effective_at=days_ago(30))
    deadline = TODAY - timedelta(days=5)
    lapsed = a_referral(records, worker, case_id, respond_by=deadline, effective_at=days_ago(20))
    received = a_referral(records, worker, case_id, respond_by=deadline, effective_at=days_ago(20))
    accepted = a_referral(records, worker, case_id, respond_by=deadline, effective_at=days_ago(20))
    answer(records, case_id, received, status="received", effective_at=days_ago(19))
    answer(records, case_id, accepted, status="accepted", effective_at=days_ago(19))

    case = records.get_case(worker, case_id)
    one = records.get_referral(worker, case_id, lapsed)
    page = records.case_referrals(worker, case_id, limit=10)
    before_deadline = case_as_of(records, worker, case_id, effective_at=days_ago(10))
    then = days_ago(10)
    page_then = page_as_of(
        records, worker, case_id,
        partial(records.referral_page, limit=10, on=reading_day(None, then)), effective_at=then,
    )  # fmt: skip

    statuses = {r["referral_id"]: r["status"] for r in case["referrals"]}
    assert statuses == {lapsed: "expired", received: "expired", accepted: "accepted"}
    assert one["status"] == "expired"
    assert [c["value"] for c in one["status_history"]] == ["sent"]  # as written
    assert {r["referral_id"]: r["status"] for r in page["items"]} == statuses
    assert {r["referral_id"]: r["status"] for r in before_deadline["referrals"]} == {
        lapsed: "sent",
        received: "received",
        accepted: "accepted",
    }
    assert {r["status"] for r in page_then["items"]} == {"sent", "received", "accepted"}


def test_a_declined_or_expired_referral_is_due_until_it_is_rerouted_or_withdrawn(
    records: CaseRecords, projections: ProjectionService, worker: Actor
) -> None:
    case_id = an_open_case(records, worker, effective_at=days_ago(30))
    declined = a_referral(records, worker, case_id, effective_at=days_ago(20))
    closed = a_referral(records, worker, case_id, effective_at=days_ago(20))
    lapsed = a_referral(records, worker, case_id, respond_by=TODAY - timedelta(days=1))
    answer(
        records, case_id, declined, status="declined", reason_code="no_capacity",
        effective_at=days_ago(3),
    )  # fmt: skip
    answer(records, case_id, closed, status="declined", reason_code="not_eligible")
    projections.catch_up()
    due = worklist_items(projections)

    a_referral(records, worker, case_id, organization_id="org-pantry", rerouted_from=declined)
    records.withdraw_referral(worker, case_id, referral_id=closed, reason="need met elsewhere")
    records.withdraw_referral(worker, case_id, referral_id=lapsed, reason="client moved away")
    projections.catch_up()
    after = worklist_items(projections)
    tracked = {r["referral_id"]: r for r in projections.queries.referrals("agency-a")}

    assert due[declined] == ("referral_reroute", days_ago(3).date(), True)
    assert due[closed] == ("referral_reroute", TODAY, False)
    assert due[lapsed] == ("referral_response", TODAY - timedelta(days=1), True)
    assert {declined, closed, lapsed}.isdisjoint(after)
    assert (tracked[closed]["status"], tracked[closed]["reason_code"]) == (
        "withdrawn",
        "not_eligible",
    )


def worklist_items(projections: ProjectionService) -> dict[str, tuple[str, Any, bool]]:
    rows = projections.queries.worklist(
        "agency-a", owner_id="worker-1", standards=contact_standards("")
    )
    return {
        r["subject_id"]: (r["kind"], r["due_on"], r["overdue"])
        for r in rows
        if r["kind"].startswith("referral")
    }
