"""A database administrator can rewrite an event and recompute every link after it: the
chain alone then verifies (the links' MACs, under a key the database never holds, do not).
A checkpoint signed earlier, with a key kept off the database host, still exposes the
rewrite, and a reviewer checks it offline with the CLI."""

import json
import os
import subprocess
import sys
from pathlib import Path
from uuid import UUID

from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.persistence.chain import Record, chain, verify
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

    stored = [
        Record(str(case_id), s.originator_version, s.topic, bytes(s.state))
        for s in records.recorder.select_events(case_id)
    ]
    assert verify(str(case_id), stored, records.store.chain_links(case_id)).ok  # the chain alone
    checked = records.verify_stream(case_id)
    assert (checked.ok, checked.first_bad_version) == (False, 5) and "MAC" in checked.problem
    result = check_against_checkpoint(
        records.export_stream(case_id), checkpoint, load_public_key(public_pem)
    )
    assert not result.ok
    assert f"version {last} differs from the one signed" in result.message


def test_an_untouched_case_matches_its_checkpoint_after_more_work(
    records: CaseRecords, scenario: ScenarioResult, supervisor: Actor
) -> None:
    private_pem, public_pem = new_private_key_pem()
    checkpoint = sign_checkpoint(load_private_key(private_pem), records.chain_heads(), "t0")
    records.record_note(  # the case is another caseworker's now: its supervisor writes
        supervisor,
        scenario.case_id,
        text="Later visit.",
        contact_kind="client",
        contact_mode="phone",
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
    assert run("export", str(scenario.case_id), "--internal", "--out", "case.json").returncode == 0
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


def write_checkpoint(records: CaseRecords, directory: Path, name: str, issued_at: str) -> Path:
    """A signed checkpoint in ``directory``/checkpoints (the key in ``directory``, made
    once), and the public key's path."""
    directory.mkdir(exist_ok=True)
    private, public = directory / "signing.pem", directory / "signing.pub"
    if not private.exists():
        private_pem, public_pem = new_private_key_pem()
        private.write_bytes(private_pem)
        public.write_bytes(public_pem)
    head = records.tree_head()
    document = sign_checkpoint(
        load_private_key(private.read_bytes()),
        records.chain_heads(),
        issued_at,
        (head.size, head.root),
    )
    (directory / "checkpoints").mkdir(exist_ok=True)
    (directory / "checkpoints" / name).write_text(json.dumps(document))
    return public


def test_a_case_signed_at_its_head_is_covered_and_later_events_are_not_yet(
    records: CaseRecords, scenario: ScenarioResult, worker: Actor, supervisor: Actor, tmp_path: Path
) -> None:
    key = write_checkpoint(records, tmp_path, "cp-1.json", "2026-01-01T00:00:00+00:00")
    checkpoints = tmp_path / "checkpoints"
    streams = records.verify_case(worker, scenario.case_id)
    covered = records.checkpoint_coverage(streams, checkpoints, key)
    records.record_note(  # the case is another caseworker's now: its supervisor writes
        supervisor,
        scenario.case_id,
        text="Later visit.",
        contact_kind="client",
        contact_mode="phone",
    )

    later = records.checkpoint_coverage(
        records.verify_case(worker, scenario.case_id), checkpoints, key
    )

    assert covered["status"] == "covered"
    assert covered["checkpoint"] == "cp-1.json"
    assert all(s["ok"] and s["signed_version"] == s["versions"] for s in covered["streams"])
    assert later["status"] == "partly_covered"
    assert later["streams"][0]["signed_version"] == later["streams"][0]["versions"] - 1


def test_coverage_names_the_newest_authentic_checkpoint_and_counts_a_forged_one(
    records: CaseRecords, scenario: ScenarioResult, worker: Actor, tmp_path: Path
) -> None:
    key = write_checkpoint(records, tmp_path, "a.json", "2026-01-01T00:00:00+00:00")
    write_checkpoint(records, tmp_path, "b.json", "2026-02-01T00:00:00+00:00")
    forged = json.loads((tmp_path / "checkpoints" / "b.json").read_text())
    forged["issued_at"] = "2026-03-01T00:00:00+00:00"  # newer, but no longer signed
    (tmp_path / "checkpoints" / "c.json").write_text(json.dumps(forged))
    streams = records.verify_case(worker, scenario.case_id)

    covered = records.checkpoint_coverage(streams, tmp_path / "checkpoints", key)

    assert covered["checkpoint"] == "b.json"
    assert covered["rejected"] == 1


def test_a_rewrite_after_the_checkpoint_shows_as_a_mismatch_in_its_coverage(
    records: CaseRecords,
    scenario: ScenarioResult,
    worker: Actor,
    tmp_path: Path,
    database_url: str,
) -> None:
    key = write_checkpoint(records, tmp_path, "cp.json", "2026-01-01T00:00:00+00:00")
    last = records.get_case(worker, scenario.case_id)["version"]
    rewrite_history(StoredRows(database_url), scenario.case_id, 5, last)

    covered = records.checkpoint_coverage(
        records.verify_case(worker, scenario.case_id), tmp_path / "checkpoints", key
    )

    assert covered["status"] == "mismatch"
    assert covered["ok"] is False


def test_coverage_without_a_configured_directory_says_what_to_set(
    records: CaseRecords, scenario: ScenarioResult, worker: Actor
) -> None:
    streams = records.verify_case(worker, scenario.case_id)

    covered = records.checkpoint_coverage(streams, None, None)

    assert covered["status"] == "not_configured"
    assert "CASERECORD_CHECKPOINT_DIR" in covered["message"]
