"""Snapshots every 100 events and the aggregate cache: same answers, nothing leaks."""

import copy
import pickle
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from caserecord.application import CaseRecords, snapshot_state
from caserecord.config import Settings
from caserecord.domain.case import Case
from caserecord.domain.entities import Addendum, Ledger, Note, Progress, Referrals
from caserecord.domain.errors import ReasonRequiredError
from caserecord.domain.recording import Actor
from caserecord.transcodings import referral_from_stored
from tests.factories import an_open_case
from tests.scenario import ScenarioResult, extend_case
from tests.unit.case_builders import as_actor, opened_case, with_goal, with_plan

LONG = 250
# An entry marked in error between two snapshots.
MARKED = 149


@pytest.fixture
def long_case(records: CaseRecords, worker: Actor, scenario: ScenarioResult) -> ScenarioResult:
    extend_case(records, worker, scenario, LONG, mark_in_error=MARKED)
    return scenario


@pytest.fixture
def without_snapshots(settings: Settings) -> Iterator[CaseRecords]:
    env = settings.eventsourcing_env() | {"IS_SNAPSHOTTING_ENABLED": "n"}
    app = CaseRecords(env=env)
    assert app.snapshots is None
    yield app
    app.close()


def store_snapshot(app: CaseRecords, case_id: Any, version: int, state: dict[str, Any]) -> None:
    """A snapshot of the given (older) shape, as an earlier version stored it; the cache is
    dropped so the next read starts from it."""
    assert app.snapshots is not None
    snapshot = Case.Snapshot(
        originator_id=case_id,
        originator_version=version,
        timestamp=Case.Snapshot.create_timestamp(),
        topic=get_topic(Case),
        state=state,
    )
    app.snapshots.put([snapshot])
    app.repository.cache = None


def snapshot_versions(app: CaseRecords, s: ScenarioResult) -> list[int]:
    assert app.snapshots is not None
    return [snap.originator_version for snap in app.snapshots.get(s.case_id)]


def test_a_long_case_reads_the_same_with_and_without_snapshots_at_every_version_around_them(
    records: CaseRecords,
    without_snapshots: CaseRecords,
    long_case: ScenarioResult,
    worker: Actor,
) -> None:
    with_snapshots = records.get_case(worker, long_case.case_id)
    from_events = without_snapshots.get_case(worker, long_case.case_id)

    assert snapshot_versions(records, long_case) == [100, 200]
    assert with_snapshots["version"] == LONG
    assert with_snapshots == from_events
    wrong = long_case.steps["wrong_note_recorded"]
    assert with_snapshots["entries_in_error"] == {wrong: wrong + 1, MARKED: MARKED + 1}
    assert records.verify_stream(long_case.case_id).ok  # both snapshots match the events
    # Historical versions start from the latest snapshot at or below them.
    for version in (1, 99, 100, 101, MARKED, MARKED + 1, 199, 200, 201, LONG - 1):
        with_snapshots = records.get_case(worker, long_case.case_id, version=version)
        from_events = without_snapshots.get_case(worker, long_case.case_id, version=version)

        assert with_snapshots["version"] == version
        assert with_snapshots == from_events, f"version {version}"


# ---- the aggregate cache ------------------------------------------------------------


def note_then_fail(case: Case) -> None:
    """A command that changes the case and then breaks a rule."""
    case.record_note("note-x", "half-done", "client", "phone", [])
    case.close("", "no reason given")


