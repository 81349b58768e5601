"""Tamper evidence against the real stores: edit the database behind the service's back and
the verifier names the stream and the first bad version."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.cryptography import AESCipher

from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.persistence.chain import MissingEventsError
from tests.integration.stored_rows import StoredRows
from tests.scenario import ScenarioResult, extend_case, run_core_scenario


@pytest.fixture
def scenario(scenario: ScenarioResult, records: CaseRecords) -> ScenarioResult:
    """The shared scenario, verified whole before a test changes its stored rows."""
    assert records.verify_stream(scenario.case_id).ok
    return scenario


@pytest.fixture
def rows(database_url: str) -> StoredRows:
    return StoredRows(database_url)


@pytest.mark.parametrize("version", [1, 7, "last"])
def test_one_changed_byte_of_a_stored_event_is_found_at_its_version(
    records: CaseRecords, scenario: ScenarioResult, rows: StoredRows, version: int | str
) -> None:
    target = scenario.final_version if version == "last" else int(version)
    rows.flip_byte(scenario.case_id, target)

    result = records.verify_stream(scenario.case_id)

    assert not result.ok
    assert result.stream_id == str(scenario.case_id)
    assert result.first_bad_version == target
    assert result.versions_checked == target - 1


def test_every_byte_of_a_stored_event_is_covered(
    records: CaseRecords, scenario: ScenarioResult, rows: StoredRows
) -> None:
    version = scenario.steps["note_recorded"]
    original = rows.state(scenario.case_id, version)
    # Every position would be slow on PostgreSQL; both ends and a stride through the middle.
    positions = sorted({0, len(original) - 1, *range(0, len(original), 97)})

    missed = []
    for position in positions:
        rows.flip_byte(scenario.case_id, version, position)
        if records.verify_stream(scenario.case_id).first_bad_version != version:
            missed.append(position)
        rows.set_state(scenario.case_id, version, original)

    assert missed == []
    assert records.verify_stream(scenario.case_id).ok


def test_a_restored_event_verifies_again(
    records: CaseRecords, scenario: ScenarioResult, rows: StoredRows
) -> None:
    original = rows.state(scenario.case_id, 3)
    rows.flip_byte(scenario.case_id, 3)
    rows.set_state(scenario.case_id, 3, original)

    assert records.verify_stream(scenario.case_id).ok


def test_a_changed_client_event_is_found_in_the_client_stream(
    records: CaseRecords, scenario: ScenarioResult, rows: StoredRows, worker: Actor
) -> None:
    rows.flip_byte(scenario.client_id, 1)

    case_check, client_check = records.verify_case(worker, scenario.case_id)

    assert case_check.ok
    assert (client_check.ok, client_check.stream_id) == (False, str(scenario.client_id))
    assert client_check.first_bad_version == 1


@pytest.mark.parametrize("column", ["hash", "prev_hash"])
def test_a_changed_chain_row_is_found_at_its_version(
    records: CaseRecords, scenario: ScenarioResult, rows: StoredRows, column: str
) -> None:
    rows.set_link(scenario.case_id, 5, column, "ab" * 32)

    result = records.verify_stream(scenario.case_id)

    assert (result.ok, result.first_bad_version) == (False, 5)


def test_a_deleted_last_event_is_found(
    records: CaseRecords, scenario: ScenarioResult, rows: StoredRows
) -> None:
    rows.delete_event(scenario.case_id, scenario.final_version)

    result = records.verify_stream(scenario.case_id)

    assert (result.ok, result.first_bad_version) == (False, scenario.final_version)
    assert result.problem == "a chained event is missing"


def test_an_event_slipped_in_behind_the_service_is_found(
    records: CaseRecords, scenario: ScenarioResult, rows: StoredRows, worker: Actor
) -> None:
    forged = scenario.final_version + 1
    closed = rows.state(scenario.case_id, scenario.steps["closed"])
    rows.append_event(scenario.case_id, forged, "caserecord.domain.case:Case.Closed", closed)

    result = records.verify_stream(scenario.case_id)

    assert (result.ok, result.first_bad_version) == (False, forged)
    assert result.problem == "the event has no hash-chain link"


def test_a_deleted_middle_event_is_found(
    records: CaseRecords, scenario: ScenarioResult, rows: StoredRows
) -> None:
    rows.delete_event(scenario.case_id, 10)

    result = records.verify_stream(scenario.case_id)

    assert (result.ok, result.first_bad_version) == (False, 10)


def test_two_swapped_events_are_found_at_the_first_of_them(
    records: CaseRecords, scenario: ScenarioResult, rows: StoredRows
) -> None:
    closed, reopened = scenario.steps["closed"], scenario.steps["reopened"]
    first, second = rows.state(scenario.case_id, closed), rows.state(scenario.case_id, reopened)
    rows.set_state(scenario.case_id, closed, second)
    rows.set_state(scenario.case_id, reopened, first)

    result = records.verify_stream(scenario.case_id)

    assert (result.ok, result.first_bad_version) == (False, closed)


def test_the_cli_names_the_tampered_stream_and_version_in_one_line(
    records: CaseRecords, scenario: ScenarioResult, rows: StoredRows, database_url: str
) -> None:
    rows.flip_byte(scenario.case_id, 4)
    cli = Path(sys.executable).parent / "caserecord"
    env = os.environ | {"CASERECORD_DATABASE_URL": database_url}

    done = subprocess.run(
        [str(cli), "verify", str(scenario.case_id)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"TAMPERED: stream {scenario.case_id} version 4: the stored event does not match its hash"
    ]


# ---- snapshots ----------------------------------------------------------------------


@pytest.fixture
def snapshotted(records: CaseRecords, scenario: ScenarioResult, worker: Actor) -> ScenarioResult:
    extend_case(records, worker, scenario, 120)
    return scenario


def test_a_snapshotted_case_verifies(records: CaseRecords, snapshotted: ScenarioResult) -> None:
    result = records.verify_stream(snapshotted.case_id)

    assert (result.ok, result.versions_checked) == (True, 120)


def test_a_snapshot_changed_in_the_database_is_found_at_its_version(
    records: CaseRecords, snapshotted: ScenarioResult, rows: StoredRows, worker: Actor
) -> None:
    state = rows.snapshot(snapshotted.case_id, 100)
    assert b"Requests help with sobriety" in state
    rows.set_snapshot(
        snapshotted.case_id,
        100,
        state.replace(b"Requests help with sobriety", b"Requests help with drinking"),
    )
    records.repository.cache = None  # read from the store, as a freshly started worker does

    served = records.get_case(worker, snapshotted.case_id)
    result = records.verify_stream(snapshotted.case_id)

    # The forged snapshot fails its MAC, so a read replays the events instead.
    assert served["interview_summary"].startswith("Requests help with sobriety")
    assert (result.ok, result.stream_id) == (False, str(snapshotted.case_id))
    assert result.first_bad_version == 100
    assert result.problem == "snapshot: the stored snapshot does not match the events"


def test_an_unreadable_snapshot_is_found_at_its_version(
    records: CaseRecords, snapshotted: ScenarioResult, rows: StoredRows
) -> None:
    rows.set_snapshot(snapshotted.case_id, 100, b"\x00garbage")

    result = records.verify_stream(snapshotted.case_id)

    assert (result.ok, result.first_bad_version) == (False, 100)
    assert result.problem == "snapshot: the stored snapshot cannot be read"


# ---- encryption at rest -------------------------------------------------------------


@pytest.fixture
def encrypted(records: CaseRecords, settings: Settings) -> Iterator[CaseRecords]:
    """The same store (made by ``records``) opened with the library's cipher switched on."""
    env = settings.eventsourcing_env() | {
        "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
        "CIPHER_KEY": AESCipher.create_key(16),
    }
    app = CaseRecords(env=env)
    yield app
    app.close()


