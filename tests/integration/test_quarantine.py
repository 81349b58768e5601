"""Quarantine, not outage: a view that cannot apply an event of a stream records the stream
as quarantined, applies none of its later events, and carries on with every other stream,
in catch-up, rebuild and the live runners, on both stores; the case is then refused as
incomplete rather than served as if whole."""

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.recording import Actor, Recording, recording
from caserecord.persistence.quarantine import RecordQuarantinedError
from caserecord.projections import VIEW_NAMES, ProjectionService
from tests.factories import an_open_case
from tests.integration.stored_rows import StoredRows

OTHER_AGENCY = Actor("worker-9", "caseworker", "agency-b")


@pytest.fixture
def service(settings: Settings, records: CaseRecords) -> Iterator[ProjectionService]:
    s = ProjectionService(settings)
    yield s
    s.close()


def damaged_then_intact(records: CaseRecords, actor: Actor, case_id: UUID) -> int:
    """Two assessments made by the domain and stored past it, the first undecodable;
    returns the damaged one's version."""
    case: Any = records.repository.get(case_id)
    with recording(Recording(actor)):
        case.assess_needs([{"domain": "medical", "level": "low", "score": 3.5}])
        case.assess_needs([{"domain": "psychiatric", "level": "high", "score": 8.0}])
    damaged, intact = (records.mapper.to_stored_event(e) for e in case.collect_events())
    records.recorder.insert_events([type(damaged)(**(vars(damaged) | {"state": b"{not json"}))])
    records.recorder.insert_events([intact])
    return int(damaged.originator_version)


def head(records: CaseRecords) -> int:
    return int(records.recorder.max_notification_id() or 0)


def audited_versions(service: ProjectionService, agency: str, case_id: UUID) -> list[int]:
    rows = service.queries.audit_trail(agency, case_id=case_id, limit=1000)
    return sorted(int(r["version"]) for r in rows)


def test_catching_up_quarantines_the_damaged_stream_and_goes_on_with_every_other(
    records: CaseRecords, service: ProjectionService, worker: Actor
) -> None:
    damaged_case = an_open_case(records, worker)
    version = damaged_then_intact(records, worker, damaged_case)
    later = an_open_case(records, OTHER_AGENCY)

    service.catch_up()

    assert service.positions() == dict.fromkeys(VIEW_NAMES, head(records))
    found = records.quarantined_streams("agency-a")
    assert {(q.stream_id, q.version, q.agency_id) for q in found} == {
        (str(damaged_case), version, "agency-a")
    }
    assert {q.view for q in found} == set(VIEW_NAMES)
    assert all("JSONDecodeError" in q.problem or "Expecting" in q.problem for q in found)
    # The intact event after the damaged one is not applied half-way: not even audited.
    assert audited_versions(service, "agency-a", damaged_case) == list(range(1, version))
    assert [r["case_id"] for r in service.queries.caseload("agency-b")] == [later]
    assert records.quarantined_streams("agency-b") == []


def test_a_deleted_event_quarantines_its_stream_in_a_rebuild_instead_of_stopping_it(
    records: CaseRecords, service: ProjectionService, worker: Actor, database_url: str
) -> None:
    damaged_case = an_open_case(records, worker)
    for text in ("first", "second", "third"):
        records.record_note(
            worker, damaged_case, text=text, contact_kind="client", contact_mode="phone"
        )
    later = an_open_case(records, OTHER_AGENCY)
    StoredRows(database_url).delete_event(damaged_case, 3)

    service.rebuild()

    folding = {q.view: q.version for q in records.quarantined_streams()}
    assert folding == {"caseload": 4, "current_plans": 4, "referrals": 4, "worklist": 4}
    assert [r["case_id"] for r in service.queries.caseload("agency-b")] == [later]
    assert service.positions() == dict.fromkeys(VIEW_NAMES, head(records))


def test_a_rebuild_after_the_repair_lifts_the_quarantine(
    records: CaseRecords, service: ProjectionService, worker: Actor, database_url: str
) -> None:
    damaged_case = an_open_case(records, worker)
    version = damaged_then_intact(records, worker, damaged_case)
    service.catch_up()
    assert records.quarantined_streams()
    rows = StoredRows(database_url)
    rows.set_state(damaged_case, version, rows.state(damaged_case, version + 1))

    service.rebuild()

    assert records.quarantined_streams() == []
    assert audited_versions(service, "agency-a", damaged_case) == list(range(1, version + 2))


def test_the_live_runners_quarantine_the_stream_and_follow_the_events_of_others(
    records: CaseRecords, service: ProjectionService, worker: Actor
) -> None:
    service.start(standby=False)
    damaged_case = an_open_case(records, worker)
    version = damaged_then_intact(records, worker, damaged_case)

    later = an_open_case(records, OTHER_AGENCY)
    service.wait(head(records), timeout=10)

    assert {q.version for q in records.quarantined_streams("agency-a")} == {version}
    assert audited_versions(service, "agency-a", damaged_case) == list(range(1, version))
    assert [r["case_id"] for r in service.queries.caseload("agency-b")] == [later]


def test_a_quarantined_case_is_refused_as_incomplete_from_the_quarantined_version_on(
    records: CaseRecords, service: ProjectionService, worker: Actor, database_url: str
) -> None:
    case_id = an_open_case(records, worker)
    version = damaged_then_intact(records, worker, case_id)
    service.catch_up()
    rows = StoredRows(database_url)
    rows.set_state(case_id, version, rows.state(case_id, version + 1))  # repaired in the log
    records.repository.cache = None

    with pytest.raises(RecordQuarantinedError) as refused:
        records.get_case(worker, case_id)
    before = records.get_case(worker, case_id, version=version - 1)

    assert refused.value.code == "record_incomplete"
    assert f"stream {case_id} at version {version}" in str(refused.value)
    assert before["version"] == version - 1
