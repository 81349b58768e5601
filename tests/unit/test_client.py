"""The client: registration, corrections with old and new values, support contacts."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from caserecord.application import snapshot_state
from caserecord.domain.client import Client
from caserecord.domain.errors import (
    DuplicateIdError,
    InvalidValueError,
    NothingToCorrectError,
    ReasonRequiredError,
    SupportContactNotFoundError,
)
from caserecord.domain.recording import Recording
from tests.unit.case_builders import mapper


def a_registered_client() -> Client:
    return Client(
        agency_id="agency-a",
        given_name="Ana",
        family_name="Silva",
        date_of_birth=date(1990, 1, 2),
        client_number="C-7",
        preferred_language="pt",
        phone="555-0101",
        email="ana@example.org",
        address="1 Quay St",
    )


@pytest.mark.parametrize(
    "born", [date(1899, 12, 31), datetime.now(UTC).date() + timedelta(days=1), date(2999, 1, 1)]
)
def test_a_date_of_birth_before_1900_or_in_the_future_is_refused(
    as_worker: Recording, born: date
) -> None:
    values = {
        "agency_id": "agency-a",
        "given_name": "Ana",
        "family_name": "Silva",
        "date_of_birth": born,
        "client_number": "",
        "preferred_language": "",
        "phone": "",
        "email": "",
        "address": "",
    }

    with pytest.raises(InvalidValueError, match="date_of_birth must be from 1900-01-01"):
        Client.register(**values)


def test_registering_a_client_records_every_detail(as_worker: Recording) -> None:
    client = a_registered_client()

    (event,) = client.collect_events()

    assert isinstance(event, Client.Registered)
    assert (event.given_name, event.family_name, event.date_of_birth) == (
        "Ana",
        "Silva",
        date(1990, 1, 2),
    )
    assert (event.agency_id, event.client_number, event.preferred_language) == (
        "agency-a",
        "C-7",
        "pt",
    )
    assert (event.phone, event.email, event.address) == (
        "555-0101",
        "ana@example.org",
        "1 Quay St",
    )
    assert vars(event)["actor_id"] == "worker-1"


def test_a_client_needs_a_given_and_a_family_name(as_worker: Recording) -> None:
    with pytest.raises(InvalidValueError, match="given_name and family_name are required"):
        Client("agency-a", "Ana", " ", None, "", "", "", "", "")


def test_a_correction_records_each_field_with_old_and_new_value(as_worker: Recording) -> None:
    client = a_registered_client()
    client.collect_events()

    client.correct_details(
        {"family_name": "Silva Costa", "date_of_birth": "1990-02-01", "phone": "555-0101"},
        "misspelt at intake",
    )

    (event,) = client.collect_events()
    assert isinstance(event, Client.DetailsCorrected)
    assert event.reason == "misspelt at intake"
    assert event.changes == [
        {"field": "family_name", "old": "Silva", "new": "Silva Costa"},
        {"field": "date_of_birth", "old": date(1990, 1, 2), "new": date(1990, 2, 1)},
    ]
    assert (client.family_name, client.date_of_birth) == ("Silva Costa", date(1990, 2, 1))


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        ({"agency_id": "agency-b"}, InvalidValueError, "cannot be corrected: agency_id"),
        ({"date_of_birth": "yesterday"}, InvalidValueError, "date_of_birth must be a date"),
        ({"date_of_birth": "1899-12-31"}, InvalidValueError, "from 1900-01-01"),
        ({"date_of_birth": "2999-01-01"}, InvalidValueError, "not in the future"),
        ({"phone": 5550101}, InvalidValueError, "phone must be text"),
        ({"given_name": ""}, InvalidValueError, "given_name cannot be blank"),
        ({"phone": "555-0101"}, NothingToCorrectError, "equal the recorded ones"),
    ],
)
def test_an_invalid_correction_is_refused_and_changes_nothing(
    as_worker: Recording, values: dict[str, Any], error: type[Exception], message: str
) -> None:
    client = a_registered_client()
    client.collect_events()

    with pytest.raises(error, match=message):
        client.correct_details(values, "because")

    assert client.collect_events() == []
    assert (client.agency_id, client.phone, client.given_name) == ("agency-a", "555-0101", "Ana")


def test_a_correction_needs_a_reason(as_worker: Recording) -> None:
    with pytest.raises(ReasonRequiredError, match="correct client details"):
        a_registered_client().correct_details({"phone": "555-9999"}, "")


@pytest.mark.parametrize(
    "relationship", ["family", "friend", "sponsor", "guardian", "provider", "other"]
)
def test_a_support_contact_is_added_with_relationship_and_consent(
    as_worker: Recording, relationship: str
) -> None:
    client = a_registered_client()
    client.collect_events()

    client.add_support_contact("sc-1", "Rui", relationship, "555-0102", "", False)

    (event,) = client.collect_events()
    assert isinstance(event, Client.SupportContactAdded)
    assert (event.contact_id, event.name, event.relationship) == ("sc-1", "Rui", relationship)
    assert (event.phone, event.email, event.may_contact) == ("555-0102", "", False)
    assert client.support_contacts["sc-1"].added_in == 2


@pytest.mark.parametrize(
    ("name", "relationship", "message"),
    [("", "friend", "needs a name"), ("Rui", "enemy", "relationship must be one of")],
)
def test_an_invalid_support_contact_is_refused(
    as_worker: Recording, name: str, relationship: str, message: str
) -> None:
    client = a_registered_client()

    with pytest.raises(InvalidValueError, match=message):
        client.add_support_contact("sc-1", name, relationship, "", "", True)

    assert client.support_contacts == {}


def test_a_support_contact_id_cannot_be_reused(as_worker: Recording) -> None:
    client = a_registered_client()
    client.add_support_contact("sc-1", "Rui", "friend", "", "", True)

    with pytest.raises(DuplicateIdError):
        client.add_support_contact("sc-1", "Eva", "family", "", "", True)


def test_a_support_contact_is_removed_with_a_reason(as_worker: Recording) -> None:
    client = a_registered_client()
    client.add_support_contact("sc-1", "Rui", "friend", "", "", True)
    client.collect_events()

    client.remove_support_contact("sc-1", "client withdrew consent")

    (event,) = client.collect_events()
    assert isinstance(event, Client.SupportContactRemoved)
    assert (event.contact_id, event.reason) == ("sc-1", "client withdrew consent")
    contact = client.support_contacts["sc-1"]
    assert (contact.removed_in, contact.removal_reason) == (3, "client withdrew consent")


def test_removing_a_support_contact_needs_a_reason(as_worker: Recording) -> None:
    client = a_registered_client()
    client.add_support_contact("sc-1", "Rui", "friend", "", "", True)

    with pytest.raises(ReasonRequiredError, match="remove a support contact"):
        client.remove_support_contact("sc-1", "")

    assert client.support_contacts["sc-1"].removed_in is None


def test_an_unknown_or_removed_support_contact_cannot_be_removed(as_worker: Recording) -> None:
    client = a_registered_client()
    client.add_support_contact("sc-1", "Rui", "friend", "", "", True)
    client.remove_support_contact("sc-1", "moved")

    with pytest.raises(SupportContactNotFoundError) as refused:
        client.remove_support_contact("sc-1", "again")
    with pytest.raises(SupportContactNotFoundError):
        client.remove_support_contact("sc-x", "who")

    assert refused.value.code == "support_contact_not_found"


def test_a_client_rebuilds_the_same_from_encoded_events_and_from_a_snapshot(
    as_worker: Recording,
) -> None:
    client = a_registered_client()
    client.add_support_contact("sc-1", "Rui", "friend", "", "", True)
    client.add_support_contact("sc-2", "Eva", "guardian", "", "e@x.org", False)
    client.remove_support_contact("sc-1", "moved")
    client.correct_details({"date_of_birth": date(1990, 1, 3)}, "typo")
    events: list[Any] = list(client.collect_events())
    stored = mapper()

    replayed: Any = None
    for event in events:
        decoded: Any = stored.to_domain_event(stored.to_stored_event(event))
        replayed = decoded.mutate(replayed)
    snapshot: Any = stored.to_domain_event(stored.to_stored_event(Client.Snapshot.take(client)))

    assert snapshot_state(replayed) == snapshot_state(client)
    assert snapshot_state(snapshot.mutate(None)) == snapshot_state(client)
    assert replayed.support_contacts["sc-1"].removed_in == 4
