"""One runner follows the log for every view of a process: a batch's rows and positions of
all the views commit in one transaction (one round trip on PostgreSQL); a view that fails
leaves it and runs alone while the others go on, then joins again; a read that waits for
its own write still waits for every view (ADR 0030)."""

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
from benchmarks.count_statements import counting
from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.utils import Environment

from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.projections import ProjectionService
from caserecord.projections.client_index import ClientIndexProjection
from caserecord.projections.runner import (
    APPLICATION_NAME,
    PROJECTIONS,
    latest_for,
    loader_for,
    reader_for,
    view_class,
)
from caserecord.projections.service import ReadModelTimeoutError, service_env
from caserecord.projections.shared import SharedProjection, SharedRunner
from caserecord.projections.sql import PostgresView, SQLiteView, View, ViewWrite
from caserecord.provision import init_store
from caserecord.store import open_records
from tests.factories import a_client, an_open_case


def a_note(records: CaseRecords, worker: Actor) -> int:
    case = an_open_case(records, worker)
    result = records.record_note(
        worker, case, text="Phoned the client.", contact_kind="client", contact_mode="phone"
    )
    return int(result.position)


def until(condition: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_one_transaction_commits_every_views_rows_and_position_for_a_batch(
    projections: ProjectionService,
    records: CaseRecords,
    worker: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batches: list[dict[str, int]] = []
    for cls in (SQLiteView, PostgresView):
        original = cls.write_many

        def spy(self: View, parts: Sequence[ViewWrite], original: Any = original) -> None:
            original(self, parts)
            batches.append({p.view.schema.name: p.tracking.notification_id for p in parts})

        monkeypatch.setattr(cls, "write_many", spy)
    projections.start()

    position = a_note(records, worker)
    projections.wait(position, timeout=20)

    last = [batch for batch in batches if position in batch.values()]
    assert len(last) == 1
    assert last[0] == dict.fromkeys(PROJECTIONS, position)
    assert set(projections.positions().values()) == {position}
    if projections.db.is_postgres:  # the eight positions were written by one transaction
        xmins = {
            projections.db.query(
                f"SELECT xmin::text AS x FROM {{s}}{name}_tracking WHERE application_name=?",
                (APPLICATION_NAME,),
            )[0]["x"]
            for name in PROJECTIONS
        }
        assert len(xmins) == 1


@pytest.mark.postgres
def test_a_live_batch_of_every_view_is_one_round_trip_on_postgresql(
    postgres_url: str, worker: Actor
) -> None:
    init_store(Settings(database_url=postgres_url))
    records = open_records(Settings(database_url=postgres_url))
    an_open_case(records, worker)
    position = a_note(records, worker)
    notifications = records.recorder.select_notifications(1, position)
    with counting(postgres_url) as (counter, url):
        env = service_env(Settings(database_url=url))
        factory = InfrastructureFactory.construct(env=Environment("views", env))
        members = {}
        for name in PROJECTIONS:
            view = factory.tracking_recorder(view_class(name, env))
            assert isinstance(view, View)
            members[name] = PROJECTIONS[name](
                view=view,
                loader=loader_for(records),
                reader=reader_for(records),
                latest=latest_for(records),
            )
        shared = SharedProjection(members["audit_trail"].view, members, start=0)
        try:
            for n in notifications[:-1]:  # warm: every view has a position, connected
                shared.process_event(
                    records.mapper.to_domain_event(n), Tracking(APPLICATION_NAME, n.id)
                )
            assert isinstance(shared.carrier, PostgresView)
            shared.carrier.datastore.pool.wait()
            counter.reset()

            last = notifications[-1]
            shared.process_event(
                records.mapper.to_domain_event(last), Tracking(APPLICATION_NAME, last.id)
            )
            tally = counter.reset()
            positions = {n: p.view.max_tracking_id(APPLICATION_NAME) for n, p in members.items()}
        finally:
            factory.close()
            records.close()

    assert tally.round_trips == 1, tally.by_text
    assert tally.by_text["COMMIT"] == 1
    moving = [text for text in tally.by_text.elements() if "_tracking SET" in text]
    assert len(moving) == 1, tally.by_text  # the eight positions, in one statement
    assert positions == dict.fromkeys(PROJECTIONS, position)


def test_a_failing_view_does_not_stop_the_others_and_joins_again_once_it_applies(
    projections: ProjectionService,
    records: CaseRecords,
    worker: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = threading.Event()
    broken.set()
    original = ClientIndexProjection.writes_for

    def fails_while_broken(self: ClientIndexProjection, event: Any, position: int) -> Any:
        if broken.is_set():
            raise RuntimeError("a fault of this view alone")
        return original(self, event, position)

    monkeypatch.setattr(ClientIndexProjection, "writes_for", fails_while_broken)
    projections.start()
    projections.supervisor.rejoin_after = 0.5
    others = [name for name in PROJECTIONS if name != "client_index"]

    a_client(records, worker, given_name="Ola", family_name="Berg")
    position = a_note(records, worker)
    projections.wait(position, timeout=20, views=others)

    assert projections.positions()["client_index"] < position
    assert projections.queries.search_clients("agency-a", name="ola berg") == []
    assert projections.supervisor.shared is not None
    assert "client_index" not in projections.supervisor.shared.names

    broken.clear()
    projections.wait(position, timeout=30)
    assert len(projections.queries.search_clients("agency-a", name="ola berg")) == 1
    until(lambda: "client_index" in projections.supervisor.shared.names)
    later = a_note(records, worker)
    projections.wait(later, timeout=20)
    assert set(projections.positions().values()) == {later}
    incremental = projections.digests()
    projections.stop()
    projections.rebuild()
    assert projections.digests() == incremental


def test_a_read_of_its_own_write_waits_until_every_view_has_committed_it(
    projections: ProjectionService,
    records: CaseRecords,
    worker: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = threading.Event()
    release = threading.Event()
    original = SharedProjection._commit

    def held_commit(self: SharedProjection, tracking: Tracking) -> None:
        held.set()
        release.wait(30)
        original(self, tracking)

    projections.start()
    monkeypatch.setattr(SharedProjection, "_commit", held_commit)
    position = a_note(records, worker)
    until(held.is_set)

    with pytest.raises(ReadModelTimeoutError):
        projections.wait(position, timeout=0.3)
    waited = threading.Thread(target=projections.wait, args=(position,), kwargs={"timeout": 20})
    waited.start()
    time.sleep(0.2)
    assert waited.is_alive()
    release.set()
    waited.join(20)

    assert not waited.is_alive()
    assert set(projections.positions().values()) == {position}


def test_views_at_different_positions_are_followed_each_from_its_own(
    projections: ProjectionService, records: CaseRecords, worker: Actor
) -> None:
    a_note(records, worker)
    projections.catch_up(["audit_trail", "caseload"])
    head = a_note(records, worker)
    projections.catch_up(["audit_trail"])
    behind = projections.positions()
    assert behind["audit_trail"] == head and 0 < behind["caseload"] < head
    assert behind["worklist"] == 0

    runner = SharedRunner(names=list(PROJECTIONS), env=projections.env)
    runner.__enter__()
    try:
        until(lambda: set(projections.positions().values()) == {head})
    finally:
        runner.close()

    incremental = projections.digests()
    projections.rebuild()
    assert projections.digests() == incremental
