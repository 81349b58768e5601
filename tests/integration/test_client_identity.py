"""The duplicate checks at registration read a table written in the events' transaction."""

from datetime import date
from typing import Any

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.errors import ClientNumberTakenError
from caserecord.domain.recording import Actor
from caserecord.store import index_clients
from tests.factories import a_client


def test_two_registrations_racing_for_one_number_cannot_both_commit(
    records: CaseRecords, worker: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = a_client(records, worker, client_number="C-9")
    lookup = records.recorder.client_identities  # type: ignore[attr-defined]
    checks: list[int] = []

    def raced(*args: Any, **kwargs: Any) -> list[str]:
        # The first check ran before the other registration committed: it found nothing.
        checks.append(1)
        return [] if len(checks) == 1 else list(lookup(*args, **kwargs))

    monkeypatch.setattr(records.recorder, "client_identities", raced)

    with pytest.raises(ClientNumberTakenError) as refused:
        records.register_client(worker, given_name="Ana", family_name="Silva", client_number="C-9")

    assert refused.value.details == {"client_id": str(first)}
    assert [c.originator_id for c in records.recorder.select_notifications(1, 10)] == [first]


def test_db_init_fills_the_identity_table_from_clients_registered_before_it(
    records: CaseRecords, worker: Actor
) -> None:
    a_client(records, worker, client_number="C-1")
    corrected = a_client(
        records, worker, given_name="Ana", client_number="C-2", date_of_birth=date(1990, 1, 2)
    )
    records.correct_client_details(
        worker, corrected, changes={"client_number": "C-3"}, reason="typo"
    )
    recorder: Any = records.recorder
    table = getattr(recorder, "identity_name", "client_identity")  # PostgreSQL's is qualified
    with recorder.datastore.transaction(commit=True) as c:
        c.execute(f"DELETE FROM {table}")  # as on a store made before the table existed

    assert index_clients(records) == 2
    assert recorder.client_identities("agency-a", client_number="C-3") == [str(corrected)]
    assert recorder.client_identities("agency-a", client_number="C-2") == []
    assert index_clients(records) == 0
