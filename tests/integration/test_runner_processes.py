"""The runners across processes: events written elsewhere, a runner killed mid-stream,
writers appending while a view follows, gaps in positions, and read-your-writes."""

import signal
import subprocess
import sys
import time

import psycopg
import pytest

from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.projections import ProjectionService, ReadModelTimeoutError
from caserecord.provision import init_store
from caserecord.store import open_records
from tests.factories import a_client, many_events
from tests.integration.processes import CASERECORD, WRITER, env_for


def write_elsewhere(settings: Settings, actor_id: str, notes: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, actor_id, str(notes)],
        env=env_for(settings),
        stdout=subprocess.PIPE,
        text=True,
    )


def test_the_service_follows_events_written_by_another_process(
    projections: ProjectionService, settings: Settings
) -> None:
    projections.start()

    writer = write_elsewhere(settings, "worker-x", 3)
    out, _ = writer.communicate(timeout=60)
    assert writer.returncode == 0
    projections.wait(int(out.strip()), timeout=20)

    [row] = projections.queries.caseload("agency-a", case_manager_id="worker-x")
    assert row["last_contact_at"] is not None
    assert len(projections.queries.audit_trail("agency-a", actor_id="worker-x")) == 5


def test_a_runner_killed_mid_stream_ends_with_the_same_digest_as_a_rebuild(
    records: CaseRecords, projections: ProjectionService, settings: Settings, worker: Actor
) -> None:
    head = many_events(records, worker, cases=4, notes=1500)
    runner = subprocess.Popen(
        [CASERECORD, "projections", "run"], env=env_for(settings), stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while max(projections.positions().values()) == 0 and time.monotonic() < deadline:
            time.sleep(0.002)
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=30)
    killed_at = projections.positions()
    assert max(killed_at.values()) > 0 and min(killed_at.values()) < head  # mid-stream

    restarted = subprocess.run(
        [CASERECORD, "projections", "run", "--once"],
        env=env_for(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert restarted.returncode == 0, restarted.stderr
    assert set(projections.positions().values()) == {head}
    incremental = projections.digests()
    projections.rebuild()

    assert projections.digests() == incremental


def test_a_view_fed_while_two_writer_processes_append_equals_a_rebuild(
    records: CaseRecords, projections: ProjectionService, settings: Settings
) -> None:
    projections.start()
    writers = [write_elsewhere(settings, f"writer-{i}", 40) for i in range(2)]
    for w in writers:
        w.communicate(timeout=120)
        assert w.returncode == 0
    head = int(records.recorder.max_notification_id() or 0)
    assert head == 2 * (2 + 40)  # each writer: a client, a case and 40 notes

    projections.wait(head, timeout=30)
    projections.stop()
    incremental = projections.digests()
    projections.rebuild()

    assert projections.digests() == incremental
    assert len(projections.queries.audit_trail("agency-a", limit=500)) == head


@pytest.mark.postgres
def test_gaps_in_positions_never_stall_the_runners(postgres_url: str, worker: Actor) -> None:
    settings = Settings(database_url=postgres_url)
    init_store(settings)
    records = open_records(settings)
    service = ProjectionService(settings)
    try:
        service.start()
        a_client(records, worker)
        schema = postgres_url.rsplit("schema=", 1)[1]
        with psycopg.connect(postgres_url.split("?")[0], autocommit=True) as conn:
            # Rolled-back inserts leave holes in the sequence behind the positions.
            conn.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'notification_id')) "
                "FROM generate_series(1, 5)",
                (f'"{schema}".caserecords_events',),
            )
        after_gap = records.register_client(worker, given_name="Ana", family_name="Diaz")
        assert after_gap.position >= 7

        service.wait(after_gap.position, timeout=20)

        assert [
            c["given_name"] for c in service.queries.search_clients("agency-a", name="ana")
        ] == ["Ana"]
    finally:
        service.close()
        records.close()


def test_waiting_for_a_position_no_runner_reaches_times_out_clearly(
    sqlite_records: CaseRecords, sqlite_url: str, worker: Actor
) -> None:
    service = ProjectionService(Settings(database_url=sqlite_url))
    try:
        a_client(sqlite_records, worker)
        position = 1

        with pytest.raises(ReadModelTimeoutError, match="have not reached position 1"):
            service.wait(position, timeout=0.2)
        service.catch_up(["client_index"])
        service.wait(position, timeout=0.2, views=["client_index"])  # that one is there
        with pytest.raises(ReadModelTimeoutError, match=r"\(current_plans, caseload"):
            service.wait(position, timeout=0.2)
        service.catch_up()
        service.wait(position, timeout=0.2)  # caught up: returns at once
    finally:
        service.close()


def test_a_read_after_a_write_sees_the_write_once_waited_for(
    projections: ProjectionService, records: CaseRecords, worker: Actor
) -> None:
    projections.start()
    for i in range(5):
        result = records.register_client(worker, given_name=f"Kim{i}", family_name="Lee")

        projections.wait(result.position, timeout=10)

        assert len(projections.queries.search_clients("agency-a", name="lee")) == i + 1
