"""Property: for random times over a generated history, "as of T" equals a from-scratch
fold of the events recorded up to T, and likewise for effective time (SQLite, PostgreSQL).

Each history is long enough to cross a snapshot, has late entries and entries marked in
error, and its last events are not yet in the audit view, so replay uses snapshots, the
index and the log together.
"""

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caserecord import presenters
from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.base import RecordAggregate
from caserecord.domain.case import Case
from caserecord.domain.entities import Recorded
from caserecord.domain.errors import CaseNotFoundError, DomainError
from caserecord.domain.recording import Actor
from caserecord.history import case_as_of, page_as_of, reading_day
from caserecord.presenters import (
    RECENT,
    Contents,
    case_to_dict,
    note_to_dict,
    progress_to_dict,
    referral_to_dict,
    shown_goals,
)
from caserecord.projections import ProjectionService
from caserecord.provision import init_store
from caserecord.store import open_records
from tests.factories import a_client
from tests.stores import PG_ADMIN_DSN, require_postgres

WORKER = Actor("worker-1", "caseworker", "agency-a")
WINDOW = 3
SUPERVISOR = Actor("super-1", "supervisor", "agency-a")
SEEDS = (11, 17)  # histories that, as plans now settle their goals, still exercise every kind
EXAMPLES = {"sqlite": 100, "postgres": 30}


@dataclass
class History:
    records: CaseRecords
    case_id: UUID
    events: list[RecordAggregate.Event]

    def times(self) -> list[datetime]:
        found = {e.timestamp for e in self.events} | {effective(e) for e in self.events}
        return sorted(found)


def effective(event: RecordAggregate.Event) -> datetime:
    value = vars(event).get("effective_at", event.timestamp)
    assert isinstance(value, datetime)
    return value


def generate(records: CaseRecords, rnd: random.Random, commands: int) -> UUID:
    """A random case history: late entries, plan and goal moves, referrals, corrections."""
    start = datetime.now(UTC)

    def when() -> datetime | None:
        # A third of the entries are typed in late, up to ten hours after they happened.
        return start - timedelta(hours=rnd.uniform(0, 10)) if rnd.random() < 0.33 else None

    case_id = records.open_case(
        WORKER,
        client_id=a_client(records, WORKER),
        specialty="social_work",
        referral_source="self",
        presenting_needs=["anxiety"],
        interview_summary="First contact.",
        case_manager_id=WORKER.id,
        effective_at=start - timedelta(hours=12),
    ).id
    ids: dict[str, list[str]] = {"plan": [], "goal": [], "referral": [], "note": []}

    def pick(kind: str) -> str:
        return rnd.choice(ids[kind]) if ids[kind] else "missing"

    moves: list[Callable[[], Any]] = [
        lambda: records.record_note(
            WORKER,
            case_id,
            text="seen",
            contact_kind="client",
            contact_mode="phone",
            effective_at=when(),
        ),
        lambda: records.append_addendum(
            WORKER, case_id, note_id=pick("note"), text="more", effective_at=when()
        ),
        lambda: records.assess_needs(
            WORKER,
            case_id,
            assessments=[{"domain": "psychiatric", "level": "low"}],
            effective_at=when(),
        ),
        lambda: records.draft_plan(
            WORKER,
            case_id,
            title="Plan",
            activities=[],
            next_review_on=date(2027, 1, 1),
            effective_at=when(),
        ),
        lambda: records.change_plan_status(
            WORKER,
            case_id,
            plan_id=(plan_id := pick("plan")),
            action=(action := rnd.choice(["activate", "suspend", "resume", "complete"])),
            goals=dict.fromkeys(
                state().open_goals(plan_id) if action == "complete" else [], "carried-over"
            ),
            reason="review",
            effective_at=when(),
        ),
        lambda: records.add_goal(
            WORKER,
            case_id,
            plan_id=pick("plan"),
            description="Sleep",
            need_domain="medical",
            effective_at=when(),
        ),
        lambda: records.change_goal_lifecycle(
            WORKER,
            case_id,
            goal_id=pick("goal"),
            lifecycle=rnd.choice(["active", "on-hold", "completed"]),
            effective_at=when(),
        ),
        lambda: records.record_goal_progress(
            WORKER,
            case_id,
            goal_id=pick("goal"),
            achievement=rnd.choice(["improving", "no-change", "worsening"]),
            effective_at=when(),
        ),
        lambda: records.make_referral(
            WORKER,
            case_id,
            resource_kind="medical",
            organisation=rnd.choice("ABC"),
            service_name="clinic",
            effective_at=when(),
        ),
        lambda: records.accept_referral(
            WORKER, case_id, referral_id=pick("referral"), effective_at=when()
        ),
        lambda: records.complete_referral(
            WORKER, case_id, referral_id=pick("referral"), outcome="need_met", effective_at=when()
        ),
        lambda: records.mark_entry_in_error(
            SUPERVISOR,
            case_id,
            target_version=rnd.randint(2, max(2, version())),
            reason="wrong",
            effective_at=when(),
        ),
        lambda: records.close_case(
            SUPERVISOR,
            case_id,
            outcome="ended",
            referrals={r: {"settlement": "withdraw"} for r in state().unsettled_referrals()},
            reason="ended",
            effective_at=when(),
        ),
        lambda: records.reopen_case(SUPERVISOR, case_id, reason="back", effective_at=when()),
    ]
    weights = [8, 2, 2, 2, 3, 3, 3, 5, 2, 2, 2, 3, 1, 1]

    def state() -> Case:
        found: object = records.repository.get(case_id)
        assert isinstance(found, Case)
        return found

    def version() -> int:
        return int(records.get_case(WORKER, case_id)["version"])

    done = 0
    while done < commands:
        move = rnd.choices(moves, weights)[0]
        try:
            result = move()
        except DomainError:
            continue
        done += 1
        if result.entity_id:
            # Only new plans, goals, referrals and notes: not plan versions, nor the entries
            # known by the case version that recorded them (progress, addenda...).
            made = type_of(records, case_id, result.version)
            kind = NEW_PARTS.get(made)
            if kind is not None:
                ids[kind].append(result.entity_id)
    return case_id


