"""One process at a time runs the view runners: two services on one store (like two API
workers), a holder that stops or dies, and two `caserecord projections run` processes."""

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from functools import partial

import psycopg
import pytest

from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.projections import ProjectionService
from caserecord.projections import service as service_module
from caserecord.projections.doorbell import Doorbell, doorbell_address, ring
from caserecord.projections.runner import catch_up_views
from caserecord.projections.runner_lock import AdvisoryLock, FileLock
from tests.factories import a_client
from tests.integration.processes import CASERECORD, env_for

RETRY = 0.2  # seconds between a standby's attempts at the lock
WITHIN = 20.0  # a generous bound on anything that should take about RETRY


def eventually(condition: object, timeout: float = WITHIN) -> bool:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def two_services(
    settings: Settings, records: CaseRecords
) -> Iterator[tuple[ProjectionService, ProjectionService]]:
    """Two services over one store, like two API workers, both started: the first one
    gets the lock."""
    quick = settings.model_copy(update={"projection_lock_retry": RETRY})
    first, second = ProjectionService(quick), ProjectionService(quick)
    try:
        assert first.start() is True
        assert second.start() is False
        yield first, second
    finally:
        second.close()
        first.close()


def die(service: ProjectionService) -> None:
    """What a crash does to the holder's lock, without ending this test process: the
    server ends its session (PostgreSQL), the kernel closes its descriptor (SQLite)."""
    lock = service.supervisor.lock
    if isinstance(lock, AdvisoryLock):
        assert lock._conn is not None
        pid = lock._conn.info.backend_pid
        with psycopg.connect(lock._connection().info.dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    else:
        assert isinstance(lock, FileLock) and lock._fd is not None
        fd, lock._fd = lock._fd, None
        os.close(fd)


def test_of_two_services_on_one_store_only_one_runs_the_runners(
    two_services: tuple[ProjectionService, ProjectionService], records: CaseRecords, worker: Actor
) -> None:
    leader, standby = two_services

    position = records.register_client(worker, given_name="Ida", family_name="Holm").position
    standby.wait(position, timeout=WITHIN)  # read-your-writes on the standby too

    assert leader.leading and leader.supervisor.running
    assert not standby.leading and not standby.supervisor.running
    assert len(standby.queries.search_clients("agency-a", name="ida holm")) == 1


def test_when_the_runner_stops_the_standby_takes_over_and_catches_up(
    two_services: tuple[ProjectionService, ProjectionService], records: CaseRecords, worker: Actor
) -> None:
    leader, standby = two_services

    leader.stop()
    for i in range(3):
        a_client(records, worker, client_number=f"C-{i}")

    assert eventually(lambda: standby.leading)
    head = int(records.recorder.max_notification_id() or 0)
    standby.wait(head, timeout=WITHIN)
    assert set(standby.positions().values()) == {head}


def test_when_the_runner_dies_the_standby_takes_over_and_the_other_steps_down(
    two_services: tuple[ProjectionService, ProjectionService], records: CaseRecords, worker: Actor
) -> None:
    leader, standby = two_services

    die(leader)
    position = records.register_client(worker, given_name="Ole", family_name="Dahl").position

    assert eventually(lambda: standby.leading)
    assert eventually(lambda: not leader.leading)  # it noticed, and stopped its runners
    assert not leader.supervisor.running
    standby.wait(position, timeout=WITHIN)
    assert len(standby.queries.search_clients("agency-a", name="ole dahl")) == 1


def test_a_stopped_service_takes_the_lock_again_when_it_is_free(
    two_services: tuple[ProjectionService, ProjectionService],
) -> None:
    leader, standby = two_services
    standby.stop()  # stops standing by

    leader.stop()

    assert standby.start() is True
    assert leader.start() is False


def read_until(process: subprocess.Popen[str], text: str) -> str:
    """Lines of a child's stdout up to one containing ``text`` (bounded by the child's
    lifetime and the test's timeout)."""
    assert process.stdout is not None
    seen = ""
    for line in process.stdout:
        seen += line
        if text in line:
            return seen
    raise AssertionError(f"{text!r} never came; output was:\n{seen}")


def test_two_projections_run_processes_one_runs_and_the_other_takes_over_after_kill_9(
    settings: Settings, records: CaseRecords, worker: Actor
) -> None:
    env = env_for(settings) | {"CASERECORD_PROJECTION_LOCK_RETRY": str(RETRY)}
    first = subprocess.Popen(
        [CASERECORD, "projections", "run"], env=env, stdout=subprocess.PIPE, text=True
    )
    second: subprocess.Popen[str] | None = None
    service = ProjectionService(settings)
    try:
        read_until(first, "following new events")
        second = subprocess.Popen(
            [CASERECORD, "projections", "run"], env=env, stdout=subprocess.PIPE, text=True
        )
        standing_by = read_until(second, "standing by")

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=WITHIN)
        position = records.register_client(worker, given_name="Liv", family_name="Berg").position
        took_over = read_until(second, "following new events")
        service.wait(position, timeout=WITHIN)
    finally:
        service.close()
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=WITHIN)

    assert f"pid {first.pid} on " in standing_by
    assert "following new events for: current_plans" in took_over


