"""A write that rolls back leaves no false alarm, and a subject's newest access-log entries
deleted are still found: on both stores, though only PostgreSQL's ids can have gaps (a
sequence value taken by a transaction that rolls back is gone)."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest

from caserecord.access import AccessLog, Reader, Subject, Tables, TokenStore
from caserecord.access.log import AccessLogUnavailableError
from caserecord.application import CaseRecords
from caserecord.audit import Report, verify_all
from caserecord.domain.recording import Actor
from caserecord.persistence.mac import Macs
from tests.factories import a_client
from tests.integration.stored_rows import StoredRows


def failing_once(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The MAC of ``name`` raises once: the write it belongs to fails after its INSERT and
    rolls back, as one cut off by a kill, a dropped connection or a timeout does."""
    original: Callable[..., str] = getattr(Macs, name)

    def fail(self: Macs, *args: Any) -> str:
        monkeypatch.setattr(Macs, name, original)
        raise RuntimeError("the connection was lost")

    monkeypatch.setattr(Macs, name, fail)


def problems(report: Report) -> list[tuple[str, str]]:
    return [(p.where, p.problem) for p in report.problems]


def read(records: CaseRecords, worker: Actor, *subjects: Subject) -> None:
    reader = Reader(worker.id, worker.role, worker.agency_id, "t", "care", "r")
    AccessLog(Tables(records)).record(reader, "read_client", list(subjects))


def sequence_skipped(records: CaseRecords, database_url: str, table: str) -> bool:
    """The ids of ``table`` have a hole where the rolled-back write's id was."""
    ids = [r[0] for r in StoredRows(database_url)._run(f"SELECT entry_id FROM {table}")]
    return sorted(ids) != list(range(1, len(ids) + 1))


