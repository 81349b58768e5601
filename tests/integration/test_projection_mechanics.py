"""Projection mechanics on SQLite: positions, exactly-once, resuming with a cold cache,
overlapping runners, and the summaries every event gets."""

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic

from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.case import Case
from caserecord.domain.client import Client
from caserecord.domain.recording import Actor
from caserecord.persistence.library_internals import has_more_at_hand
from caserecord.projections import (
    VIEW_NAMES,
    ProjectionService,
    caseload,
    current_plans,
    referrals,
)
from caserecord.projections.base import ViewMovedError, iso
from caserecord.projections.runner import (
    APPLICATION_NAME,
    PROJECTIONS,
    catch_up,
    construct_view,
    latest_for,
    loader_for,
)
from caserecord.projections.service import service_env
from caserecord.projections.sql import PositionMovedError, View
from caserecord.projections.summaries import SUMMARIES, summarise
from tests.factories import an_active_plan, an_open_case
from tests.scenario import run_core_scenario


@pytest.fixture
def service(sqlite_url: str, sqlite_records: CaseRecords) -> Any:
    s = ProjectionService(Settings(database_url=sqlite_url))
    yield s
    s.close()


def head(records: CaseRecords) -> int:
    return int(records.recorder.max_notification_id() or 0)


def test_every_view_records_the_position_of_events_it_ignores(
    sqlite_records: CaseRecords, service: ProjectionService, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    sqlite_records.record_note(
        worker, case_id, text="internal", contact_kind="internal", contact_mode="message"
    )

    service.catch_up()

    assert service.positions() == dict.fromkeys(VIEW_NAMES, head(sqlite_records))


def test_a_position_already_applied_is_never_applied_twice(
    sqlite_records: CaseRecords, sqlite_url: str, worker: Actor
) -> None:
    an_open_case(sqlite_records, worker)
    env = service_env(Settings(database_url=sqlite_url))
    view = construct_view("audit_trail", env)
    projection = PROJECTIONS["audit_trail"](view=view)
    first = sqlite_records.recorder.select_notifications(1, 1)[0]
    writes = projection.writes_for(sqlite_records.mapper.to_domain_event(first), first.id)
    try:
        view.write(writes, Tracking(APPLICATION_NAME, first.id), after=0)
        with pytest.raises(PositionMovedError, match=f"now at position {first.id}"):
            view.write(writes, Tracking(APPLICATION_NAME, first.id), after=0)  # a second runner
        rows = view.db.query("SELECT COUNT(*) AS n FROM view_audit")
        assert rows[0]["n"] == 1
        with pytest.raises(IntegrityError):  # a real conflict still surfaces, not as a move
            view.write(writes, Tracking(APPLICATION_NAME, first.id + 1), after=first.id)
    finally:
        view.close()


def test_a_view_resuming_mid_stream_with_a_cold_cache_ends_equal_to_a_rebuild(
    sqlite_records: CaseRecords,
    sqlite_url: str,
    service: ProjectionService,
    worker: Actor,
    supervisor: Actor,
) -> None:
    run_core_scenario(sqlite_records, worker, supervisor)
    env = service_env(Settings(database_url=sqlite_url))
    for cut in (5, 12, 19):
        for name in ("current_plans", "caseload", "referrals", "audit_trail"):
            view = construct_view(name, env)
            projection = PROJECTIONS[name](
                view=view, loader=loader_for(sqlite_records), latest=latest_for(sqlite_records)
            )
            catch_up(sqlite_records, view, projection, until=cut, page=3)
            view.close()
        service.catch_up()  # a fresh projection: every case is loaded from the store
        resumed = service.digests()
        service.rebuild()
        assert service.digests() == resumed


def test_two_runners_catching_up_at_once_apply_each_event_once(
    sqlite_records: CaseRecords, sqlite_url: str, worker: Actor
) -> None:
    for _ in range(6):
        case_id = an_open_case(sqlite_records, worker)
        an_active_plan(sqlite_records, worker, case_id)
    services = [ProjectionService(Settings(database_url=sqlite_url)) for _ in range(2)]
    errors: list[BaseException] = []

    def run(s: ProjectionService) -> None:
        try:
            s.catch_up()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(s,)) for s in services]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    together = services[0].digests()
    services[0].rebuild()

    assert errors == []
    assert services[0].digests() == together
    audit = services[0].queries.audit_trail("agency-a", limit=500)
    assert len(audit) == head(sqlite_records)
    for s in services:
        s.close()


