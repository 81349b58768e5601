"""One command, one transaction: the event and every row beside it (hash chain with its MAC,
feed index, Merkle tree, entry index, idempotency key) are written together or not at all,
on both stores; on PostgreSQL a note costs two round trips.  A command that named no version
starts from the process cache and runs again on the fresh state when the cache was behind."""

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from benchmarks.count_statements import counting

from caserecord.application import CaseRecords
from caserecord.audit import verify_all
from caserecord.config import Settings
from caserecord.domain.errors import (
    CaseClosedError,
    ConcurrencyConflictError,
    VersionMismatchError,
)
from caserecord.domain.recording import Actor
from caserecord.store import open_records
from tests.factories import all_notes, an_open_case
from tests.integration.stored_rows import StoredRows

TABLES = (
    "stored_events",
    "event_chain",
    "event_agency",
    "case_entries",
    "idempotency_keys",
    "idempotency_heads",
    "merkle_nodes",
)


def counts(rows: StoredRows) -> dict[str, int]:
    found = {t: int(rows._run(f"SELECT COUNT(*) FROM {t}")[0][0]) for t in TABLES}
    found["tree size"] = int(rows._run("SELECT size FROM merkle_head")[0][0])
    return found


def write_note(app: CaseRecords, actor: Actor, case_id: UUID, **opts: Any) -> Any:
    return app.record_note(
        actor, case_id, text="Phoned the client.", contact_kind="client", contact_mode="phone",
        **opts,
    )  # fmt: skip


@pytest.fixture
def rival(records: CaseRecords, settings: Settings) -> Iterator[CaseRecords]:
    """Another service instance on the same store, like another web worker."""
    app = open_records(settings)
    yield app
    app.close()


def test_a_note_writes_its_event_and_every_row_beside_it(
    records: CaseRecords, worker: Actor, database_url: str
) -> None:
    case_id = an_open_case(records, worker)
    rows = StoredRows(database_url)
    before = counts(rows)

    write_note(records, worker, case_id, idempotency=("key-1", "fingerprint"))

    after = counts(rows)
    grown = {t: after[t] - before[t] for t in after}
    assert grown.pop("merkle_nodes") >= 1
    assert grown == dict.fromkeys(grown, 1)
    check = records.verify_stream(case_id)
    assert (check.ok, check.versions_checked) == (True, 2)


def test_a_save_refused_at_its_idempotency_key_leaves_no_row_behind(
    records: CaseRecords, worker: Actor, database_url: str
) -> None:
    case_id = an_open_case(records, worker)
    rows = StoredRows(database_url)
    taken = ("agency-a", "key-2", "other", "{}", "2026-01-01T00:00:00+00:00")
    macs = records.integrity_macs
    rows._run(
        "INSERT INTO idempotency_keys (agency_id, idem_key, fingerprint, result, created_at, "
        "seq, mac) VALUES (?,?,?,?,?,?,?)",
        *taken,
        1,
        macs.idempotency(*taken, 1),
    )
    rows._run(
        "INSERT INTO idempotency_heads VALUES (?,?,?)",
        "agency-a",
        1,
        macs.idempotency_head("agency-a", 1),
    )
    before = counts(rows)

    with pytest.raises(ConcurrencyConflictError):
        write_note(records, worker, case_id, idempotency=("key-2", "fingerprint"))

    assert counts(rows) == before
    assert rows._run("SELECT last_seq FROM idempotency_heads") == [(1,)]
    assert write_note(records, worker, case_id).version == 2
    assert records.verify_stream(case_id).ok