def test_a_rolled_back_access_log_write_leaves_the_store_intact(
    records: CaseRecords, database_url: str, worker: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = a_client(records, worker)
    read(records, worker, Subject(client))
    failing_once(monkeypatch, "access_entry")
    with pytest.raises(AccessLogUnavailableError):
        read(records, worker, Subject(client), Subject(a_client(records, worker)))
    read(records, worker, Subject(client))

    report = verify_all(records)
    listing = AccessLog(Tables(records)).for_client("agency-a", client)

    assert report.ok, problems(report)
    assert report.access_entries == 2
    assert (
        sequence_skipped(records, database_url, "access_log") is StoredRows(database_url).postgres
    )
    assert [e["numbers"] for e in listing] == [[1], [2]]


def test_a_rolled_back_token_write_leaves_the_store_intact(
    records: CaseRecords, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = TokenStore(Tables(records))
    tokens.create(agency_id="agency-a", role="caseworker", name="first")
    failing_once(monkeypatch, "token_ledger")
    with pytest.raises(RuntimeError):
        tokens.create(agency_id="agency-a", role="caseworker", name="lost")
    tokens.create(agency_id="agency-a", role="caseworker", name="second")

    report = verify_all(records)

    assert report.ok, problems(report)
    assert report.tokens == 2
    assert not sequence_skipped(records, database_url, "token_ledger")


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_rolled_back_event_save_leaves_the_store_intact(
    records: CaseRecords, database_url: str, worker: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The library's notification ids are a sequence too: verify --all reads the log in
    position order and never asks that positions run without a gap."""
    a_client(records, worker)
    recorder: Any = records.recorder
    write_beside = recorder._write_beside

    def fail(*args: Any, **kwargs: Any) -> None:
        write_beside(*args, **kwargs)  # the events are inserted, then the save fails
        raise RuntimeError("the connection was lost")

    monkeypatch.setattr(recorder, "_write_beside", fail)
    with pytest.raises(RuntimeError):
        a_client(records, worker)
    monkeypatch.undo()
    client = a_client(records, worker)
    read(records, worker, Subject(client))

    report = verify_all(records)
    positions = StoredRows(database_url)._run("SELECT notification_id FROM stored_events")

    assert report.ok, problems(report)
    assert report.streams == 2
    assert max(p for (p,) in positions) > len(positions)  # the lost save's ids are a gap


def newest_deleted(rows: StoredRows, client: UUID, count: int) -> list[int]:
    """An insider deletes the client's ``count`` newest entries and their subject rows."""
    ids = [
        r[0]
        for r in rows._run(
            "SELECT entry_id FROM access_log_subjects WHERE client_id=? ORDER BY entry_id DESC",
            str(client),
        )
    ][:count]
    for entry_id in ids:
        rows._run("DELETE FROM access_log_subjects WHERE entry_id=?", entry_id)
        rows._run("DELETE FROM access_log WHERE entry_id=?", entry_id)
    return ids


def test_a_clients_newest_entries_deleted_are_found_and_flagged_after_the_next_read(
    records: CaseRecords, database_url: str, worker: Actor
) -> None:
    client, other = a_client(records, worker), a_client(records, worker)
    for _ in range(4):
        read(records, worker, Subject(client))
    read(records, worker, Subject(other))  # the last entry ids are another client's
    rows = StoredRows(database_url)
    newest_deleted(rows, client, 2)

    report = verify_all(records)
    read(records, worker, Subject(client))
    log = AccessLog(Tables(records))
    served = log.for_client("agency-a", client)
    integrity = log.integrity("agency-a", client, served, after=0)

    assert (
        f"access-log head agency-a/{client}",
        "the subject's entries numbered 3..4 are missing (its newest)",
    ) in problems(report)
    assert [e["numbers"] for e in served] == [[1], [2], [5]]
    assert integrity["intact"] is False
    assert [(m["first"], m["last"]) for m in integrity["missing"]] == [(3, 4)]
    assert not verify_all(records).ok  # the next read vouches for nothing deleted


@pytest.mark.parametrize("edit", ["lowered", "raised", "deleted"])
def test_a_head_edited_or_deleted_is_found_and_not_vouched_for_by_the_next_read(
    records: CaseRecords, database_url: str, worker: Actor, edit: str
) -> None:
    client = a_client(records, worker)
    for _ in range(3):
        read(records, worker, Subject(client))
    rows = StoredRows(database_url)
    if edit == "deleted":
        rows._run("DELETE FROM access_log_heads WHERE subject_key=?", str(client))
    else:
        newest_deleted(rows, client, 1 if edit == "lowered" else 0)
        rows._run(
            "UPDATE access_log_heads SET last_seq=? WHERE subject_key=?",
            2 if edit == "lowered" else 5,
            str(client),
        )

    found = problems(verify_all(records))
    read(records, worker, Subject(client))
    after = problems(verify_all(records))

    expected = {
        "lowered": "the head fails its MAC",
        "raised": "the head fails its MAC",
        "deleted": "the subject has entries numbered up to 3 but no head (deleted)",
    }[edit]
    where = f"access-log head agency-a/{client}"
    assert (where, expected) in found
    # The next read did not vouch for it (SQLite also names the deleted entry's id).
    assert [p for p in after if "lacks numbers" in p[1] or p[0] == where] == [
        (where, "the head fails its MAC")
    ]


def test_a_head_of_a_subject_without_entries_is_found(
    records: CaseRecords, database_url: str, worker: Actor
) -> None:
    client = a_client(records, worker)
    read(records, worker, Subject(client))
    read(records, worker, Subject(client))
    rows = StoredRows(database_url)
    newest_deleted(rows, client, 2)

    assert (
        f"access-log head agency-a/{client}",
        "the subject's entries numbered 1..2 are missing (its newest)",
    ) in problems(verify_all(records))


@pytest.mark.parametrize("edit", ["last_deleted", "head_edited", "head_deleted"])
def test_the_token_ledgers_end_is_found_by_its_head_and_not_vouched_for_by_the_next_write(
    records: CaseRecords, database_url: str, edit: str
) -> None:
    tokens = TokenStore(Tables(records))
    for name in ("a", "b", "c"):
        tokens.create(agency_id="agency-a", role="caseworker", name=name)
    rows = StoredRows(database_url)
    if edit != "head_deleted":  # with its token, so only the ledger's end shows it
        ((token_id,),) = rows._run("SELECT token_id FROM token_ledger WHERE entry_id = 3")
        rows._run("DELETE FROM token_ledger WHERE entry_id = 3")
        rows._run("DELETE FROM api_tokens WHERE token_id = ?", token_id)
    if edit == "head_edited":
        rows._run("UPDATE token_ledger_head SET last_entry = 2")
    elif edit == "head_deleted":
        rows._run("DELETE FROM token_ledger_head")

    found = problems(verify_all(records))
    tokens.create(agency_id="agency-a", role="caseworker", name="d")
    after = problems(verify_all(records))

    expected = {
        "last_deleted": "entries 3..3 are missing (the last)",
        "head_edited": "the head fails its MAC",
        "head_deleted": "the ledger has entries but no head (deleted)",
    }[edit]
    assert ("token-ledger head", expected) in found
    assert after == (
        [("token-ledger entry 4", "entries 3..3 are missing")]
        if edit == "last_deleted"
        else [("token-ledger head", "the head fails its MAC")]  # the write did not vouch
    )
