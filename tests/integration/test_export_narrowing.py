"""A case export narrowed to what it shares, through the service and the CLI, on both
stores: the disclosure lists exactly the classes and versions that leave, the consent check
covers exactly those, the case handed over carries nothing withheld, and a narrowed chain
export still checks offline against a signed checkpoint."""

import base64
import json
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner

from caserecord.application import CaseRecords
from caserecord.cli import app
from caserecord.domain.consent import REDISCLOSURE_NOTICE, form_hash
from caserecord.domain.errors import ConsentRequiredError, NoNeedToKnowError
from caserecord.domain.recording import Actor
from caserecord.persistence.checkpoint import (
    check_against_checkpoint,
    load_private_key,
    load_public_key,
    new_private_key_pem,
    sign_checkpoint,
)
from tests.integration.test_chain_export_disclosure import chain_export
from tests.integration.test_consent import CLINIC, clinic_consent, part2_case

OTHER = Actor("worker-2", "caseworker", "agency-a")
REVIEWER = Actor("rita", "compliance_reviewer", "agency-a")
TO_CLINIC: dict[str, Any] = {
    "recipient_kind": "organisation",
    "recipient": CLINIC,
    "purpose": "treatment",
}


def a_mixed_case(records: CaseRecords, worker: Actor) -> tuple[UUID, UUID, dict[str, int]]:
    """A Part 2 case managed by ``worker`` with, in this order, a plain note (version 2),
    an HIV note (3), an addendum to it (4) and a psychotherapy note (5), all by ``worker``."""
    client_id, case_id = part2_case(records, worker)
    plain = records.record_note(worker, case_id, text="Relapse plan.", contact_mode="in_person")
    hiv = records.record_note(
        worker, case_id, text="Viral load.", contact_mode="in_person", labels=["hiv"]
    )
    assert hiv.entity_id is not None
    addendum = records.append_addendum(worker, case_id, note_id=hiv.entity_id, text="Retest.")
    psy = records.record_note(
        worker,
        case_id,
        text="Session content.",
        contact_mode="in_person",
        labels=["psychotherapy_notes"],
    )
    versions = {
        "plain": plain.version,
        "hiv": hiv.version,
        "addendum": addendum.version,
        "psy": psy.version,
    }
    assert list(versions.values()) == [2, 3, 4, 5]
    return client_id, case_id, versions


def versions_listed(disclosure: dict[str, Any]) -> list[int]:
    """The versions whose content left."""
    return [e["version"] for e in disclosure["entries_disclosed"] if e["kind"] != "withheld"]


def withheld_listed(disclosure: dict[str, Any]) -> list[int]:
    return [e["version"] for e in disclosure["entries_disclosed"] if e["kind"] == "withheld"]


def consent_to_all(records: CaseRecords, actor: Actor, client_id: UUID) -> None:
    records.grant_consent(
        actor,
        client_id,
        recipient_kind="organisation",
        recipient=CLINIC,
        purpose="treatment",
        data=["all"],
        form_sha256=form_hash(b"signed on paper"),
        expires_on=date(2099, 12, 31),
    )


def test_an_export_sharing_part_2_only_withholds_the_hiv_and_psychotherapy_entries(
    records: CaseRecords, worker: Actor
) -> None:
    client_id, case_id, _ = a_mixed_case(records, worker)
    hiv_note = records.get_case(worker, case_id)["notes"][1]["note_id"]
    records.create_task(
        worker,
        case_id,
        title="Retest result",
        owner_id=worker.id,
        due_on=date(2099, 1, 1),
        concerns="note",
        concerns_id=hiv_note,
    )
    records.create_task(worker, case_id, title="Call", owner_id=worker.id, due_on=date(2099, 1, 1))
    clinic_consent(records, worker, client_id)

    made = records.export_case(worker, case_id, shares=["substance_use"], **TO_CLINIC)

    disclosure = records.get_disclosure(worker, client_id, str(made.entity_id))
    assert disclosure["data_classes"] == ["substance_use"]
    assert versions_listed(disclosure) == [1, 2, 7]
    assert withheld_listed(disclosure) == [3, 4, 5, 6]
    assert disclosure["notice"] == REDISCLOSURE_NOTICE
    assert (disclosure["basis"], disclosure["channel"]) == ("consent", "export")
    case = records.exported_case(worker, case_id, disclosure)
    assert [n["text"] for n in case["notes"]] == ["Relapse plan."]
    assert case["note_count"] == 1
    assert [t["title"] for t in case["tasks"]] == ["Call"] and case["task_count"] == 1
    assert case["labels"] == ["substance_use"]
    assert case["entry_labels"] == {}
    assert case["interview_summary"] == "Wants treatment."


