"""Each read model's content after the core scenario, on SQLite and PostgreSQL."""

from datetime import UTC, date, datetime, timedelta, timezone
from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.errors import InvalidValueError
from caserecord.domain.recording import Actor
from caserecord.projections import ProjectionService
from caserecord.projections.caseload import caseload_key
from tests.factories import a_client, an_active_plan, an_open_case
from tests.scenario import NEW_MANAGER, ScenarioResult


@pytest.fixture
def scenario(scenario: ScenarioResult, projections: ProjectionService) -> ScenarioResult:
    """The shared scenario with every view caught up with it."""
    projections.catch_up()
    return scenario


def test_the_current_plan_is_the_revised_active_plan_with_both_goals(
    projections: ProjectionService, scenario: ScenarioResult
) -> None:
    plan = projections.queries.current_plan("agency-a", scenario.case_id)

    assert plan is not None
    assert plan["plan_id"] == scenario.plan_id
    assert (plan["status"], plan["version_number"]) == ("active", 2)
    assert plan["title"] == "Recovery and tenancy plan"
    assert plan["next_review_on"] == date(2027, 6, 1)
    assert len(plan["activities"]) == 3
    goals = {g["goal_id"]: g for g in plan["goals"]}
    assert goals[scenario.sobriety_goal_id]["lifecycle"] == "active"
    assert goals[scenario.sobriety_goal_id]["achievement"] == "improving"
    assert goals[scenario.housing_goal_id]["lifecycle"] == "completed"
    assert goals[scenario.housing_goal_id]["latest_progress"]["achievement"] == "achieved"


def test_the_caseload_lists_the_reopened_case_under_its_new_manager(
    projections: ProjectionService, scenario: ScenarioResult
) -> None:
    rows = projections.queries.caseload("agency-a", case_manager_id=NEW_MANAGER)

    assert [r["case_id"] for r in rows] == [scenario.case_id]
    row = rows[0]
    assert row["client_name"] == "Maria Lopez"
    assert row["specialty"] == "social_work"
    assert row["status"] == "open"
    assert row["plan_status"] == "active"
    assert row["open_referrals"] == 0
    assert row["review_overdue"] is False
    # The note marked in error no longer counts as the last contact.
    audit = projections.queries.audit_trail("agency-a", case_id=scenario.case_id, limit=500)
    note = {e["version"]: e for e in audit}[scenario.steps["note_recorded"]]
    assert row["last_contact_at"] == note["effective_at"]
    assert projections.queries.caseload("agency-a", case_manager_id="worker-1") == []


def test_the_referral_tracker_has_the_completed_and_the_declined_referral(
    projections: ProjectionService, scenario: ScenarioResult
) -> None:
    rows = projections.queries.referrals("agency-a", case_id=scenario.case_id)

    by_id = {r["referral_id"]: r for r in rows}
    assert set(by_id) == {scenario.housing_referral_id, scenario.declined_referral_id}
    housing = by_id[scenario.housing_referral_id]
    assert (housing["status"], housing["outcome"]) == ("completed", "need_met")
    assert housing["closed_at"] is not None and housing["overdue"] is False
    assert housing["days_open"] == 0
    assert by_id[scenario.declined_referral_id]["declined_by"] == "client"
    declined = projections.queries.referrals("agency-a", status="declined")
    assert [r["referral_id"] for r in declined] == [scenario.declined_referral_id]
    outcomes = projections.queries.referral_outcomes("agency-a")
    assert {(o["organisation"], o["completed"], o["declined"], o["total"]) for o in outcomes} == {
        ("City Housing Trust", 1, 0, 1),
        ("Harbour Recovery", 0, 1, 1),
    }


def test_the_audit_trail_has_one_row_per_event_with_its_stored_hash(
    records: CaseRecords, projections: ProjectionService, scenario: ScenarioResult, worker: Actor
) -> None:
    rows = projections.queries.audit_trail("agency-a", limit=500)

    events = records.case_events(worker, scenario.case_id)
    # The client's stream: its registration and the disclosures of the two referrals.
    assert len(rows) == len(events) == scenario.final_version + 3
    assert [r["position"] for r in rows] == sorted(r["position"] for r in rows)
    case_rows = [r for r in rows if r["stream_kind"] == "case"]
    assert [r["version"] for r in case_rows] == list(range(1, scenario.final_version + 1))
    links = records.recorder.chain_links(scenario.case_id)  # type: ignore[attr-defined]
    assert all(r["hash"] == links[r["version"]].hash for r in case_rows)
    assert all(r["client_id"] == scenario.client_id for r in rows)
    opened = case_rows[0]
    assert opened["event_type"] == "Opened" and opened["late"] is True
    assert opened["summary"].startswith("Case opened at intake")
    marked = {r["version"]: r for r in case_rows}[scenario.steps["wrong_note_recorded"]]
    assert marked["marked_in_error_by"] == scenario.steps["note_marked_in_error"]


