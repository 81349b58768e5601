"""A store written by the code of Case class version 4 (tests/fixtures/v4_store.db, made by
tests/fixtures/make_v4_store.py with that code) is read, written and verified by this code:
its snapshots are upcast, its hash chain stays intact and its stored events are not
rewritten."""

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.case import Case
from caserecord.domain.recording import Actor
from caserecord.provision import init_store
from caserecord.store import open_records
from tests.factories import all_notes

FIXTURE = Path(__file__).parent.parent / "fixtures" / "v4_store.db"
WORKER = Actor("worker-1", "caseworker", "agency-a")


@pytest.fixture
def old_store(tmp_path: Path) -> Iterator[tuple[CaseRecords, Path]]:
    path = tmp_path / "v4.db"
    shutil.copy(FIXTURE, path)
    settings = Settings(database_url=f"sqlite:///{path}")
    init_store(settings)
    app = open_records(settings)
    yield app, path
    app.close()


def stored_events(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events "
            "ORDER BY rowid"
        ).fetchall()


def the_case(app: CaseRecords) -> UUID:
    (case_id,) = [
        n.originator_id
        for n in app.recorder.select_notifications(start=1, limit=10)
        if n.topic.endswith("Case.Opened")
    ]
    assert isinstance(case_id, UUID)
    return case_id


def test_the_fixture_holds_snapshots_of_class_version_4() -> None:
    with sqlite3.connect(FIXTURE) as db:
        states = [row[0] for row in db.execute("SELECT state FROM stored_snapshots")]
    assert len(states) == 2
    assert all(b'"class_version":4' in s for s in states)


def test_a_case_stored_by_version_4_reads_as_it_did(
    old_store: tuple[CaseRecords, Path],
) -> None:
    app, _ = old_store
    case_id = the_case(app)

    case: Any = app.repository.get(case_id)
    notes = all_notes(app, WORKER, case_id)

    assert isinstance(case, Case) and case.version == 237
    assert app.get_case(WORKER, case_id)["note_count"] == len(notes) == 178 - 2
    assert notes[0]["text"] == "note 0" and notes[2]["text"] == "note 2"
    assert "note 3" not in [n["text"] for n in notes]  # marked in error
    (goal_id,) = case.goals
    progress = app.goal_progress(WORKER, case_id, goal_id, limit=5)
    assert progress["progress_count"] == case.goals[goal_id].progress == 23
    assert sum(len(n["addenda"]) for n in notes) == 29


def test_a_case_stored_by_version_4_takes_corrections_and_verifies_unchanged(
    old_store: tuple[CaseRecords, Path],
) -> None:
    app, path = old_store
    case_id = the_case(app)
    before = stored_events(path)
    oldest = all_notes(app, WORKER, case_id)[0]

    app.record_note(WORKER, case_id, text="new", contact_kind="client", contact_mode="phone")
    app.append_addendum(WORKER, case_id, note_id=oldest["note_id"], text="late addendum")
    app.mark_entry_in_error(
        WORKER, case_id, target_version=oldest["version"], reason="wrong client"
    )
    for i in range(70):  # on past the next snapshot, taken in the new shape
        app.record_note(
            WORKER, case_id, text=f"more {i}", contact_kind="client", contact_mode="phone"
        )

    after = stored_events(path)
    assert after[: len(before)] == before
    check = app.verify_stream(case_id)
    assert (check.ok, check.versions_checked) == (True, 237 + 73)
    fresh = open_records(Settings(database_url=f"sqlite:///{path}"))
    try:
        case: Any = fresh.repository.get(case_id)
        assert case.version == 310 and case.notes_recorded == 178 + 71
        assert fresh.get_case(WORKER, case_id)["note_count"] == 176 + 71 - 1
        assert fresh.verify_stream(case_id).ok
    finally:
        fresh.close()