def test_an_error_in_python_after_the_events_are_inserted_rolls_everything_back(
    records: CaseRecords, worker: Actor, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = an_open_case(records, worker)
    rows = StoredRows(database_url)
    before = counts(rows)

    def broken_seal(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("sealing failed")

    for store in ("sqlite", "postgres"):
        monkeypatch.setattr(f"caserecord.persistence.{store}.seal", broken_seal)
    with pytest.raises(RuntimeError, match="sealing failed"):
        write_note(records, worker, case_id)

    assert counts(rows) == before
    monkeypatch.undo()
    assert write_note(records, worker, case_id).version == 2
    assert records.verify_stream(case_id).ok


@pytest.mark.postgres
def test_a_note_on_postgresql_is_eight_statements_in_two_round_trips(
    postgres_url: str, worker: Actor
) -> None:
    from caserecord.provision import init_store

    init_store(Settings(database_url=postgres_url))
    with counting(postgres_url) as (counter, url):
        app = open_records(Settings(database_url=url))
        try:
            cases = [an_open_case(app, worker) for _ in range(4)]
            for case_id in cases:  # warm: the cache, the pool's connections
                write_note(app, worker, case_id)
            counter.reset()
            for case_id in cases:
                write_note(app, worker, case_id)
            tally = counter.reset()
        finally:
            app.close()

    assert tally.statements == 8 * len(cases), tally.by_text
    assert tally.round_trips <= 2 * len(cases) + 1, tally.by_text


def test_a_command_started_from_a_stale_cache_runs_again_on_the_fresh_state(
    records: CaseRecords, rival: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    mine = write_note(records, worker, case_id)  # the cache holds version 2
    theirs = write_note(rival, worker, case_id)  # the store is at version 3

    again = write_note(records, worker, case_id)

    assert (mine.version, theirs.version, again.version) == (2, 3, 4)
    assert records._stale > 0  # the lost first attempt was counted
    notes = {n["note_id"] for n in all_notes(records, worker, case_id)}
    assert notes == {mine.entity_id, theirs.entity_id, again.entity_id}
    assert records.verify_stream(case_id).ok


def test_a_command_with_if_match_reads_the_store_not_the_cache(
    records: CaseRecords, rival: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    write_note(records, worker, case_id)
    write_note(rival, worker, case_id)

    with pytest.raises(VersionMismatchError):
        write_note(records, worker, case_id, expected_version=2)
    assert write_note(records, worker, case_id, expected_version=3).version == 4


def test_a_refusal_of_the_cached_state_is_checked_against_the_fresh_state(
    records: CaseRecords, rival: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    case_id = an_open_case(records, worker)
    records.close_case(
        supervisor, case_id, outcome="moved away", discharge_reason="goals_met", reason="moved away"
    )
    rival.reopen_case(supervisor, case_id, reason="came back")

    written = write_note(records, worker, case_id)  # the cache still says closed

    assert written.version == 4


def test_a_case_closed_meanwhile_refuses_the_note_with_the_domains_own_error(
    records: CaseRecords, rival: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    case_id = an_open_case(records, worker)
    write_note(records, worker, case_id)
    rival.close_case(
        supervisor, case_id, outcome="moved away", discharge_reason="goals_met", reason="moved away"
    )

    with pytest.raises(CaseClosedError):
        write_note(records, worker, case_id)  # the cache still says open


def test_two_instances_writing_in_turn_keep_one_tree_that_verifies(
    records: CaseRecords, rival: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    for _ in range(3):
        write_note(records, worker, case_id)
        write_note(rival, worker, case_id)

    report = verify_all(records)

    assert report.ok, report.problems
    assert report.tree_size == report.events


def test_a_writer_refuses_to_append_to_an_older_tree_head_restored_under_it(
    records: CaseRecords, worker: Actor, database_url: str
) -> None:
    case_id = an_open_case(records, worker)
    rows = StoredRows(database_url)
    older = rows._run("SELECT size, root, frontier, mac FROM merkle_head")[0]
    write_note(records, worker, case_id)
    rows._run("UPDATE merkle_head SET size=?, root=?, frontier=?, mac=?", *older)

    with pytest.raises(ConcurrencyConflictError):  # its leaf's place in the tree is taken
        write_note(records, worker, case_id)

    assert "tree" in {p.part for p in verify_all(records).problems}