def test_the_audit_trail_filters_by_case_actor_type_and_time(
    records: CaseRecords, projections: ProjectionService, scenario: ScenarioResult, worker: Actor
) -> None:
    q = projections.queries
    other_case = an_open_case(records, worker, scenario.client_id)
    projections.catch_up()

    assert {r["case_id"] for r in q.audit_trail("agency-a", case_id=other_case)} == {other_case}
    by_client = q.audit_trail("agency-a", client_id=scenario.client_id, limit=500)
    assert {r["case_id"] for r in by_client} == {None, scenario.case_id, other_case}
    closes = q.audit_trail("agency-a", event_type="Closed")
    assert [r["actor"]["id"] for r in closes] == ["super-1"]
    assert {r["actor"]["id"] for r in q.audit_trail("agency-a", actor_id="super-1")} == {"super-1"}
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert q.audit_trail("agency-a", since=later) == []
    assert len(q.audit_trail("agency-a", until=later, limit=500)) == len(by_client)
    with pytest.raises(InvalidValueError):
        q.audit_trail("agency-a", since=datetime(2026, 1, 1))


def test_audit_pages_stay_stable_while_new_events_arrive(
    records: CaseRecords,
    projections: ProjectionService,
    scenario: ScenarioResult,
    supervisor: Actor,
) -> None:
    q = projections.queries
    first = q.audit_trail("agency-a", limit=10)
    records.record_note(  # the case is another caseworker's now: its supervisor writes
        supervisor, scenario.case_id, text="call", contact_kind="client", contact_mode="phone"
    )
    projections.catch_up()

    second = q.audit_trail("agency-a", after=first[-1]["position"], limit=10)
    rest = q.audit_trail("agency-a", after=second[-1]["position"], limit=500)

    assert q.audit_trail("agency-a", limit=10) == first
    positions = [r["position"] for r in first + second + rest]
    assert positions == sorted(set(positions))
    assert rest[-1]["event_type"] == "ProgressNoteRecorded"


def test_the_client_index_finds_the_client_by_name_birth_date_and_number(
    records: CaseRecords, projections: ProjectionService, scenario: ScenarioResult, worker: Actor
) -> None:
    a_client(records, worker, given_name="José", family_name="Núñez", client_number="C-9")
    projections.catch_up()
    q = projections.queries

    def found(**query: object) -> list[UUID]:
        return [c["client_id"] for c in q.search_clients("agency-a", **query)]  # type: ignore[arg-type]

    assert found(name="maria lop") == [scenario.client_id]
    assert found(name="LOPEZ", date_of_birth=date(1984, 5, 17)) == [scenario.client_id]
    assert found(client_number="C-2001") == [scenario.client_id]
    assert len(found(name="núñez")) == 1
    assert found(name="lopez", date_of_birth=date(1990, 1, 1)) == []
    assert found(name="100%") == []
    with pytest.raises(InvalidValueError):
        q.search_clients("agency-a", name="  ")


def test_a_corrected_client_name_reaches_the_index_and_the_caseload(
    records: CaseRecords, projections: ProjectionService, scenario: ScenarioResult, worker: Actor
) -> None:
    records.correct_client_details(
        worker, scenario.client_id, changes={"family_name": "López"}, reason="spelling"
    )
    projections.catch_up()

    [client] = projections.queries.search_clients("agency-a", name="lópez")
    assert client["client_id"] == scenario.client_id
    [row] = projections.queries.caseload("agency-a")
    assert row["client_name"] == "Maria López"


def test_no_view_shows_another_agencys_records(
    projections: ProjectionService, scenario: ScenarioResult, outsider: Actor
) -> None:
    q = projections.queries
    agency = outsider.agency_id

    assert q.current_plan(agency, scenario.case_id) is None
    assert q.caseload(agency) == []
    assert q.referrals(agency) == [] and q.referral_outcomes(agency) == []
    assert q.audit_trail(agency) == []
    assert q.audit_trail(agency, case_id=scenario.case_id) == []
    assert q.search_clients(agency, name="maria") == []


def test_entries_marked_in_error_leave_the_views(
    records: CaseRecords, projections: ProjectionService, worker: Actor, supervisor: Actor
) -> None:
    case_id = an_open_case(records, worker)
    plan_id = an_active_plan(records, worker, case_id)
    goal_id = records.add_goal(
        worker, case_id, plan_id=plan_id, description="Walk daily", need_domain="medical"
    ).entity_id
    assert goal_id is not None
    records.change_goal_lifecycle(worker, case_id, goal_id=goal_id, lifecycle="active")
    records.record_goal_progress(worker, case_id, goal_id=goal_id, achievement="improving")
    wrong = records.record_goal_progress(worker, case_id, goal_id=goal_id, achievement="achieved")
    referral = records.make_referral(
        worker, case_id, resource_kind="medical", organisation="Clinic", service_name="Physio"
    )
    projections.catch_up()
    assert projections.queries.referrals("agency-a")[0]["status"] == "sent"

    for target in (wrong.version, referral.version):
        records.mark_entry_in_error(supervisor, case_id, target_version=target, reason="wrong")
    projections.catch_up()

    plan = projections.queries.current_plan("agency-a", case_id)
    assert plan is not None
    assert plan["goals"][0]["achievement"] == "improving"
    assert projections.queries.referrals("agency-a") == []
    assert projections.queries.caseload("agency-a")[0]["open_referrals"] == 0


