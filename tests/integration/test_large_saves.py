"""One save of many events: all of it is stored, chained, and it does not stall.

On PostgreSQL a save whose insert outgrew the socket buffers used to wait for ever (psycopg's
pipeline mode never sent the end of the statement), so the save runs in a child process that
is killed if it takes far longer than it should, instead of hanging the suite."""

import os
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.config import Settings

EVENTS = 10_000
# A long note (about a page) makes the insert some 15 MB, well past the socket buffers
# that a save of short notes may still fit in.
NOTE_CHARS = 1_000
STALLED_AFTER = 60  # seconds; the save takes a few

# Opens a case, then saves notes on it in one save; prints the case id and the version the
# case had before that save.
SAVER = """
import sys
from caserecord.config import Settings
from caserecord.domain.recording import Actor, Recording, recording
from caserecord.store import open_records
from tests.factories import an_open_case

app = open_records(Settings())
actor = Actor("worker-1", "caseworker", "agency-a")
case_id = an_open_case(app, actor)
case = app.repository.get(case_id)
opened = case.version
with recording(Recording(actor)):
    for i in range(int(sys.argv[1])):
        case.record_note(f"n{i}", f"note {i} ".ljust(int(sys.argv[2]), "."), "client", "phone", [])
app.events.put(case.collect_events())
print(case_id, opened)
app.close()
"""


def save_elsewhere(settings: Settings, events: int) -> tuple[UUID, int]:
    root = str(Path(__file__).parents[2])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    env = os.environ | {"CASERECORD_DATABASE_URL": settings.database_url, "PYTHONPATH": path}
    try:
        done = subprocess.run(
            [sys.executable, "-c", SAVER, str(events), str(NOTE_CHARS)],
            env=env,
            capture_output=True,
            text=True,
            timeout=STALLED_AFTER,
        )
    except subprocess.TimeoutExpired:  # run() has killed the child, so its transaction ends
        pytest.fail(f"one save of {events:,} events stalled for {STALLED_AFTER}s")
    assert done.returncode == 0, done.stderr
    case_id, opened = done.stdout.split()
    return UUID(case_id), int(opened)


def test_one_save_of_ten_thousand_events_is_stored_whole_and_its_chain_verifies(
    records: CaseRecords, settings: Settings
) -> None:
    case_id, opened = save_elsewhere(settings, EVENTS)

    stored = records.recorder.select_events(case_id)
    assert len(stored) == opened + EVENTS
    assert [s.originator_version for s in stored] == list(range(1, len(stored) + 1))
    verification = records.verify_stream(case_id)
    assert verification.ok, verification.problem
    assert verification.versions_checked == len(stored)
