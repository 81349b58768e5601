"""Verifying a case reads its stored records, never the case: a tampered case is reported as
tampered (where and how), on both stores, and another agency's case stays not found."""

from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.errors import CaseNotFoundError
from caserecord.domain.recording import Actor
from caserecord.persistence.chain import MissingEventsError, Verification
from tests.integration.stored_rows import StoredRows
from tests.scenario import ScenarioResult, extend_case


@pytest.fixture
def rows(database_url: str) -> StoredRows:
    return StoredRows(database_url)


@pytest.fixture
def scenario(records: CaseRecords, scenario: ScenarioResult, worker: Actor) -> ScenarioResult:
    """The shared scenario grown past its first snapshot (version 100)."""
    extend_case(records, worker, scenario, 110)
    return scenario


def case_stream(checks: list[Verification], scenario: ScenarioResult) -> Verification:
    (found,) = [c for c in checks if c.stream_id == str(scenario.case_id)]
    return found


def test_an_intact_case_verifies_with_its_client(
    records: CaseRecords, scenario: ScenarioResult, supervisor: Actor
) -> None:
    checks = records.verify_case(supervisor, scenario.case_id)

    assert [c.stream_id for c in checks] == [str(scenario.case_id), str(scenario.client_id)]
    assert all(c.ok for c in checks)


@pytest.mark.parametrize("version", [1, 7])
def test_a_flipped_byte_is_reported_at_its_version_without_loading_the_case(
    records: CaseRecords,
    scenario: ScenarioResult,
    rows: StoredRows,
    supervisor: Actor,
    version: int,
) -> None:
    rows.flip_byte(scenario.case_id, version)

    checked = case_stream(records.verify_case(supervisor, scenario.case_id), scenario)

    assert (checked.ok, checked.first_bad_version) == (False, version)
    assert checked.problem == "the stored event does not match its hash"


def test_a_snapshot_moved_to_another_agency_is_reported_to_the_owner_and_hidden_from_the_other(
    records: CaseRecords,
    scenario: ScenarioResult,
    rows: StoredRows,
    supervisor: Actor,
    outsider: Actor,
) -> None:
    state = rows.snapshot(scenario.case_id, 100)
    rows.set_snapshot(scenario.case_id, 100, state.replace(b'"agency-a"', b'"agency-b"'))
    records.repository.cache = None  # read from the store, as a freshly started worker does

    checked = case_stream(records.verify_case(supervisor, scenario.case_id), scenario)

    assert (checked.ok, checked.first_bad_version) == (False, 100)
    assert checked.problem.startswith("snapshot:")
    with pytest.raises(CaseNotFoundError):
        records.verify_case(outsider, scenario.case_id)


def test_a_deleted_event_is_reported_as_missing(
    records: CaseRecords, scenario: ScenarioResult, rows: StoredRows, supervisor: Actor
) -> None:
    rows.delete_event(scenario.case_id, 10)
    records.repository.cache = None

    checked = case_stream(records.verify_case(supervisor, scenario.case_id), scenario)

    assert (checked.ok, checked.first_bad_version) == (False, 10)
    assert checked.problem == "version 10 is missing from the stream"


def test_a_deleted_first_event_is_still_reported_to_the_agency_the_later_events_name(
    records: CaseRecords,
    scenario: ScenarioResult,
    rows: StoredRows,
    supervisor: Actor,
    outsider: Actor,
) -> None:
    rows.delete_event(scenario.case_id, 1)

    (checked,) = records.verify_case(supervisor, scenario.case_id)

    assert (checked.ok, checked.first_bad_version) == (False, 1)
    with pytest.raises(CaseNotFoundError):
        records.verify_case(outsider, scenario.case_id)


def test_a_cut_tail_is_reported_where_the_chain_outlives_the_events(
    records: CaseRecords, scenario: ScenarioResult, rows: StoredRows, supervisor: Actor
) -> None:
    for version in (110, 109, 108):
        rows.delete_event(scenario.case_id, version)

    checked = case_stream(records.verify_case(supervisor, scenario.case_id), scenario)

    assert (checked.ok, checked.first_bad_version) == (False, 108)
    assert checked.problem == "a chained event is missing"


def test_another_agency_and_an_unknown_id_are_not_found(
    records: CaseRecords, scenario: ScenarioResult, outsider: Actor, supervisor: Actor
) -> None:
    with pytest.raises(CaseNotFoundError):
        records.verify_case(outsider, scenario.case_id)
    with pytest.raises(CaseNotFoundError):
        records.verify_case(supervisor, scenario.client_id)  # a client, not a case


def test_a_case_whose_tail_was_cut_is_refused_as_incomplete_after_a_restart(
    records: CaseRecords, scenario: ScenarioResult, rows: StoredRows, worker: Actor
) -> None:
    for version in (110, 109):
        rows.delete_event(scenario.case_id, version)
    records.repository.cache = None  # as a service started again reads it

    with pytest.raises(MissingEventsError) as refused:
        records.get_case(worker, scenario.case_id)

    assert refused.value.versions == [109, 110]
    assert records.get_case(worker, scenario.case_id, version=108)["version"] == 108


def test_a_note_saved_while_the_case_is_being_verified_is_not_reported_as_tampering(
    records: CaseRecords,
    scenario: ScenarioResult,
    supervisor: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read_links = records.store.chain_links

    def links_after_a_save(stream_id: UUID) -> object:
        # The save lands after the events were read and before their links are.
        if stream_id == scenario.case_id:
            records.record_note(
                supervisor, scenario.case_id, text="in between", contact_mode="phone"
            )
        return read_links(stream_id)

    monkeypatch.setattr(records.store, "chain_links", links_after_a_save)

    checked = case_stream(records.verify_case(supervisor, scenario.case_id), scenario)

    assert checked.ok, checked.problem
