"""A damaged stored event (undecodable, or missing an attribute) never stops the views:
each view skips it for that record, says so in the log naming the stream and version, and
goes on with every other record and agency, in catch-up pages and in the live runner."""

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.recording import Actor, Recording, recording
from caserecord.projections import VIEW_NAMES, ProjectionService
from tests.factories import an_open_case


@pytest.fixture
def service(sqlite_url: str, sqlite_records: CaseRecords) -> Iterator[ProjectionService]:
    s = ProjectionService(Settings(database_url=sqlite_url))
    yield s
    s.close()


def stored_with_damage(records: CaseRecords, actor: Actor, case_id: UUID, edit: Any) -> int:
    """An assessment made by the domain, its stored state edited, inserted past the domain."""
    case: Any = records.repository.get(case_id)
    with recording(Recording(actor)):
        case.assess_needs([{"domain": "medical", "level": "low", "score": 3.5}])
    (event,) = case.collect_events()
    stored = records.mapper.to_stored_event(event)
    records.recorder.insert_events([type(stored)(**(vars(stored) | {"state": edit(stored.state)}))])
    return int(event.originator_version)


def undecodable(_: bytes) -> bytes:
    return b"{not json"


def without_assessments(state: bytes) -> bytes:
    data = json.loads(state)
    del data["assessments"]
    return json.dumps(data).encode()


def head(records: CaseRecords) -> int:
    return int(records.recorder.max_notification_id() or 0)


DAMAGES = [
    pytest.param(undecodable, id="undecodable"),
    pytest.param(without_assessments, id="missing"),
]


@pytest.mark.parametrize("damage", DAMAGES)
def test_catching_up_skips_a_damaged_event_loudly_and_goes_on_with_every_other_record(
    sqlite_records: CaseRecords,
    service: ProjectionService,
    worker: Actor,
    damage: Callable[[bytes], bytes],
    caplog: pytest.LogCaptureFixture,
) -> None:
    damaged = an_open_case(sqlite_records, worker)
    version = stored_with_damage(sqlite_records, worker, damaged, damage)
    other_agency = Actor("worker-9", "caseworker", "agency-b")
    later = an_open_case(sqlite_records, other_agency)

    with caplog.at_level(logging.ERROR):
        service.catch_up()

    assert service.positions() == dict.fromkeys(VIEW_NAMES, head(sqlite_records))
    assert [r["case_id"] for r in service.queries.caseload("agency-b")] == [later]
    assert f"version {version} of stream {damaged}" in caplog.text


@pytest.mark.parametrize("damage", DAMAGES)
def test_the_live_runners_skip_a_damaged_event_and_follow_the_events_after_it(
    sqlite_records: CaseRecords,
    service: ProjectionService,
    worker: Actor,
    damage: Callable[[bytes], bytes],
    caplog: pytest.LogCaptureFixture,
) -> None:
    service.start(standby=False)
    damaged = an_open_case(sqlite_records, worker)
    version = stored_with_damage(sqlite_records, worker, damaged, damage)
    other_agency = Actor("worker-9", "caseworker", "agency-b")

    with caplog.at_level(logging.ERROR):
        later = an_open_case(sqlite_records, other_agency)
        service.wait(head(sqlite_records), timeout=10)

    assert [r["case_id"] for r in service.queries.caseload("agency-b")] == [later]
    assert f"version {version} of stream {damaged}" in caplog.text
