"""The reviewer's drill: kill -9 of the service under read load, restart, `verify --all`. Every
read writes an access-log entry, so reads cut off mid-write roll back; on PostgreSQL their
entry ids are gone from the sequence, which is no tampering."""

import contextlib
import random
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse
from uuid import UUID

import httpx
import psycopg
import pytest

from caserecord.access import Tables
from caserecord.audit import verify_all
from caserecord.store import open_records
from tests.faults.service import Service
from tests.faults.support import Seeded, rounds, scalar
from tests.stores import PG_ADMIN_DSN

READERS = 6


def read_until(service: Service, token: str, cases: list[UUID], stop: threading.Event) -> None:
    rng = random.Random()
    with service.client(token, timeout=10) as http:
        while not stop.is_set():
            try:
                http.get(f"/v1/cases/{rng.choice(cases)}")
            except httpx.HTTPError:
                continue  # the service may be dead


@contextlib.contextmanager
def subject_rows_locked(database_url: str, lock: bool) -> Iterator[None]:
    """On PostgreSQL, access-log writes held after their entry's INSERT (as by a lock wait
    that a statement timeout ends), so the kill cuts some of them off with an id taken."""
    if not lock or database_url.startswith("sqlite"):
        yield
        return
    schema = parse_qs(urlparse(database_url).query)["schema"][0]
    with psycopg.connect(PG_ADMIN_DSN) as pg:
        pg.execute(f'LOCK TABLE "{schema}".access_log_subjects IN SHARE MODE')
        yield
        pg.rollback()


@pytest.mark.slow
def test_kill_9_under_read_load_leaves_a_store_that_verifies_intact(seeded: Seeded) -> None:
    rng = random.Random(7)
    count = rounds(3, 20)
    for n in range(count):
        held = subject_rows_locked(seeded.settings.database_url, n == count - 1)
        service = seeded.service().start()
        held.__enter__()
        stop = threading.Event()
        threads = [
            threading.Thread(target=read_until, args=(service, seeded.token, seeded.cases, stop))
            for _ in range(READERS)
        ]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.5, 1.5))
        service.kill9()  # reads are in flight in every reader
        held.__exit__(None, None, None)
        stop.set()
        for t in threads:
            t.join(timeout=30)
    with seeded.service() as service, service.client(seeded.token) as http:
        assert http.get(f"/v1/cases/{seeded.cases[0]}").status_code == 200  # restarted

    records = open_records(seeded.settings)
    try:
        entries = scalar(Tables(records), "SELECT COUNT(*) FROM {t}access_log")
        report = verify_all(records)
    finally:
        records.close()
    assert entries > 3 * READERS
    assert report.ok, report.problems[:5]