def test_the_whole_record_needs_a_consent_covering_every_class_it_holds(
    records: CaseRecords, worker: Actor
) -> None:
    client_id, case_id, _ = a_mixed_case(records, worker)
    clinic_consent(records, worker, client_id)

    with pytest.raises(ConsentRequiredError) as refused:
        records.export_case(worker, case_id, **TO_CLINIC)

    assert refused.value.details["classes_needing_consent"] == [
        "substance_use",
        "hiv",
        "psychotherapy_notes",
    ]
    assert records.disclosures(worker, client_id) == []


def test_sharing_a_class_the_case_holds_no_entry_of_discloses_only_what_leaves(
    records: CaseRecords, worker: Actor
) -> None:
    client_id, case_id = part2_case(records, worker)
    records.record_note(worker, case_id, text="Visit.", contact_mode="phone")
    clinic_consent(records, worker, client_id)

    made = records.export_case(worker, case_id, shares=["substance_use", "hiv"], **TO_CLINIC)

    disclosure = records.get_disclosure(worker, client_id, str(made.entity_id))
    assert disclosure["data_classes"] == ["substance_use"]
    assert disclosure["entries_disclosed"] == [
        {"stream_id": str(case_id), "version": 2, "kind": "case"}
    ]


def test_shares_never_go_below_the_case_own_labels(records: CaseRecords, worker: Actor) -> None:
    _, case_id, _ = a_mixed_case(records, worker)

    with pytest.raises(ConsentRequiredError) as refused:
        records.export_case(worker, case_id, shares=["hiv"], **TO_CLINIC)

    assert refused.value.details["classes_needing_consent"] == ["substance_use", "hiv"]