def test_a_failed_command_leaves_no_trace_in_the_cached_case(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    app = sqlite_records
    assert app.repository.cache is not None
    case_id = an_open_case(app, worker)
    before = app.get_case(worker, case_id)

    with pytest.raises(ReasonRequiredError):
        app._update_case(worker, case_id, {}, note_then_fail)

    assert app.get_case(worker, case_id) == before
    result = app.record_note(
        worker, case_id, text="next", contact_kind="client", contact_mode="phone"
    )
    assert result.version == 2
    assert [n["text"] for n in app.get_case(worker, case_id)["notes"]] == ["next"]


def test_a_case_changed_by_another_worker_is_read_fresh_from_the_cache(
    sqlite_records: CaseRecords, sqlite_url: str, worker: Actor
) -> None:
    other = CaseRecords(env=Settings(database_url=sqlite_url).eventsourcing_env())
    case_id = an_open_case(sqlite_records, worker)
    sqlite_records.get_case(worker, case_id)  # now cached here

    other.record_note(worker, case_id, text="from B", contact_kind="client", contact_mode="phone")
    case: dict[str, Any] = sqlite_records.get_case(worker, case_id)
    other.close()

    assert case["version"] == 2
    assert [n["text"] for n in case["notes"]] == ["from B"]


def test_a_cache_size_of_zero_turns_the_cache_off(sqlite_url: str) -> None:
    app = CaseRecords(
        env=Settings(database_url=sqlite_url, aggregate_cache_size=0).eventsourcing_env(
            create_table=True
        )
    )

    assert app.repository.cache is None
    app.close()


def test_commands_work_on_a_copy_even_if_the_environment_says_otherwise(
    sqlite_url: str, worker: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEPCOPY_FROM_AGGREGATE_CACHE", "n")
    app = CaseRecords(env=Settings(database_url=sqlite_url).eventsourcing_env(create_table=True))
    case_id = an_open_case(app, worker)
    app.get_case(worker, case_id)

    with pytest.raises(ReasonRequiredError):
        app._update_case(worker, case_id, {}, note_then_fail)

    assert app.get_case(worker, case_id)["notes"] == []
    app.close()


def test_a_deep_copy_of_a_case_is_equal_and_independent() -> None:
    with as_actor():
        case = opened_case()
        plan_id = with_plan(case)
        goal_id = with_goal(case, plan_id)
        case.collect_events()
        copied = copy.deepcopy(case)

        copied.record_goal_progress(goal_id, "improving", "", "")
        copied.record_note("note-1", "only in the copy", "client", "phone", [])

    assert copied.version == case.version + 2
    assert case.goals[goal_id].progress == 0 and case.notes_recorded == 0
    assert snapshot_state(copy.deepcopy(case)) == snapshot_state(case)


def test_a_deep_copy_falls_back_when_pickle_refuses() -> None:
    with as_actor():
        case = opened_case()
    case.collect_events()
    case.unpicklable = lambda: None  # type: ignore[attr-defined]

    copied = copy.deepcopy(case)

    assert copied is not case
    assert copied.statuses == case.statuses and copied.statuses is not case.statuses


def test_a_snapshot_taken_when_cases_held_whole_notes_reads_and_verifies(
    records: CaseRecords, without_snapshots: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    noted = records.record_note(
        worker, case_id, text="Seen at home.", contact_kind="client", contact_mode="in_person"
    )
    note_id = str(noted.entity_id)
    records.append_addendum(worker, case_id, note_id=note_id, text="Family present.")
    case: Any = records.repository.get(case_id)
    # The shape class version 1 stored: whole notes, their addenda inside them.
    old = snapshot_state(case)
    del old["notes_recorded"]
    old["notes"] = {
        note_id: Note(note_id, 2, "Seen at home.", "client", "in_person", [], [Addendum(3, "x")])
    }
    store_snapshot(records, case_id, case.version, old)

    read: Any = records.repository.get(case_id)

    assert read.notes_recorded == 1
    assert records.get_case(worker, case_id) == without_snapshots.get_case(worker, case_id)
    assert records.verify_stream(case_id).ok


def test_a_snapshot_taken_when_goals_held_their_progress_whole_reads_and_verifies(
    records: CaseRecords, without_snapshots: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    plan_id = str(records.draft_plan(worker, case_id, title="Plan", activities=[]).entity_id)
    records.change_plan_status(worker, case_id, plan_id=plan_id, action="activate")
    goal_id = str(
        records.add_goal(
            worker, case_id, plan_id=plan_id, description="Sleep", need_domain="medical"
        ).entity_id
    )
    records.change_goal_lifecycle(worker, case_id, goal_id=goal_id, lifecycle="active")
    done = records.record_goal_progress(worker, case_id, goal_id=goal_id, achievement="improving")
    case: Any = records.repository.get(case_id)
    # The shape class version 2 stored: each goal's progress whole.
    old = before_version_5(snapshot_state(case)) | {"class_version": 2}
    old["goals"] = copy.deepcopy(old["goals"])
    old["goals"][goal_id].progress = [Progress(done.version, "improving", "", "")]
    store_snapshot(records, case_id, case.version, old)

    read: Any = records.repository.get(case_id)

    assert read.goals[goal_id].progress == 1
    assert records.get_case(worker, case_id) == without_snapshots.get_case(worker, case_id)
    assert records.verify_stream(case_id).ok


def before_version_5(state: dict[str, Any]) -> dict[str, Any]:
    """A state of a case without notes, in the shape versions 2 to 4 stored."""
    old = {k: v for k, v in state.items() if k != "notes_recorded"}
    old |= {"notes": {}, "addenda": {}, "notes_set_aside": 0}
    old["goals"] = copy.deepcopy(old["goals"])
    for goal in old["goals"].values():
        goal.progress = []
    return old


def test_a_snapshot_taken_when_the_case_kept_ledgers_of_its_entries_reads_and_verifies(
    records: CaseRecords, without_snapshots: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    plan_id = str(records.draft_plan(worker, case_id, title="Plan", activities=[]).entity_id)
    records.change_plan_status(worker, case_id, plan_id=plan_id, action="activate")
    goal_id = str(
        records.add_goal(
            worker, case_id, plan_id=plan_id, description="Sleep", need_domain="medical"
        ).entity_id
    )
    records.change_goal_lifecycle(worker, case_id, goal_id=goal_id, lifecycle="active")
    progress = records.record_goal_progress(
        worker, case_id, goal_id=goal_id, achievement="improving"
    )
    noted = records.record_note(
        worker, case_id, text="Seen.", contact_kind="client", contact_mode="phone"
    )
    note_id = str(noted.entity_id)
    addendum = records.append_addendum(worker, case_id, note_id=note_id, text="More.")
    records.mark_entry_in_error(worker, case_id, target_version=noted.version, reason="wrong")
    case: Any = records.repository.get(case_id)
    # The shape class version 5 stored: ledgers of notes, addenda, progress and locations.
    old = {k: v for k, v in snapshot_state(case).items() if k != "notes_recorded"}
    old |= {
        "class_version": 5,
        "notes": Ledger([(note_id, noted.version)]),
        "addenda": Ledger([(note_id, (addendum.version,))]),
        "located": Ledger(
            [
                (progress.version, ("progress", goal_id)),
                (noted.version, ("note", note_id)),
                (addendum.version, ("addendum", note_id)),
            ]
        ),
        "notes_set_aside": 1,
    }
    old["goals"] = copy.deepcopy(old["goals"])
    old["goals"][goal_id].progress = Ledger([(progress.version, None)])
    store_snapshot(records, case_id, case.version, old)

    read: Any = records.repository.get(case_id)

    assert (read.notes_recorded, read.goals[goal_id].progress) == (1, 1)
    assert not {"notes", "addenda", "located", "notes_set_aside"} & set(vars(read))
    assert records.get_case(worker, case_id) == without_snapshots.get_case(worker, case_id)
    assert records.get_case(worker, case_id)["note_count"] == 0
    assert records.verify_stream(case_id).ok


def a_referral(app: CaseRecords, actor: Actor, case_id: Any) -> str:
    made = app.make_referral(
        actor, case_id, resource_kind="housing", organisation="Trust", service_name="Tenancy"
    )
    return str(made.entity_id)


def test_a_snapshot_taken_when_referrals_were_a_dict_of_parts_reads_and_verifies(
    records: CaseRecords, without_snapshots: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    referral_id = a_referral(records, worker, case_id)
    records.accept_referral(worker, case_id, referral_id=referral_id)
    case: Any = records.repository.get(case_id)
    # The shape class version 3 stored: a dict of referrals, each its own part.
    old = before_version_5(snapshot_state(case))
    old |= {"class_version": 3, "referrals": dict(case.referrals.items())}
    store_snapshot(records, case_id, case.version, old)
    assert records.snapshots is not None
    (row,) = records.snapshots.recorder.select_events(case_id)
    assert b'"_type_":"Referral"' in row.state

    read: Any = records.repository.get(case_id)

    assert isinstance(read.referrals, Referrals)
    assert read.referrals[referral_id].status == "accepted"
    assert records.get_case(worker, case_id) == without_snapshots.get_case(worker, case_id)
    assert records.verify_stream(case_id).ok


def test_a_case_restored_with_its_referrals_unmade_copies_equal_and_independent(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    first, second = a_referral(records, worker, case_id), a_referral(records, worker, case_id)
    assert records.snapshots is not None
    mapper = records.snapshots.mapper
    snapshot: Any = mapper.to_domain_event(
        mapper.to_stored_event(Case.Snapshot.take(records.repository.get(case_id)))
    )
    restored = snapshot.mutate(None)

    pickled = pickle.loads(pickle.dumps(restored))  # how the cache hands out copies
    copied = copy.deepcopy(restored)
    with as_actor():
        copied.accept_referral(first)

    assert snapshot_state(pickled) == snapshot_state(restored)
    assert restored.referrals[first].status == "sent"
    assert copied.referrals[first].status == "accepted"
    assert copied.referrals[second] == restored.referrals[second]


def test_a_snapshot_holding_a_damaged_referral_cannot_be_read_by_the_verifier(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    referral_id = a_referral(records, worker, case_id)
    case: Any = records.repository.get(case_id)
    # A stored referral short of its status history: decoded unmade, it fails when made.
    damaged = Referrals.restored(
        {referral_id: 2}, {referral_id: [referral_id, 2]}, referral_from_stored
    )
    state = snapshot_state(case) | {"class_version": Case.class_version, "referrals": damaged}
    store_snapshot(records, case_id, case.version, state)

    result = records.verify_stream(case_id)

    assert (result.ok, result.first_bad_version) == (False, case.version)
    assert result.problem == "snapshot: the stored snapshot cannot be read"


def test_a_snapshot_taken_before_cases_held_tasks_reads_and_verifies(
    records: CaseRecords, without_snapshots: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    records.assess_needs(worker, case_id, assessments=[{"domain": "medical", "level": "low"}])
    case: Any = records.repository.get(case_id)
    old = {k: v for k, v in snapshot_state(case).items() if k != "tasks"} | {"class_version": 6}
    store_snapshot(records, case_id, case.version, old)

    read: Any = records.repository.get(case_id)

    assert read.tasks == {}
    assert records.get_case(worker, case_id) == without_snapshots.get_case(worker, case_id)
    assert records.verify_stream(case_id).ok


def test_tasks_reviews_and_measured_goals_read_the_same_from_a_snapshot(
    records: CaseRecords, without_snapshots: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    plan_id = str(records.draft_plan(worker, case_id, title="Plan", activities=[]).entity_id)
    records.change_plan_status(worker, case_id, plan_id=plan_id, action="activate")
    records.add_goal(
        worker, case_id, plan_id=plan_id, description="Sleep", need_domain="medical",
        priority="low", need="insomnia",
        measure={"kind": "instrument", "instrument": "ISI", "target_score": 7,
                 "direction": "at_most"},
    )  # fmt: skip
    records.review_plan(
        worker, case_id, plan_id=plan_id, outcome="continue", next_review_on=date(2999, 1, 1)
    )
    task = records.create_task(
        worker, case_id, title="Call", owner_id="worker-2", due_on=date(2027, 1, 1)
    )
    records.reassign_task(worker, case_id, task_id=str(task.entity_id), owner_id="worker-3")
    case: Any = records.repository.get(case_id)
    state = snapshot_state(case) | {"class_version": Case.class_version}
    store_snapshot(records, case_id, case.version, state)

    read: Any = records.repository.get(case_id)

    assert read.tasks == case.tasks and read.plans == case.plans and read.goals == case.goals


def test_a_snapshot_taken_before_cases_kept_safety_flags_reads_and_verifies(
    records: CaseRecords, without_snapshots: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    records.administer_instrument(
        worker, case_id, instrument="gad-7", respondent="client",
        responses={str(i): 1 for i in range(1, 8)},
    )  # fmt: skip
    case: Any = records.repository.get(case_id)
    old = {k: v for k, v in snapshot_state(case).items() if k != "safety_flags"}
    store_snapshot(records, case_id, case.version, old | {"class_version": 7})

    read: Any = records.repository.get(case_id)

    assert read.safety_flags == []
    assert records.get_case(worker, case_id) == without_snapshots.get_case(worker, case_id)
    assert records.verify_stream(case_id).ok


def test_a_load_reads_the_mac_of_the_snapshot_it_uses_and_no_other(
    records: CaseRecords, long_case: ScenarioResult
) -> None:
    assert records.snapshots is not None
    recorder: Any = records.snapshots.recorder
    every = recorder.snapshot_macs(long_case.case_id)
    latest = max(every)

    chosen = recorder.snapshot_macs(long_case.case_id, [latest])
    used = recorder.select_events(long_case.case_id, desc=True, limit=1)

    assert len(every) == 2
    assert chosen == {latest: every[latest]}
    assert [s.originator_version for s in used] == [latest]
