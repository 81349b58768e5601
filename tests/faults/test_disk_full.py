"""SQLite out of space: a clean 507, an intact database, and recovery once space returns.

"Full" is simulated by capping ``PRAGMA max_page_count`` at the start of every transaction
of this process (the service's writes, its access log and its projection runners alike);
the cap is per connection, so lifting it is "space returns" without a restart.
"""

import sqlite3
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.sqlite import SQLiteCursor, SQLiteTransaction
from fastapi.testclient import TestClient

from caserecord.api import create_app
from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.provision import init_store
from caserecord.store import open_records
from tests.factories import all_notes_over_http, an_open_case
from tests.faults.service import make_token
from tests.faults.support import assert_store_whole

NO_CAP = 2_147_483_646
BIG_NOTE = "x" * 15_000  # larger than a page: every note needs new pages


class Disk:
    """The space every SQLite transaction of this process may use, in pages."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.pages = NO_CAP

    def fill(self) -> None:
        with sqlite3.connect(self.path) as conn:
            self.pages = int(conn.execute("PRAGMA page_count").fetchone()[0])

    def free(self) -> None:
        self.pages = NO_CAP


@pytest.fixture
def disk(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Disk:
    disk = Disk(sqlite_url.removeprefix("sqlite:///"))
    enter = SQLiteTransaction.__enter__

    def capped_enter(self: SQLiteTransaction) -> SQLiteCursor:
        self.connection.cursor().execute(f"PRAGMA max_page_count = {disk.pages}")
        return enter(self)

    monkeypatch.setattr(SQLiteTransaction, "__enter__", capped_enter)
    return disk


def note(text: str = BIG_NOTE) -> dict[str, Any]:
    return {"text": text, "contact_kind": "client", "contact_mode": "phone"}


def integrity(path: str) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def test_a_full_disk_refuses_a_note_and_leaves_the_record_whole(
    disk: Disk, sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    disk.fill()

    refused = 0
    for _ in range(20):  # the free space left in the last pages is used up first
        try:
            sqlite_records.record_note(
                worker, case_id, text=BIG_NOTE, contact_kind="client", contact_mode="phone"
            )
        except Exception as e:
            assert "database or disk is full" in str(e)
            refused += 1
            break
    case = sqlite_records.get_case(worker, case_id)

    assert refused == 1
    assert integrity(disk.path) == "ok"
    assert_store_whole(sqlite_records, [case_id, UUID(str(case["client_id"]))])
    disk.free()
    after = sqlite_records.record_note(
        worker, case_id, text="space is back", contact_kind="client", contact_mode="phone"
    )
    assert after.version == case["version"] + 1


@pytest.fixture
def api(disk: Disk, sqlite_url: str, worker: Actor) -> Iterator[tuple[TestClient, UUID]]:
    settings = Settings(database_url=sqlite_url)
    init_store(settings)
    records = open_records(settings)
    case_id = an_open_case(records, worker)
    records.close()
    token = make_token(settings, worker.id)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client, case_id


def test_over_http_a_full_disk_is_a_507_problem_and_writes_resume_when_space_returns(
    disk: Disk, api: tuple[TestClient, UUID], worker: Actor
) -> None:
    client, case_id = api
    acknowledged = []
    disk.fill()

    for _ in range(20):
        response = client.post(f"/v1/cases/{case_id}/notes", json=note())
        if response.status_code != 201:
            break
        acknowledged.append(response.json()["entity_id"])

    assert response.status_code == 507, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "storage_full"
    assert "Retry-After" in response.headers
    assert integrity(disk.path) == "ok"

    disk.free()
    resumed = client.post(f"/v1/cases/{case_id}/notes", json=note("space is back"))
    assert resumed.status_code == 201, resumed.text
    case = client.get(f"/v1/cases/{case_id}").json()
    recorded = [n["note_id"] for n in all_notes_over_http(client, case_id)]
    assert recorded == [*acknowledged, resumed.json()["entity_id"]]
    # The views were starved too; they catch up once space returns.
    caseload = client.get("/v1/caseloads")
    assert caseload.status_code == 200, caseload.text
    records = open_records(Settings(database_url=f"sqlite:///{disk.path}"))
    try:
        assert_store_whole(records, [case_id, UUID(str(case["client_id"]))])
    finally:
        records.close()