NEW_PARTS = {"plandrafted": "plan", "goaladded": "goal", "referralmade": "referral", "note": "note"}


def type_of(records: CaseRecords, case_id: UUID, version: int) -> str:
    [event] = records.events.get(case_id, gt=version - 1, lte=version)
    name = type(event).__name__.lower()
    return "note" if "note" in name else name


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def histories(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[int, History]]]:
    schema = ""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('as_of')}/records.db"
    else:
        require_postgres()
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{PG_ADMIN_DSN}?schema={schema}"
    store = Settings(database_url=url)
    init_store(store)
    records = open_records(store)
    found: dict[int, History] = {}
    try:
        for seed in SEEDS:
            rnd = random.Random(seed)
            case_id = generate(records, rnd, commands=130)
            service = ProjectionService(store)
            service.catch_up()  # the index covers all but the events that follow
            service.close()
            generate_more(records, case_id, rnd)
            found[seed] = History(records, case_id, list(records.events.get(case_id)))  # type: ignore[arg-type]
        yield request.param, found
    finally:
        records.close()
        if schema:
            with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def generate_more(records: CaseRecords, case_id: UUID, rnd: random.Random) -> None:
    for _ in range(5):
        hours = rnd.uniform(0, 10)
        records.record_note(
            WORKER,
            case_id,
            text="late",
            contact_kind="client",
            contact_mode="video",
            effective_at=datetime.now(UTC) - timedelta(hours=hours),
        )


