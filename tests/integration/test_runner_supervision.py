"""A runner that fails is started again from its position; a runner killed while following
new events (not catching up) also ends equal to a rebuild."""

import signal
import subprocess
import threading
import time
from typing import Any

import pytest

from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.projections import ProjectionService
from caserecord.projections.client_index import ClientIndexProjection
from tests.factories import a_client, many_events
from tests.integration.processes import CASERECORD, env_for


def test_a_runner_that_fails_is_restarted_and_applies_the_event_once(
    projections: ProjectionService,
    records: CaseRecords,
    worker: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    projections.start()
    original = ClientIndexProjection.writes_for
    failures = threading.Event()

    def fail_once(self: ClientIndexProjection, event: Any, position: int) -> Any:
        if not failures.is_set():
            failures.set()
            raise RuntimeError("the database went away for a moment")
        return original(self, event, position)

    monkeypatch.setattr(ClientIndexProjection, "writes_for", fail_once)

    position = records.register_client(worker, given_name="Ola", family_name="Berg").position
    projections.wait(position, timeout=20)

    assert failures.is_set()
    assert len(projections.queries.search_clients("agency-a", name="ola berg")) == 1
    incremental = projections.digests()
    projections.stop()
    projections.rebuild()
    assert projections.digests() == incremental


def test_a_runner_killed_while_following_new_events_ends_equal_to_a_rebuild(
    records: CaseRecords, projections: ProjectionService, settings: Settings, worker: Actor
) -> None:
    a_client(records, worker)
    runner = subprocess.Popen(
        [CASERECORD, "projections", "run"], env=env_for(settings), stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while min(projections.positions().values()) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)  # caught up with what was there: now it follows
        start = max(projections.positions().values())
        head = many_events(records, worker, cases=2, notes=1500)
        while max(projections.positions().values()) <= start and time.monotonic() < deadline:
            time.sleep(0.002)
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=30)
    killed_at = projections.positions()
    assert min(killed_at.values()) < head  # killed mid-stream

    projections.catch_up()  # the restart
    incremental = projections.digests()
    projections.rebuild()

    assert projections.digests() == incremental