def test_projections_run_no_wait_refuses_in_one_line_while_another_process_runs_them(
    sqlite_url: str, sqlite_records: CaseRecords
) -> None:
    settings = Settings(database_url=sqlite_url)
    service = ProjectionService(settings)
    try:
        assert service.start() is True

        refused = subprocess.run(
            [CASERECORD, "projections", "run", "--no-wait"],
            env=env_for(settings),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        service.close()

    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"caserecord: the views are already run by pid {os.getpid()} on "
        f"{os.uname().nodename}; nothing to do (--wait stands by to take over)"
    ]
    assert refused.stdout == ""


def test_a_ring_at_the_doorbell_of_a_sqlite_store_reaches_its_runner_process(
    sqlite_url: str,
) -> None:
    address = doorbell_address(Settings(database_url=sqlite_url).eventsourcing_env())
    rung = threading.Event()
    doorbell = Doorbell.listen(address, rung.set)
    assert doorbell is not None
    try:
        ring(address)

        assert rung.wait(WITHIN)
    finally:
        doorbell.close()
    ring(address)  # nobody listening: nothing happens


def test_a_postgresql_store_needs_no_doorbell_and_keys_its_lock_by_schema() -> None:
    env = Settings(database_url="postgresql://u@h/db?schema=s1").eventsourcing_env()
    other = Settings(database_url="postgresql://u@h/db?schema=s2").eventsourcing_env()

    assert doorbell_address(env) is None
    assert AdvisoryLock(env).key == AdvisoryLock(dict(env)).key != AdvisoryLock(other).key


def test_a_rebuild_beside_the_process_that_runs_the_views_needs_no_lock_and_ends_equal(
    two_services: tuple[ProjectionService, ProjectionService], records: CaseRecords, worker: Actor
) -> None:
    leader, standby = two_services
    a_client(records, worker)

    rebuilt = standby.rebuild()  # as `caserecord projections rebuild` beside the service
    position = records.register_client(worker, given_name="Aki", family_name="Sato").position

    assert rebuilt["client_index"] == position - 1
    standby.wait(position, timeout=WITHIN)  # the runners went on after it
    assert leader.leading
    incremental = standby.digests()
    leader.stop()
    standby.stop()
    standby.rebuild()
    assert standby.digests() == incremental


def test_an_event_the_running_views_apply_in_the_middle_of_a_rebuild_leaves_no_row_out(
    two_services: tuple[ProjectionService, ProjectionService],
    records: CaseRecords,
    worker: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    leader, standby = two_services
    for n in range(6):
        a_client(records, worker, given_name=f"Client {n}")
    monkeypatch.setattr(service_module, "catch_up_views", partial(catch_up_views, page=2))
    later: list[int] = []

    def meanwhile(_view: str, _position: int, _applied: int) -> None:
        # After the rebuild's first page: the service's runners see a new event and go on.
        if not later:
            later.append(
                records.register_client(worker, given_name="Lu", family_name="Late").position
            )
            eventually(lambda: standby.positions()["audit_trail"] >= later[0], timeout=5.0)

    standby.rebuild(["audit_trail"], progress=meanwhile)
    standby.wait(later[0], timeout=WITHIN)
    leader.stop()
    both_ways = standby.digests(["audit_trail"])
    standby.rebuild(["audit_trail"])

    assert standby.digests(["audit_trail"]) == both_ways
    rows = standby.queries.audit_trail("agency-a", limit=100)
    assert [r["position"] for r in rows] == list(range(1, later[0] + 1))