def test_a_completed_plan_is_no_longer_current(
    records: CaseRecords, projections: ProjectionService, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    plan_id = an_active_plan(records, worker, case_id)
    projections.catch_up()
    assert projections.queries.current_plan("agency-a", case_id) is not None

    records.change_plan_status(worker, case_id, plan_id=plan_id, action="complete")
    projections.catch_up()

    assert projections.queries.current_plan("agency-a", case_id) is None
    assert projections.queries.caseload("agency-a")[0]["plan_status"] is None


def test_the_caseload_filters_and_sorts(
    records: CaseRecords, projections: ProjectionService, worker: Actor, supervisor: Actor
) -> None:
    overdue_case = an_open_case(records, worker)
    records.draft_plan(
        worker,
        overdue_case,
        title="Old plan",
        activities=[],
        next_review_on=date(2020, 1, 1),
    )
    quiet_case = an_open_case(records, worker)
    contacted = an_open_case(records, worker)
    records.record_note(
        worker, contacted, text="visit", contact_kind="client", contact_mode="in_person"
    )
    closed = an_open_case(records, worker)
    records.close_case(supervisor, closed, outcome="moved away", reason="left the area")
    projections.catch_up()
    q = projections.queries

    assert {r["case_id"] for r in q.caseload("agency-a")} == {overdue_case, quiet_case, contacted}
    assert [r["case_id"] for r in q.caseload("agency-a", review_overdue=True)] == [overdue_case]
    assert q.caseload("agency-a", sort="last_contact")[-1]["case_id"] == contacted
    assert q.caseload("agency-a", specialty="geriatric") == []
    first = q.caseload("agency-a", limit=2)
    rest = q.caseload("agency-a", after=caseload_key(first[-1], "last_contact"))
    assert len(first) == 2
    assert [r["case_id"] for r in first + rest] == [
        r["case_id"] for r in q.caseload("agency-a", sort="last_contact")
    ]
    with pytest.raises(InvalidValueError):
        q.caseload("agency-a", sort="shoe size")


def test_overdue_referrals_are_pending_past_their_respond_by_date(
    records: CaseRecords, projections: ProjectionService, worker: Actor
) -> None:
    case_id = an_open_case(records, worker, effective_at=datetime.now(UTC) - timedelta(days=3))
    late = records.make_referral(
        worker,
        case_id,
        resource_kind="legal",
        organisation="Legal Aid",
        service_name="Tenancy advice",
        respond_by=date(2020, 1, 1),
        effective_at=datetime.now(UTC) - timedelta(days=3),
    ).entity_id
    records.make_referral(
        worker, case_id, resource_kind="legal", organisation="Legal Aid", service_name="Debt"
    )
    projections.catch_up()

    [row] = projections.queries.referrals("agency-a", overdue=True)
    assert (row["referral_id"], row["overdue"], row["days_open"]) == (late, True, 3)
    assert len(projections.queries.referrals("agency-a", overdue=False)) == 1
    assert len(projections.queries.referrals("agency-a", organisation="Legal Aid")) == 2


def test_a_nul_character_does_not_stop_the_views(
    records: CaseRecords, projections: ProjectionService, worker: Actor
) -> None:
    # It reached the store through the API once, and stalled every view in a loop.
    client_id = a_client(records, worker, given_name="An\x00a", family_name="Kowalska")
    case_id = an_open_case(records, worker, client_id)
    projections.start()

    position = records.record_note(
        worker, case_id, text="home visit", contact_kind="client", contact_mode="in_person"
    ).position
    projections.wait(position, timeout=20)

    [client] = projections.queries.search_clients("agency-a", name="kowalska")
    assert client["given_name"] == "An\ufffda"


def test_a_moment_at_the_calendars_edge_is_refused_before_it_reaches_the_views(
    records: CaseRecords, worker: Actor
) -> None:
    # Year 1 at +05:00 has no UTC equivalent; once stored, it stalled every view.
    client_id = a_client(records, worker)
    edge = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))
    before = records.recorder.max_notification_id()

    with pytest.raises(InvalidValueError):
        records.open_case(
            worker,
            client_id=client_id,
            specialty="geriatric",
            referral_source="GP",
            presenting_needs=["falls"],
            interview_summary="Lives alone.",
            case_manager_id=worker.id,
            effective_at=edge,
        )

    assert records.recorder.max_notification_id() == before