def test_the_chain_covers_the_encrypted_bytes_so_verification_needs_no_key(
    records: CaseRecords,
    encrypted: CaseRecords,
    rows: StoredRows,
    worker: Actor,
    supervisor: Actor,
) -> None:
    result = run_core_scenario(encrypted, worker, supervisor)
    stored = rows.state(result.client_id, 1)

    assert b"Maria" not in stored and b"Lopez" not in stored
    assert encrypted.get_client(worker, result.client_id)["given_name"] == "Maria"
    assert encrypted.verify_stream(result.case_id).ok
    # `records` has no cipher key: the chain is over the stored bytes, not the plaintext.
    assert records.verify_stream(result.case_id).ok

    rows.flip_byte(result.case_id, 6)

    for app in (encrypted, records):
        check = app.verify_stream(result.case_id)
        assert (check.ok, check.stream_id, check.first_bad_version) == (
            False,
            str(result.case_id),
            6,
        )


def test_encrypted_snapshots_are_verified_with_the_key(
    encrypted: CaseRecords, rows: StoredRows, worker: Actor, supervisor: Actor
) -> None:
    result = run_core_scenario(encrypted, worker, supervisor)
    extend_case(encrypted, worker, result, 100)
    assert b"Home visit" not in rows.snapshot(result.case_id, 100)
    assert encrypted.verify_stream(result.case_id).ok

    state = bytearray(rows.snapshot(result.case_id, 100))
    state[len(state) // 2] ^= 0x01
    rows.set_snapshot(result.case_id, 100, bytes(state))

    check = encrypted.verify_stream(result.case_id)
    assert (check.ok, check.first_bad_version) == (False, 100)
    assert check.problem == "snapshot: the stored snapshot cannot be read"


def test_a_page_that_needs_a_deleted_event_names_it_instead_of_failing_blindly(
    records: CaseRecords, scenario: ScenarioResult, rows: StoredRows, worker: Actor
) -> None:
    case: Any = records.repository.get(scenario.case_id)
    version = records.entries(case).notes([scenario.kept_note_id])[scenario.kept_note_id]
    rows.delete_event(scenario.case_id, version)

    with pytest.raises(MissingEventsError) as raised:
        records.case_notes(worker, scenario.case_id, limit=50)

    assert raised.value.versions == [version]
    assert f"no event at version {version} of stream {scenario.case_id}" in str(raised.value)