def test_a_supervisor_export_leaves_out_the_psychotherapy_note_they_cannot_read(
    records: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    client_id, case_id, v = a_mixed_case(records, worker)
    consent_to_all(records, worker, client_id)

    made = records.export_case(supervisor, case_id, **TO_CLINIC)

    disclosure = records.get_disclosure(supervisor, client_id, str(made.entity_id))
    assert disclosure["data_classes"] == ["substance_use", "hiv"]
    assert versions_listed(disclosure) == [1, v["plain"], v["hiv"], v["addendum"]]
    case = records.exported_case(supervisor, case_id, disclosure)
    assert [n["text"] for n in case["notes"]] == ["Relapse plan.", "Viral load."]
    assert [a["text"] for a in case["notes"][1]["addenda"]] == ["Retest."]
    assert case["entry_labels"] == {v["hiv"]: ["substance_use", "hiv"]}


def test_the_author_exports_their_own_psychotherapy_note_under_a_consent_covering_it(
    records: CaseRecords, worker: Actor
) -> None:
    client_id, case_id, v = a_mixed_case(records, worker)
    consent_to_all(records, worker, client_id)

    made = records.export_case(worker, case_id, **TO_CLINIC)

    disclosure = records.get_disclosure(worker, client_id, str(made.entity_id))
    assert disclosure["data_classes"] == ["substance_use", "hiv", "psychotherapy_notes"]
    assert disclosure["entries_disclosed"] == [
        {"stream_id": str(case_id), "version": v["psy"], "kind": "case"}
    ]
    case = records.exported_case(worker, case_id, disclosure)
    assert len(case["notes"]) == 3


def test_a_caseworker_outside_a_labelled_case_may_not_export_it(
    records: CaseRecords, worker: Actor
) -> None:
    client_id, case_id, _ = a_mixed_case(records, worker)
    consent_to_all(records, worker, client_id)

    with pytest.raises(NoNeedToKnowError):
        records.export_case(OTHER, case_id, **TO_CLINIC)

    assert records.disclosures(worker, client_id) == []


def test_a_narrowed_chain_export_checks_offline_and_counts_its_stubs(
    records: CaseRecords, worker: Actor
) -> None:
    client_id, case_id, v = a_mixed_case(records, worker)
    clinic_consent(records, worker, client_id)
    private_pem, public_pem = new_private_key_pem()
    head = records.tree_head()
    checkpoint = sign_checkpoint(
        load_private_key(private_pem), records.chain_heads(), "t0", (head.size, head.root)
    )
    made = records.export_case(REVIEWER, case_id, shares=["substance_use"], **TO_CLINIC)
    disclosure = records.get_disclosure(worker, client_id, str(made.entity_id))

    export = records.exported_stream(REVIEWER, case_id, disclosure, head.size)
    result = check_against_checkpoint(export, checkpoint, load_public_key(public_pem))

    assert result.ok, result.message
    assert "3 withheld" in result.message
    stubs = [r for r in export["records"] if r.get("withheld")]
    assert [r["version"] for r in stubs] == [v["hiv"], v["addendum"], v["psy"]]
    assert all("state_b64" not in r and len(r["state_sha256"]) == 64 for r in stubs)
    assert all(r["topic"] and "inclusion" in r and "position" in r for r in stubs)
    forged = json.loads(json.dumps(export))
    kept = forged["records"][1]
    kept["state_b64"] = base64.b64encode(b"{}").decode()
    tampered = check_against_checkpoint(forged, checkpoint, load_public_key(public_pem))
    assert not tampered.ok
    assert tampered.message.endswith("version 2: the stored event does not match its hash")


def test_a_stub_whose_hash_is_changed_breaks_the_chain(records: CaseRecords, worker: Actor) -> None:
    client_id, case_id, v = a_mixed_case(records, worker)
    clinic_consent(records, worker, client_id)
    private_pem, public_pem = new_private_key_pem()
    checkpoint = sign_checkpoint(load_private_key(private_pem), records.chain_heads(), "t0")
    made = records.export_case(REVIEWER, case_id, shares=["substance_use"], **TO_CLINIC)
    disclosure = records.get_disclosure(worker, client_id, str(made.entity_id))
    export = records.exported_stream(REVIEWER, case_id, disclosure, None)

    export["records"][v["hiv"] - 1]["state_sha256"] = "0" * 64
    result = check_against_checkpoint(export, checkpoint, load_public_key(public_pem))

    assert not result.ok
    assert f"version {v['hiv']}: the stored event does not match its hash" in result.message


def test_the_cli_exports_a_narrowed_case_that_chain_check_passes_and_a_forgery_fails(
    records: CaseRecords, worker: Actor, database_url: str, tmp_path: Path
) -> None:
    client_id, case_id, v = a_mixed_case(records, worker)
    clinic_consent(records, worker, client_id)
    private_pem, public_pem = new_private_key_pem()
    head = records.tree_head()
    checkpoint = sign_checkpoint(
        load_private_key(private_pem), records.chain_heads(), "t0", (head.size, head.root)
    )
    (tmp_path / "cp.json").write_text(json.dumps(checkpoint))
    (tmp_path / "signer.pub").write_bytes(public_pem)
    out = tmp_path / "case.json"
    to_clinic = ("--recipient", CLINIC, "--purpose", "treatment", "--shares", "substance_use")

    exported = chain_export(
        database_url, case_id, *to_clinic, "--checkpoint", str(tmp_path / "cp.json"), "--out",
        str(out),
    )  # fmt: skip
    key = str(tmp_path / "signer.pub")
    check = ("--checkpoint", str(tmp_path / "cp.json"), "--public-key", key)
    ok = CliRunner().invoke(app, ["chain", "check", str(out), *check])
    document = json.loads(out.read_text())
    document["records"][0]["state_b64"] = document["records"][1]["state_b64"]
    (tmp_path / "forged.json").write_text(json.dumps(document))
    bad = CliRunner().invoke(app, ["chain", "check", str(tmp_path / "forged.json"), *check])

    assert exported.exit_code == 0, exported.output
    assert "3 entries withheld" in exported.output
    assert ok.exit_code == 0, ok.output
    assert "3 withheld" in ok.output
    assert bad.exit_code == 2
    assert "version 1: the stored event does not match its hash" in bad.output
    (disclosed,) = records.disclosures(worker, client_id)
    assert versions_listed(disclosed) == [1, v["plain"]]
    assert disclosed["data_classes"] == ["substance_use"]
