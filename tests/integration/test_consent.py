"""Consent and disclosures through the service, on both stores: the Part 2 scenario, a
revocation that wins the race against a referral, and the accounting replayed from the log."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.client import Client
from caserecord.domain.consent import REDISCLOSURE_NOTICE, form_hash
from caserecord.domain.errors import (
    ConsentRequiredError,
    InvalidValueError,
    OverrideNotAllowedError,
)
from caserecord.domain.recording import Actor
from caserecord.provision import init_store
from caserecord.store import open_records
from tests.factories import a_client, an_open_case

CLINIC = "Bayview Clinic"


def part2_case(records: CaseRecords, actor: Actor) -> tuple[UUID, UUID]:
    client_id = a_client(records, actor)
    case_id = records.open_case(
        actor,
        client_id=client_id,
        specialty="substance_abuse",
        referral_source="drug court",
        presenting_needs=["opioid use"],
        interview_summary="Wants treatment.",
        case_manager_id=actor.id,
    ).id
    return client_id, case_id


def clinic_consent(records: CaseRecords, actor: Actor, client_id: UUID, **kw: Any) -> str:
    kw.setdefault("expires_on", date(2099, 12, 31))
    consent_id = records.grant_consent(
        actor,
        client_id,
        recipient_kind="organisation",
        recipient=CLINIC,
        purpose="treatment",
        data=["substance_use"],
        form_sha256=form_hash(b"signed on paper"),
        **kw,
    ).entity_id
    assert consent_id is not None
    return consent_id


def refer(records: CaseRecords, actor: Actor, case_id: UUID, org: str, **kw: Any) -> Any:
    kind = "medical" if org == CLINIC else "housing"
    return records.make_referral(
        actor, case_id, resource_kind=kind, organisation=org, service_name="S", **kw
    )


def test_the_part_2_scenario_from_consent_to_the_accounting(
    records: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    client_id, case_id = part2_case(records, worker)
    consent_id = clinic_consent(records, worker, client_id)

    to_clinic = refer(records, worker, case_id, CLINIC)
    with pytest.raises(ConsentRequiredError) as housing:
        refer(records, worker, case_id, "Housing First")
    with pytest.raises(OverrideNotAllowedError):
        refer(records, worker, case_id, "County ER", basis="medical_emergency", reason="r")
    emergency = refer(
        records, supervisor, case_id, "County ER", basis="medical_emergency", reason="overdose"
    )
    records.revoke_consent(worker, client_id, consent_id=consent_id)
    with pytest.raises(ConsentRequiredError):
        refer(records, worker, case_id, CLINIC)
    accounting = records.disclosures(worker, client_id)
    part2 = records.disclosures(worker, client_id, part2=True)

    assert housing.value.details["classes_needing_consent"] == ["substance_use"]
    assert [(d["recipient"], d["basis"], d["consent_version"]) for d in accounting] == [
        (CLINIC, "consent", 1),
        ("County ER", "medical_emergency", None),
    ]
    assert accounting[0]["consent"]["status"] == "active"  # as it stood then, not revoked
    assert accounting[0]["notice"] == REDISCLOSURE_NOTICE
    assert [d["referral_id"] for d in accounting] == [to_clinic.entity_id, emergency.entity_id]
    assert [d["emergency"] for d in accounting] == [False, True]
    assert part2 == accounting
    assert records.consents(worker, client_id) == []
    assert [r["recipient"] for r in records.consent_recipients(worker, client_id, consent_id)] == [
        CLINIC
    ]
    referrals = records.get_case(worker, case_id)["referrals"]
    assert len(referrals) == 2  # the refused referrals left nothing behind


def test_a_referral_that_loses_the_race_to_a_revocation_is_refused_on_the_fresh_record(
    records: CaseRecords,
    settings: Settings,
    worker: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client_id, case_id = part2_case(records, worker)
    consent_id = clinic_consent(records, worker, client_id)
    other = open_records(settings)  # another process: its own cache, the same store
    decide = Client.decide_basis
    raced: list[int] = []

    def revoked_meanwhile(self: Client, *args: Any) -> Any:
        if not raced:  # the first attempt decided on the state before the revocation
            other.revoke_consent(worker, client_id, consent_id=consent_id)
            raced.append(self.version)
        return decide(self, *args)

    monkeypatch.setattr(Client, "decide_basis", revoked_meanwhile)
    try:
        with pytest.raises(ConsentRequiredError):
            refer(records, worker, case_id, CLINIC)
    finally:
        other.close()

    assert raced  # the first attempt saw the consent in force and lost its save
    assert records.disclosures(worker, client_id) == []
    assert records.get_case(worker, case_id)["referrals"] == []


def test_consents_in_force_are_read_as_of_a_moment_and_expire_by_date(
    records: CaseRecords, worker: Actor
) -> None:
    client_id = a_client(records, worker)
    before = datetime.now(UTC)
    consent_id = clinic_consent(records, worker, client_id, expires_on=before.date())
    granted = datetime.now(UTC)
    records.revoke_consent(worker, client_id, consent_id=consent_id)

    assert records.consents(worker, client_id, as_of=before) == []
    assert [c["version"] for c in records.consents(worker, client_id, as_of=granted)] == [1]
    assert records.consents(worker, client_id) == []
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    expired = records.consents(worker, client_id, as_of=granted, effective_at=tomorrow, every=True)
    assert [c["status"] for c in expired] == ["expired"]


def test_a_manual_disclosure_adds_the_labels_of_the_entries_it_names(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    client_id = records.client_of_case(worker, case_id)
    note = records.record_note(
        worker, case_id, text="HIV+", contact_kind="client", contact_mode="phone", labels=["hiv"]
    )

    with pytest.raises(ConsentRequiredError, match="hiv"):
        records.record_disclosure(
            worker, client_id, recipient_kind="person", recipient="Probation officer Diaz",
            purpose="legal", channel="phone", data_classes=[],
            entries=[{"case_id": str(case_id), "version": note.version}],
        )  # fmt: skip
    made = records.record_disclosure(
        worker, client_id, recipient_kind="person", recipient="Probation officer Diaz",
        purpose="legal", channel="phone", data_classes=[],
        entries=[{"case_id": str(case_id), "version": 1}],
    )  # fmt: skip

    (row,) = records.disclosures(worker, client_id)
    assert row["disclosure_id"] == made.entity_id
    assert (row["basis"], row["data_classes"]) == ("not_required", [])
    assert row["entries_disclosed"] == [
        {"stream_id": str(case_id), "version": 1, "kind": "case_entry"}
    ]


def test_a_client_s_request_for_the_accounting_is_recorded(
    records: CaseRecords, worker: Actor
) -> None:
    client_id = a_client(records, worker)
    since = records.accounting_start(part2=True)

    records.request_accounting(worker, client_id, since=since, part2=True)

    last = list(records.events.get(client_id))[-1]
    assert isinstance(last, Client.AccountingRequested)
    assert (last.since, last.part2) == (since, True)


def test_the_roles_that_may_break_the_glass_are_configured(sqlite_url: str, worker: Actor) -> None:
    settings = Settings(database_url=sqlite_url, break_glass_roles="caseworker, supervisor")
    init_store(settings)
    records = open_records(settings)
    try:
        client_id, case_id = part2_case(records, worker)

        made = refer(records, worker, case_id, "County ER", basis="medical_emergency", reason="r")

        assert records.get_disclosure(worker, client_id, referral_id=made.entity_id)["emergency"]
    finally:
        records.close()
    with pytest.raises(ValueError, match="must name roles"):
        Settings(database_url=sqlite_url, break_glass_roles="janitor")


def test_a_consent_ending_with_its_case_stops_covering_disclosures_once_the_case_closes(
    records: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    client_id, case_id = part2_case(records, worker)
    other_case = an_open_case(records, worker, client_id)
    consent_id = clinic_consent(
        records,
        worker,
        client_id,
        expires_on=None,
        expires_on_event="end_of_treatment",
        expires_with_case=other_case,
    )
    refer(records, worker, case_id, CLINIC)
    before = datetime.now(UTC)
    records.close_case(supervisor, other_case, outcome="completed", reason="treatment done")

    with pytest.raises(ConsentRequiredError):
        refer(records, worker, case_id, CLINIC)
    (listed,) = records.consents(worker, client_id, every=True)
    then = records.consents(worker, client_id, as_of=before)
    (disclosed,) = records.disclosures(worker, client_id)

    assert (listed["consent_id"], listed["status"]) == (consent_id, "expired")
    assert listed["expired_by_event_at"] is not None
    assert [c["status"] for c in then] == ["active"]
    assert disclosed["consent"]["status"] == "active"  # as it stood when it was used


def test_a_consent_cannot_end_with_another_clients_case(
    records: CaseRecords, worker: Actor
) -> None:
    client_id, _ = part2_case(records, worker)
    _, strangers_case = part2_case(records, worker)

    with pytest.raises(InvalidValueError, match="not a case of client"):
        clinic_consent(
            records,
            worker,
            client_id,
            expires_on_event="case_closed",
            expires_with_case=strangers_case,
        )


def test_contact_details_shared_by_a_referral_leave_only_under_the_consent_that_covers_it(
    records: CaseRecords, worker: Actor
) -> None:
    client_id, case_id = part2_case(records, worker)
    shared = {"share_contact": ["phone"], "preferred_contact": "mornings"}
    with pytest.raises(ConsentRequiredError):
        refer(records, worker, case_id, "Housing First", **shared)
    clinic_consent(records, worker, client_id)
    version = records.get_client(worker, client_id)["version"]

    refer(records, worker, case_id, CLINIC, **shared)
    (disclosure,) = records.disclosures(worker, client_id)
    (referral,) = records.get_case(worker, case_id)["referrals"]

    assert (disclosure["recipient"], disclosure["basis"]) == (CLINIC, "consent")
    assert disclosure["entries_disclosed"][1] == {
        "stream_id": str(client_id),
        "version": version,
        "kind": "contact_details",
        "fields": ["phone", "preferred_contact"],
    }
    assert referral["contact"] == {"phone": "555-0100", "preferred_contact": "mornings"}