def test_an_unknown_view_name_is_refused_with_the_choices(sqlite_url: str) -> None:
    with pytest.raises(ValueError, match="current_plans"):
        ProjectionService(Settings(database_url=sqlite_url), names=["plans"])


def test_every_event_type_has_its_own_summary() -> None:
    events = [
        name
        for kind in (Case, Client)
        for name, value in vars(kind).items()
        # The library's own base classes are never recorded by these aggregates.
        if isinstance(value, type)
        and issubclass(value, kind.Event)
        and name not in ("Event", "Created")
    ]

    assert len(events) == 69
    assert [e for e in events if e not in SUMMARIES] == []
    assert summarise("EntryMarkedInError", {"target_version": 7}) == "Entry v7 marked in error"
    assert summarise("SomethingNew", {}) == "SomethingNew"


def test_the_current_plan_shows_the_earlier_progress_when_the_latest_is_marked_in_error(
    sqlite_records: CaseRecords,
    sqlite_url: str,
    service: ProjectionService,
    worker: Actor,
    supervisor: Actor,
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    plan_id = an_active_plan(sqlite_records, worker, case_id)
    goal_id = str(
        sqlite_records.add_goal(
            worker, case_id, plan_id=plan_id, description="Sleep", need_domain="medical"
        ).entity_id
    )
    sqlite_records.change_goal_lifecycle(worker, case_id, goal_id=goal_id, lifecycle="active")
    first = sqlite_records.record_goal_progress(
        worker, case_id, goal_id=goal_id, achievement="improving", measured_value="6h"
    )
    latest = sqlite_records.record_goal_progress(
        worker, case_id, goal_id=goal_id, achievement="achieved", measured_value="8h"
    )
    service.catch_up()
    # A fresh service has seen no progress event: the earlier entry comes from the log.
    restarted = ProjectionService(Settings(database_url=sqlite_url))

    sqlite_records.mark_entry_in_error(
        supervisor, case_id, target_version=latest.version, reason="wrong goal"
    )
    restarted.catch_up()

    plan = restarted.queries.current_plan(worker.agency_id, case_id)
    assert plan is not None
    [goal] = plan["goals"]
    assert goal["achievement"] == "improving"
    assert goal["latest_progress"] == {
        "version": first.version,
        "achievement": "improving",
        "measured_value": "6h",
        "note": "",
    }
    incremental = restarted.digests()
    restarted.rebuild(["current_plans"])
    assert restarted.digests() == incremental
    restarted.close()


def test_a_page_of_events_writes_each_case_row_once_and_ends_as_one_event_at_a_time_would(
    sqlite_records: CaseRecords,
    sqlite_url: str,
    service: ProjectionService,
    worker: Actor,
    supervisor: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_core_scenario(sqlite_records, worker, supervisor)
    for _ in range(2):
        case_id = an_open_case(sqlite_records, worker)
        an_active_plan(sqlite_records, worker, case_id)
    referrals_in_one_page(sqlite_records, supervisor, an_open_case(sqlite_records, worker))
    names = ["current_plans", "caseload", "referrals"]
    env = service_env(Settings(database_url=sqlite_url))
    for name in names:
        view = construct_view(name, env)
        projection = PROJECTIONS[name](view=view, latest=latest_for(sqlite_records))
        catch_up(sqlite_records, view, projection, page=1)
        view.close()
    one_at_a_time = service.digests(names)
    written: list[str] = []
    original = View.write

    def spy(self: View, writes: Any, tracking: Tracking, **kwargs: Any) -> None:
        written.extend(statement for statement, _ in writes)
        original(self, writes, tracking, **kwargs)

    monkeypatch.setattr(View, "write", spy)

    service.rebuild(names)

    assert service.digests(names) == one_at_a_time
    cases = service.db.query("SELECT COUNT(*) AS n FROM view_caseload")[0]["n"]
    assert cases == 4
    assert written.count(current_plans.UPSERT) + written.count(current_plans.DELETE) == cases
    assert written.count(caseload.UPSERT_CASE) == cases
    made = service.db.query("SELECT COUNT(*) AS n FROM view_referrals")[0]["n"]
    assert made == 2 + 2  # the core scenario's two and two standing of the three made here
    assert written.count(referrals.INSERT) == made
    assert written.count(referrals.SET_STATUS) + written.count(referrals.DELETE) == 0


def referrals_in_one_page(records: CaseRecords, actor: Actor, case_id: UUID) -> None:
    """A referral completed, the completion marked in error, then withdrawn; one made in
    error; one declined."""

    def make() -> tuple[str, int]:
        made = records.make_referral(
            actor, case_id, resource_kind="housing", organisation="Trust", service_name="Flat"
        )
        assert made.entity_id is not None
        return made.entity_id, made.version

    (kept, _), (_, wrong), (declined, _) = make(), make(), make()
    records.accept_referral(actor, case_id, referral_id=kept)
    completed = records.complete_referral(actor, case_id, referral_id=kept, outcome="need_met")
    records.mark_entry_in_error(
        actor, case_id, target_version=completed.version, reason="another client's"
    )
    records.withdraw_referral(actor, case_id, referral_id=kept, reason="moved away")
    records.mark_entry_in_error(actor, case_id, target_version=wrong, reason="duplicate")
    records.decline_referral(
        actor, case_id, referral_id=declined, declined_by="provider", reason="no places"
    )


def test_a_rebuild_creates_the_query_indexes_after_the_replay_even_when_it_fails(
    sqlite_records: CaseRecords,
    service: ProjectionService,
    worker: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    an_open_case(sqlite_records, worker)
    expected = {i for p in PROJECTIONS.values() for i in p.schema.secondary_indexes()}

    def indexes() -> set[str]:
        rows = service.db.query("SELECT name FROM sqlite_master WHERE type='index'")
        return {row["name"] for row in rows} & expected

    seen_during: list[set[str]] = []

    def failing(*args: Any, **kwargs: Any) -> dict[str, int]:
        seen_during.append(indexes())
        raise RuntimeError("replay failed")

    monkeypatch.setattr(service, "catch_up", failing)

    with pytest.raises(RuntimeError, match="replay failed"):
        service.rebuild()

    assert seen_during == [set()]
    assert indexes() == expected
    assert len(expected) == 17


def test_dropping_a_view_removes_its_tables_and_leaves_the_connection_setting_it_changed(
    sqlite_records: CaseRecords, service: ProjectionService, sqlite_url: str, worker: Actor
) -> None:
    an_open_case(sqlite_records, worker)
    service.catch_up()
    view = construct_view("audit_trail", service_env(Settings(database_url=sqlite_url)))
    before = view.db.query("PRAGMA secure_delete")

    view.drop()

    tables = {r["name"] for r in service.db.query("SELECT name FROM sqlite_master")}
    assert tables.isdisjoint({"view_audit", "view_audit_streams", "audit_trail_tracking"})
    assert "view_caseload" in tables
    assert view.db.query("PRAGMA secure_delete") == before
    view.close()


def test_a_view_commits_without_waiting_for_the_disk_while_events_still_wait(
    sqlite_records: CaseRecords, sqlite_url: str, worker: Actor
) -> None:
    an_open_case(sqlite_records, worker)
    view = construct_view("audit_trail", service_env(Settings(database_url=sqlite_url)))
    projection = PROJECTIONS["audit_trail"](view=view)
    first = sqlite_records.recorder.select_notifications(1, 1)[0]
    writes = projection.writes_for(sqlite_records.mapper.to_domain_event(first), first.id)

    view.write(writes, Tracking(APPLICATION_NAME, first.id), after=0)

    with view.datastore.transaction(commit=False) as c:
        c.execute("PRAGMA synchronous")
        view_setting = c.fetchone()[0]
    recorder = sqlite_records.recorder
    assert isinstance(recorder, SQLiteApplicationRecorder)
    with recorder.datastore.transaction(commit=False) as c:
        c.execute("PRAGMA synchronous")
        event_setting = c.fetchone()[0]
    view.close()
    assert (view_setting, event_setting) == (1, 2)  # NORMAL, FULL


def test_a_live_projection_skips_what_another_runner_applied_and_stops_when_its_view_was_reset(
    sqlite_records: CaseRecords, sqlite_url: str, worker: Actor
) -> None:
    for _ in range(2):
        an_open_case(sqlite_records, worker)  # 2 events each
    env = service_env(Settings(database_url=sqlite_url))
    view = construct_view("audit_trail", env)
    live = PROJECTIONS["audit_trail"](view=view)
    events = as_the_runner_gets_them(sqlite_records)
    other = construct_view("audit_trail", env)
    catch_up(sqlite_records, other, PROJECTIONS["audit_trail"](view=other), until=2)

    live.process_event(*events[0])  # applied by the other runner already
    live.process_event(*events[1])
    live.process_event(*events[2])
    other.drop()  # a rebuild starts the view again
    construct_view("audit_trail", {**env, "CREATE_TABLE": "y"}).close()
    with pytest.raises(ViewMovedError, match="at position 0, not 3"):
        live.process_event(*events[3])

    assert live.position == 3
    assert view.max_tracking_id(APPLICATION_NAME) is None
    view.close()
    other.close()


def test_the_live_runner_commits_the_events_it_already_holds_together_and_ends_as_a_rebuild(
    sqlite_records: CaseRecords,
    sqlite_url: str,
    service: ProjectionService,
    worker: Actor,
    supervisor: Actor,
) -> None:
    run_core_scenario(sqlite_records, worker, supervisor)
    referrals_in_one_page(sqlite_records, supervisor, an_open_case(sqlite_records, worker))
    events = as_the_runner_gets_them(sqlite_records)
    positions = [tracking.notification_id for _, tracking in events]
    env = service_env(Settings(database_url=sqlite_url))
    commits: dict[str, list[int]] = {}
    for name in VIEW_NAMES:
        view = construct_view(name, env)
        live = PROJECTIONS[name](
            view=view, loader=loader_for(sqlite_records), latest=latest_for(sqlite_records)
        )
        for i, (event, tracking) in enumerate(events):
            # The runner holds the events three at a time.
            live.more_at_hand = answer(i % 3 != 2 and i + 1 < len(events))
            live.process_event(event, tracking)
            if not live.pending_events:
                commits.setdefault(name, []).append(live.position)
        view.close()
    live_digests = service.digests()

    service.rebuild()

    assert service.digests() == live_digests
    every_third = positions[2::3]
    if every_third[-1] != positions[-1]:
        every_third.append(positions[-1])
    assert commits == dict.fromkeys(VIEW_NAMES, every_third)


def answer(value: bool) -> Callable[[], bool]:
    return lambda: value


def test_the_recorder_reads_notifications_as_the_library_does_for_every_kind_of_range(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    for _ in range(3):
        an_open_case(sqlite_records, worker)
    recorder = sqlite_records.recorder
    assert isinstance(recorder, SQLiteApplicationRecorder)
    topic = get_topic(Case.Opened)
    ranges: list[dict[str, Any]] = [
        {"start": None, "limit": 100},
        {"start": 2, "limit": 3},
        {"start": 2, "limit": 3, "inclusive_of_start": False},
        {"start": 1, "limit": 100, "stop": 4},
        {"start": 0, "limit": 100, "topics": [topic]},
        {"start": 3, "limit": 1, "stop": 5, "topics": [topic], "inclusive_of_start": False},
    ]

    for given in ranges:
        ours = recorder.select_notifications(**given)
        assert ours == SQLiteApplicationRecorder.select_notifications(recorder, **given), given
    assert len(recorder.select_notifications(None, 100)) == 6


def test_a_view_timestamp_is_utc_text_of_one_width_with_or_without_microseconds() -> None:
    whole = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    later = whole.replace(microsecond=5)

    assert iso(whole) == "2026-11-27T09:30:00.000000+00:00"
    assert iso(later) == "2026-11-27T09:30:00.000005+00:00"
    assert iso(whole.astimezone(timezone(timedelta(hours=2)))) == iso(whole)


def as_the_runner_gets_them(records: CaseRecords) -> list[tuple[Any, Tracking]]:
    """Every event of the log with its tracking, as the library's runner hands them on."""
    return [
        (records.mapper.to_domain_event(n), Tracking(APPLICATION_NAME, n.id))
        for n in records.recorder.select_notifications(None, 10_000)
    ]


def test_the_runner_can_tell_when_its_subscription_holds_the_next_event_already(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    for _ in range(2):
        an_open_case(sqlite_records, worker)  # 4 events, pulled in one page
    with sqlite_records.recorder.subscribe(gt=0) as subscription:
        held = []
        for _ in range(4):
            next(subscription)
            held.append(has_more_at_hand(subscription))

    assert held == [True, True, True, False]
