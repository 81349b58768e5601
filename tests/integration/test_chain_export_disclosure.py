"""`caserecord chain export` says who the export is for: the agency's own use, or someone
outside it, which is a disclosure recorded on the client and checked against consent."""

from pathlib import Path
from typing import Any
from uuid import UUID

from typer.testing import CliRunner

from caserecord.application import CaseRecords
from caserecord.cli import app
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from tests.integration.stored_rows import StoredRows
from tests.integration.test_consent import CLINIC, clinic_consent, part2_case


def chain_export(database_url: str, case_id: UUID, *args: str) -> Any:
    env = {"CASERECORD_DATABASE_URL": database_url}
    key = Settings(database_url=database_url).integrity_key_path()
    if key is not None:
        env["CASERECORD_INTEGRITY_KEY_FILE"] = str(Path(key).resolve())
    return CliRunner().invoke(app, ["chain", "export", str(case_id), *args], env=env)


def test_an_export_that_names_nobody_is_refused_and_an_internal_one_records_nothing(
    records: CaseRecords, worker: Actor, database_url: str
) -> None:
    client_id, case_id = part2_case(records, worker)

    unnamed = chain_export(database_url, case_id)
    internal = chain_export(database_url, case_id, "--internal")

    assert unnamed.exit_code == 2
    assert "--internal" in unnamed.output
    assert internal.exit_code == 0, internal.output
    assert records.disclosures(worker, client_id) == []


def test_an_export_to_a_recipient_is_a_disclosure_checked_against_consent(
    records: CaseRecords, worker: Actor, database_url: str
) -> None:
    client_id, case_id = part2_case(records, worker)
    clinic_consent(records, worker, client_id)
    to_clinic = ("--recipient", CLINIC, "--purpose", "treatment")

    sent = chain_export(database_url, case_id, *to_clinic)
    refused = chain_export(
        database_url, case_id, "--recipient", "Housing First", "--purpose", "housing"
    )

    assert sent.exit_code == 0, sent.output
    assert refused.exit_code == 1
    assert "consent_required" in refused.output
    (disclosed,) = records.disclosures(worker, client_id)
    assert (disclosed["recipient"], disclosed["channel"]) == (CLINIC, "export")
    assert disclosed["basis"] == "consent"
    assert disclosed["data_classes"] == ["substance_use"]


def test_an_export_whose_proof_needs_a_deleted_tree_node_says_the_store_was_tampered(
    records: CaseRecords, worker: Actor, database_url: str
) -> None:
    _, case_id = part2_case(records, worker)
    StoredRows(database_url)._run("DELETE FROM merkle_nodes WHERE level=0")

    exported = chain_export(database_url, case_id, "--internal")

    assert exported.exit_code == 2, exported.output
    assert "TAMPERED" in exported.output and "verify --all" in exported.output
