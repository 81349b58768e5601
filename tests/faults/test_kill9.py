"""kill -9 of the service during concurrent HTTP writes: nothing acknowledged is lost."""

import random
import threading
import time
import uuid
from dataclasses import dataclass
from uuid import UUID

import httpx
import pytest

from caserecord.access import Tables
from caserecord.domain.recording import Actor
from caserecord.projections import ProjectionService
from caserecord.store import open_records
from tests.factories import all_notes
from tests.faults.service import Service
from tests.faults.support import Seeded, assert_store_whole, events_table, rounds, scalar

WRITERS = 6


@dataclass(frozen=True)
class Ack:
    case_id: UUID
    note_id: str
    version: int


def write_until(
    service: Service,
    token: str,
    cases: list[UUID],
    stop: threading.Event,
    acks: list[Ack],
    seed: int,
) -> None:
    rng = random.Random(seed)
    with service.client(token, timeout=10) as http:
        while not stop.is_set():
            case_id = rng.choice(cases)
            try:
                response = http.post(
                    f"/v1/cases/{case_id}/notes",
                    json={
                        "text": f"note {uuid.uuid4()}",
                        "contact_kind": "client",
                        "contact_mode": "phone",
                    },
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )
            except httpx.HTTPError:
                continue  # the outcome is unknown: the service may be dead
            if 200 <= response.status_code < 300:
                body = response.json()
                acks.append(Ack(case_id, body["entity_id"], body["version"]))


@pytest.mark.slow
def test_every_acknowledged_write_survives_repeated_kill_9_of_the_service(
    seeded: Seeded, worker: Actor
) -> None:
    acks: list[Ack] = []
    rng = random.Random(5)
    for n in range(rounds(6, 50)):
        service = seeded.service(workers=1 + n % 2).start()  # one or two worker processes
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=write_until,
                args=(service, seeded.token, seeded.cases, stop, acks, n * 100 + i),
            )
            for i in range(WRITERS)
        ]
        acked_before = len(acks)
        for t in threads:
            t.start()
        # On a loaded machine the first answers can take longer than the kill's delay: the
        # delay counts from the round's first acknowledged write, so every round shows one.
        deadline = time.monotonic() + 30
        while len(acks) == acked_before and time.monotonic() < deadline:
            time.sleep(0.02)
        threading.Event().wait(rng.uniform(0.3, 1.2))
        service.kill9()  # mid-write: requests are in flight in every writer
        stop.set()
        for t in threads:
            t.join(timeout=30)

    assert len(acks) >= 10, "too few writes were acknowledged to show anything"
    records = open_records(seeded.settings)
    try:
        for case_id in seeded.cases:
            notes = {n["note_id"]: n["version"] for n in all_notes(records, worker, case_id)}
            for ack in (a for a in acks if a.case_id == case_id):
                assert notes.get(ack.note_id) == ack.version, f"acknowledged {ack} is missing"
        clients = [UUID(str(records.get_case(worker, c)["client_id"])) for c in seeded.cases]
        assert_store_whole(records, seeded.cases + clients)
        # Each note and its idempotency key are one transaction: the counts must agree.
        tables = Tables(records)
        notes_recorded = scalar(
            tables,
            f"SELECT COUNT(*) FROM {{t}}{events_table(records)} WHERE topic LIKE '%NoteRecorded'",
        )
        keys = scalar(tables, "SELECT COUNT(*) FROM {t}idempotency_keys")
        assert keys == notes_recorded
        assert notes_recorded >= len(acks)
        last = records.recorder.max_notification_id()
    finally:
        records.close()

    views = ProjectionService(seeded.settings)
    try:
        views.catch_up()
        assert min(views.positions().values()) >= (last or 0)
        followed = views.digests()
        views.rebuild()
        assert views.digests() == followed
    finally:
        views.close()
