"""`caserecord serve --workers 2`: one worker runs the view runners; kill -9 it and another
takes over while the service keeps answering view reads after writes."""

import os
import re
import signal
import time

from caserecord.projections import ProjectionService
from tests.faults.support import Seeded

WITHIN = 30.0  # generous bound; the takeover itself takes about the retry interval


def runner_pid(views: ProjectionService, other_than: int = 0) -> int:
    """The process holding the runner lock, once one does (and it is not ``other_than``)."""
    deadline = time.monotonic() + WITHIN
    while time.monotonic() < deadline:
        found = re.match(r"pid (\d+) on ", views.holder())
        if found and int(found[1]) != other_than:
            return int(found[1])
        time.sleep(0.05)
    raise AssertionError(f"no process took the runner lock; holder: {views.holder()}")


def test_killing_the_worker_that_runs_the_views_hands_them_to_another_worker(
    seeded: Seeded,
) -> None:
    views = ProjectionService(seeded.settings)  # reads only: to ask who holds the lock
    service = seeded.service(workers=2, env={"CASERECORD_PROJECTION_LOCK_RETRY": "0.2"})
    try:
        with service:
            first = runner_pid(views)
            assert first != service.pid  # a worker, not the supervisor

            os.kill(first, signal.SIGKILL)
            second = runner_pid(views, other_than=first)
            with service.client(seeded.token) as http:
                written = http.post(
                    f"/v1/cases/{seeded.cases[0]}/notes",
                    json={
                        "text": "after the kill",
                        "contact_kind": "client",
                        "contact_mode": "phone",
                    },
                )
                assert written.status_code == 201, written.text
                position = written.headers["x-record-position"]
                read = http.get("/v1/caseloads", headers={"X-Min-Position": position})
    finally:
        views.close()

    assert second != first
    assert read.status_code == 200, read.text
    [seen] = [c for c in read.json()["items"] if c["case_id"] == str(seeded.cases[0])]
    assert seen["last_contact_at"] is not None  # the note after the kill is in the view
