"""`caserecord db rotate-key`: every MAC re-made under a new integrity key in one
transaction, on both stores; a store that does not verify under the old key is not
rotated, so nothing changed behind the service's back is laundered."""

import secrets
import subprocess
from pathlib import Path

import pytest

from caserecord.access import AccessLog, Reader, Subject, Tables, TokenStore
from caserecord.application import CaseRecords
from caserecord.audit import Report, verify_all
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.persistence.mac import Macs
from caserecord.rekey import RotationRefusedError, rotate_key
from caserecord.store import open_records
from tests.integration.processes import CASERECORD, env_for
from tests.integration.stored_rows import StoredRows
from tests.scenario import ScenarioResult, extend_case


@pytest.fixture
def store(
    records: CaseRecords, scenario: ScenarioResult, worker: Actor
) -> tuple[CaseRecords, ScenarioResult]:
    """Events past a snapshot, tokens (one revoked), access-log entries and idempotency
    keys (a command's, a token's)."""
    extend_case(records, worker, scenario, 105)
    records.register_client(
        worker, given_name="Ana", family_name="Keyed", idempotency=("client-key", "fp")
    )
    tokens = TokenStore(Tables(records))
    tokens.create(agency_id="agency-a", role="caseworker", name="w", idempotency=("t-key", "fp"))
    gone, _ = tokens.create(agency_id="agency-a", role="admin", name="left")
    tokens.revoke(gone.token_id)
    reader = Reader(worker.id, worker.role, worker.agency_id, "t", "care", "r1")
    AccessLog(Tables(records)).record(
        reader, "read_case", [Subject(scenario.client_id, scenario.case_id)]
    )
    return records, scenario


def verified_under(settings: Settings, key: bytes) -> Report:
    """`verify --all` by a service holding ``key``."""
    app = open_records(Settings(database_url=settings.database_url, integrity_key=key.hex()))
    try:
        return verify_all(app)
    finally:
        app.close()


def test_every_mac_is_remade_under_the_new_key(
    store: tuple[CaseRecords, ScenarioResult], settings: Settings
) -> None:
    records, _ = store
    new_key = secrets.token_bytes(32)

    rotated = rotate_key(records, Macs(new_key))

    assert rotated.rows["event_chain"] == verified_under(settings, new_key).events
    assert {"event_agency", "snapshot_macs", "api_tokens", "token_ledger", "access_log"} <= {
        table for table, count in rotated.rows.items() if count
    }
    assert rotated.rows["idempotency_keys"] == 2
    assert rotated.rows["access_log_heads"] == 1  # the client read
    assert rotated.rows["token_ledger_head"] == 1
    assert rotated.rows["idempotency_heads"] == 1  # agency-a's
    assert verified_under(settings, new_key).ok
    records.repository.cache = None
    old = verify_all(records)
    assert not old.ok and {"events", "tokens", "access_log", "idempotency", "tree"} <= {
        p.part for p in old.problems
    }


def test_a_store_with_a_provider_token_is_rotated_and_verifies_under_the_new_key(
    store: tuple[CaseRecords, ScenarioResult], settings: Settings
) -> None:
    records, _ = store
    tokens = TokenStore(Tables(records))
    _, secret = tokens.create(
        agency_id="agency-a", role="provider", name="shelter", organization_id="org-1"
    )
    new_key = secrets.token_bytes(32)

    rotate_key(records, Macs(new_key))

    assert verified_under(settings, new_key).ok
    app = open_records(Settings(database_url=settings.database_url, integrity_key=new_key.hex()))
    try:
        assert TokenStore(Tables(app)).authenticate(secret) is not None
    finally:
        app.close()


def test_a_row_failing_its_mac_stops_the_rotation_and_nothing_changes(
    store: tuple[CaseRecords, ScenarioResult], settings: Settings, database_url: str
) -> None:
    records, _ = store
    StoredRows(database_url)._run("UPDATE api_tokens SET role='admin' WHERE name='w'")
    new_key = secrets.token_bytes(32)

    with pytest.raises(RotationRefusedError, match="token"):
        rotate_key(records, Macs(new_key))

    assert {p.part for p in verify_all(records).problems} == {"tokens"}
    assert not verified_under(settings, new_key).ok


def test_an_idempotency_key_failing_its_mac_stops_the_rotation_and_nothing_changes(
    store: tuple[CaseRecords, ScenarioResult], settings: Settings, database_url: str
) -> None:
    records, _ = store
    StoredRows(database_url)._run(
        "UPDATE idempotency_keys SET result='{}' WHERE idem_key='client-key'"
    )
    new_key = secrets.token_bytes(32)

    with pytest.raises(RotationRefusedError, match="idempotency key client-key"):
        rotate_key(records, Macs(new_key))

    assert {p.part for p in verify_all(records).problems} == {"idempotency"}
    assert not verified_under(settings, new_key).ok


@pytest.mark.parametrize("head", ["access_log_heads", "token_ledger_head", "idempotency_heads"])
def test_a_head_failing_its_mac_stops_the_rotation_and_nothing_changes(
    store: tuple[CaseRecords, ScenarioResult], settings: Settings, database_url: str, head: str
) -> None:
    records, _ = store
    column = "last_entry" if head == "token_ledger_head" else "last_seq"
    StoredRows(database_url)._run(f"UPDATE {head} SET {column} = {column} + 1")
    new_key = secrets.token_bytes(32)

    with pytest.raises(RotationRefusedError, match="head"):
        rotate_key(records, Macs(new_key))

    assert {p.part for p in verify_all(records).problems} == {
        {"access_log_heads": "access_log", "token_ledger_head": "tokens"}.get(head, "idempotency")
    }
    assert not verified_under(settings, new_key).ok


def test_the_command_refuses_a_tampered_store_and_rotates_an_intact_one(
    store: tuple[CaseRecords, ScenarioResult],
    settings: Settings,
    database_url: str,
    tmp_path: Path,
) -> None:
    _, scenario = store
    env = env_for(settings) | {"CASERECORD_INTEGRITY_KEY_FILE": str(settings.integrity_key_path())}
    new_file = tmp_path / "new.key"

    def rotate() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CASERECORD, "db", "rotate-key", "--new-key-file", str(new_file)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    rows = StoredRows(database_url)
    rows.flip_byte(scenario.case_id, 3)
    refused = rotate()
    rows.flip_byte(scenario.case_id, 3)  # flipped back: intact again
    done = rotate()

    assert refused.returncode == 2 and "not rotated" in refused.stderr
    assert done.returncode == 0, done.stderr
    assert "rotated:" in done.stdout
    new_key = bytes.fromhex(new_file.read_text().strip())
    assert verified_under(settings, new_key).ok