# ---- the reference folds: every event from scratch, no snapshot, no index ---------------
def fold(events: list[RecordAggregate.Event], on: date | None = None) -> dict[str, Any]:
    case: Any = None
    applied = []
    # What the record's entry index says, as the events that applied say it: the case
    # keeps only counts of its notes and progress.
    entries: dict[int, Recorded] = {}
    notes: dict[str, int] = {}
    for e in events:
        if case is not None:
            case.version = e.originator_version - 1
        try:
            if isinstance(e, Case.AddendumAppended):
                case.check_addendum(e.note_id, entries.get(notes.get(e.note_id, 0)))
            elif isinstance(e, Case.EntryMarkedInError):
                case.check_marking(e.target_version, entries.get(e.target_version))
            case = e.mutate(case)
        except DomainError:
            continue
        applied.append(e)
        v = e.originator_version
        if isinstance(e, Case.ProgressNoteRecorded):
            notes[e.note_id] = v
            entries[v] = Recorded(v, "note", e.note_id)
        elif isinstance(e, Case.AddendumAppended):
            entries[v] = Recorded(v, "addendum", e.note_id, notes[e.note_id])
        elif isinstance(e, Case.GoalProgressRecorded):
            entries[v] = Recorded(v, "progress", e.goal_id)
    assert isinstance(case, Case)
    by_version: dict[int, Any] = {e.originator_version: e for e in applied}
    aside = case.set_aside_versions()
    standing = [entries[v] for v in sorted(entries) if v not in aside]
    kept = [e for e in standing if e.kind == "note"][-presenters.RECENT :]
    progress = {
        g.goal_id: [
            e.version for e in standing if e.kind == "progress" and e.entity_id == g.goal_id
        ]
        for g in shown_goals(case)
    }
    contents = Contents(
        {e.entity_id: e.version for e in kept},
        {
            n.entity_id: [
                e.version for e in standing if e.kind == "addendum" and e.entity_id == n.entity_id
            ]
            for n in kept
        },
        sum(1 for e in standing if e.kind == "note"),
        {g: versions[-presenters.RECENT :] for g, versions in progress.items()},
        {g: len(versions) for g, versions in progress.items()},
    )
    state: dict[str, Any] = without_need_to_know(case_to_dict(case, by_version, contents, on=on))
    return state | {
        "all_notes": standing_notes(applied, case),
        "all_referrals": [
            referral_to_dict(r, by_version, on or presenters.utc_today())
            for r in case.standing_referrals()
        ],
        "all_progress": {
            g: [progress_to_dict(by_version[v]) for v in versions]
            for g, versions in progress.items()
        },
    }


def standing_notes(applied: list[RecordAggregate.Event], case: Case) -> list[dict[str, Any]]:
    """The notes not set aside, each with its addenda not set aside and its labels in the
    case, straight from the events that applied (the case itself keeps only their index)."""
    set_aside = {e.target_version for e in applied if isinstance(e, Case.EntryMarkedInError)}
    standing = [e for e in applied if e.originator_version not in set_aside]
    return [
        note_to_dict(
            n,
            [
                a
                for a in standing
                if isinstance(a, Case.AddendumAppended) and a.note_id == n.note_id
            ],
            case.labels_of(n.originator_version),
        )
        for n in standing
        if isinstance(n, Case.ProgressNoteRecorded)
    ]


def reference_recorded(history: History, at: datetime) -> dict[str, Any] | None:
    known = [e for e in history.events if e.timestamp <= at]
    return fold(known, at.astimezone(UTC).date()) if known else None


def reference_effective(
    history: History, at: datetime, known_at: datetime | None = None
) -> dict[str, Any] | None:
    known = [e for e in history.events if known_at is None or e.timestamp <= known_at]
    applies = {
        e.originator_version
        for e in known
        if not isinstance(e, Case.EntryMarkedInError) and effective(e) <= at
    }
    applies |= {
        e.originator_version
        for e in known
        if isinstance(e, Case.EntryMarkedInError) and e.target_version in applies
    }
    if 1 not in applies:
        return None
    return fold([e for e in known if e.originator_version in applies], at.astimezone(UTC).date())


NEED_TO_KNOW = {"labels", "restricted", "read_basis"}


def without_need_to_know(data: Any) -> Any:
    """What a read adds for need to know (the case manager reads it all) left out, to
    compare with the state folded here."""
    if isinstance(data, dict):
        return {k: without_need_to_know(v) for k, v in data.items() if k not in NEED_TO_KNOW}
    if isinstance(data, list):
        return [without_need_to_know(v) for v in data]
    return data


