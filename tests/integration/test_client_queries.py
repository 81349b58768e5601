"""Clients through the service: what its queries show, and whose clients they are."""

from uuid import uuid4

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.errors import ClientNotFoundError
from caserecord.domain.recording import Actor
from tests.factories import a_client


def test_the_client_query_shows_corrected_details_and_current_contacts(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    app = sqlite_records
    client_id = a_client(app, worker)
    kept = app.add_support_contact(worker, client_id, name="Eva", relationship="family")
    gone = app.add_support_contact(worker, client_id, name="Rui", relationship="sponsor")
    assert gone.entity_id is not None
    app.remove_support_contact(worker, client_id, contact_id=gone.entity_id, reason="relapsed")
    result = app.correct_client_details(
        worker, client_id, changes={"preferred_language": "en"}, reason="asked for English"
    )

    client = app.get_client(worker, client_id)

    assert result.version == 5
    assert client["version"] == 5
    assert client["preferred_language"] == "en"
    assert [c["contact_id"] for c in client["support_contacts"]] == [kept.entity_id]
    assert client["support_contacts"][0]["relationship"] == "family"


def test_another_agencys_client_is_not_found(
    sqlite_records: CaseRecords, worker: Actor, outsider: Actor
) -> None:
    client_id = a_client(sqlite_records, worker)

    with pytest.raises(ClientNotFoundError):
        sqlite_records.get_client(outsider, client_id)
    with pytest.raises(ClientNotFoundError):
        sqlite_records.add_support_contact(outsider, client_id, name="X", relationship="other")

    assert sqlite_records.get_client(worker, client_id)["support_contacts"] == []


def test_an_unknown_client_is_a_domain_error(sqlite_records: CaseRecords, worker: Actor) -> None:
    with pytest.raises(ClientNotFoundError) as refused:
        sqlite_records.correct_client_details(
            worker, uuid4(), changes={"phone": "1"}, reason="typo"
        )

    assert refused.value.code == "client_not_found"
