"""A database administrator can rewrite an event and recompute every link after it: the
chain alone then verifies. A checkpoint signed earlier, with a key kept off the database
host, still exposes the rewrite, and a reviewer checks it offline with the CLI."""

import json
import os
import subprocess
import sys
from pathlib import Path
from uuid import UUID

from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.persistence.chain import Record, chain
from caserecord.persistence.checkpoint import (
    check_against_checkpoint,
    load_private_key,
    load_public_key,
    new_private_key_pem,
    sign_checkpoint,
)
from tests.integration.stored_rows import StoredRows
from tests.scenario import ScenarioResult


def rewrite_history(rows: StoredRows, stream: UUID, version: int, last: int) -> None:
    """Change one event and recompute the links from it on, as an insider could."""
    rows.flip_byte(stream, version)
    prev = rows.link(stream, version)[0]
    records = [
        Record(str(stream), v, topic, rows.state(stream, v))
        for v, topic in zip(
            range(version, last + 1), topics(rows, stream, version, last), strict=True
        )
    ]
    for record, link in chain(prev, records):
        rows.set_link(stream, record.version, "prev_hash", link.prev_hash)
        rows.set_link(stream, record.version, "hash", link.hash)


def topics(rows: StoredRows, stream: UUID, first: int, last: int) -> list[str]:
    found = rows._run(
        "SELECT originator_version, topic FROM stored_events WHERE originator_id=? "
        "AND originator_version>=? AND originator_version<=? ORDER BY originator_version",
        rows.event_id(stream),
        first,
        last,
    )
    return [str(topic) for _, topic in found]


def test_a_rewrite_with_recomputed_links_passes_the_chain_but_not_the_signed_checkpoint(
    records: CaseRecords, scenario: ScenarioResult, database_url: str, worker: Actor
) -> None:
    private_pem, public_pem = new_private_key_pem()
    case_id = scenario.case_id
    last = records.get_case(worker, case_id)["version"]
    checkpoint = sign_checkpoint(load_private_key(private_pem), records.chain_heads(), "t0")

    rewrite_history(StoredRows(database_url), case_id, 5, last)

    assert records.verify_stream(case_id).ok  # the chain alone is fooled
    result = check_against_checkpoint(
        records.export_stream(case_id), checkpoint, load_public_key(public_pem)
    )
    assert not result.ok
    assert f"version {last} differs from the one signed" in result.message


def test_an_untouched_case_matches_its_checkpoint_after_more_work(
    records: CaseRecords, scenario: ScenarioResult, worker: Actor
) -> None:
    private_pem, public_pem = new_private_key_pem()
    checkpoint = sign_checkpoint(load_private_key(private_pem), records.chain_heads(), "t0")
    records.record_note(
        worker, scenario.case_id, text="Later visit.", contact_kind="client", contact_mode="phone"
    )

    result = check_against_checkpoint(
        records.export_stream(scenario.case_id), checkpoint, load_public_key(public_pem)
    )

    assert result.ok, result.message
    assert {str(scenario.case_id), str(scenario.client_id)} <= set(checkpoint["heads"])


def test_a_reviewer_runs_keygen_checkpoint_export_and_check_from_the_cli(
    records: CaseRecords, scenario: ScenarioResult, tmp_path: Path, database_url: str
) -> None:
    cli = Path(sys.executable).parent / "caserecord"
    env = os.environ | {"CASERECORD_DATABASE_URL": database_url}
    # The CLI runs elsewhere: a key path relative to the tests' directory must not move.
    key = Settings(database_url=database_url).integrity_key_path()
    if key is not None:
        env["CASERECORD_INTEGRITY_KEY_FILE"] = str(key.resolve())

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(cli), "chain", *args],
            env=env, capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
        )  # fmt: skip

    assert run("keygen", "--private", "signer.pem", "--public", "signer.pub").returncode == 0
    assert run("checkpoint", "--key", "signer.pem", "--out", "cp.json").returncode == 0
    assert run("export", str(scenario.case_id), "--out", "case.json").returncode == 0
    ok = run("check", "case.json", "--checkpoint", "cp.json", "--public-key", "signer.pub")
    export = json.loads((tmp_path / "case.json").read_text())
    export["records"][3]["state_b64"] = export["records"][4]["state_b64"]
    (tmp_path / "forged.json").write_text(json.dumps(export))
    bad = run("check", "forged.json", "--checkpoint", "cp.json", "--public-key", "signer.pub")

    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("ok: chain ok")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        f"TAMPERED: stream {scenario.case_id} version 4: the stored event does not match its hash"
    ]