def replay(history: History, **at: datetime) -> dict[str, Any] | None:
    try:
        result = case_as_of(history.records, WORKER, history.case_id, **at)
    except CaseNotFoundError:
        return None
    state = {k: v for k, v in without_need_to_know(result).items() if k != "as_of"}
    goals = [g["goal_id"] for plan in state["plans"] for g in plan["goals"]]
    return state | {
        "all_notes": replayed_notes(history, **at),
        "all_referrals": replayed_pages(
            partial(history.records.referral_page, on=reading_day(**at)), history, **at
        ),
        "all_progress": {
            goal_id: replayed_pages(
                partial(history.records.progress_page, goal_id=goal_id), history, **at
            )
            for goal_id in goals
        },
    }


def replayed_pages(read: Any, history: History, **at: datetime) -> list[dict[str, Any]]:
    """Every entry standing as of the moment, oldest first, read in pages of 7 (``read``
    is the service's page of notes, referrals or a goal's progress)."""
    found: list[dict[str, Any]] = []
    before = None
    while True:
        page = page_as_of(
            history.records,
            WORKER,
            history.case_id,
            partial(read, limit=7, before=before),
            **at,
        )
        found += page["items"]
        before = page["next_before"]
        if before is None:
            return found[::-1]


def replayed_notes(history: History, **at: datetime) -> list[dict[str, Any]]:
    """Every note standing as of the moment, oldest first, read in pages of 7."""
    return replayed_pages(history.records.note_page, history, **at)


@pytest.fixture(autouse=True)
def short_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """A case shows its latest 3 notes, referrals and progress entries here, not 20, so
    that the generated histories (130 commands) cut those windows too."""
    monkeypatch.setattr(presenters, "RECENT", WINDOW)


def moments(data: st.DataObject, history: History) -> datetime:
    times = history.times()
    base = data.draw(st.sampled_from(times))
    nudge = data.draw(st.sampled_from([-1, 0, 1, 0, 0]))  # just before, at, just after
    return base + timedelta(microseconds=nudge)


def test_as_of_a_recorded_time_equals_a_fold_of_the_events_recorded_by_then(
    histories: tuple[str, dict[int, History]],
) -> None:
    kind, found = histories

    @settings(max_examples=EXAMPLES[kind], deadline=None)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        history = found[data.draw(st.sampled_from(SEEDS))]
        at = moments(data, history)
        assert replay(history, recorded_at=at) == reference_recorded(history, at)

    check()


def test_as_of_an_effective_time_equals_a_fold_of_the_events_in_effect_by_then(
    histories: tuple[str, dict[int, History]],
) -> None:
    kind, found = histories

    @settings(max_examples=EXAMPLES[kind], deadline=None)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        history = found[data.draw(st.sampled_from(SEEDS))]
        at = moments(data, history)
        assert replay(history, effective_at=at) == reference_effective(history, at)

    check()


def test_known_at_one_time_about_another_equals_the_fold_of_what_was_recorded_by_then(
    histories: tuple[str, dict[int, History]],
) -> None:
    kind, found = histories

    @settings(max_examples=EXAMPLES[kind] // 2, deadline=None)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        history = found[data.draw(st.sampled_from(SEEDS))]
        known_at, at = moments(data, history), moments(data, history)
        expected = reference_effective(history, at, known_at)
        if reference_recorded(history, known_at) is None:
            expected = None
        assert replay(history, recorded_at=known_at, effective_at=at) == expected

    check()


def test_the_generated_histories_exercise_snapshots_late_entries_and_corrections(
    histories: tuple[str, dict[int, History]],
) -> None:
    _, found = histories
    for history in found.values():
        events = history.events
        assert len(events) > 100  # past the first snapshot
        assert any(effective(e) < e.timestamp - timedelta(minutes=1) for e in events)
        assert any(isinstance(e, Case.EntryMarkedInError) for e in events)
    latest = [fold(h.events) for h in found.values()]
    assert any(state["note_count"] > RECENT for state in latest)  # notes come in pages
    assert any(n["addenda"] for state in latest for n in state["all_notes"])
    assert any(state["referral_count"] > WINDOW for state in latest)
    goals = [g for state in latest for plan in state["plans"] for g in plan["goals"]]
    assert any(g["progress_count"] > WINDOW for g in goals)
