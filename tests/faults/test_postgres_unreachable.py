"""PostgreSQL unreachable at start (one clear line) and mid-run (503 + Retry-After, then
recovery without a restart).  The shared server stays up: the service reaches it through a
TCP proxy that the test takes down and brings back."""

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import httpx
import pytest

from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.provision import init_store
from caserecord.store import open_records
from tests.factories import all_notes_over_http, an_open_case
from tests.faults.proxy import TcpProxy
from tests.faults.service import CASERECORD, Service, free_port, make_token
from tests.faults.support import rounds

pytestmark = pytest.mark.postgres


def via(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{port}"))


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[TcpProxy]:
    target = urlsplit(postgres_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    yield proxy
    proxy.down()


def note(text: str) -> dict[str, str]:
    return {"text": text, "contact_kind": "client", "contact_mode": "phone"}


def test_the_service_will_not_start_without_postgres_and_says_why_in_one_line(
    postgres_url: str, proxy: TcpProxy
) -> None:
    init_store(Settings(database_url=postgres_url))  # a ready store, just unreachable
    env = os.environ | {"CASERECORD_DATABASE_URL": via(postgres_url, proxy.port)}

    started = time.monotonic()
    done = subprocess.run(
        [CASERECORD, "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("caserecord: ")
    assert "database" in lines[0]
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 30


@pytest.mark.slow
def test_while_postgres_is_down_writes_get_503_with_retry_after_and_recover_without_restart(
    postgres_url: str, proxy: TcpProxy, worker: Actor, tmp_path: Path
) -> None:
    settings = Settings(database_url=postgres_url)
    init_store(settings)
    records = open_records(settings)
    case_id = an_open_case(records, worker)
    records.close()
    token = make_token(settings, worker.id)
    proxy.up()
    with (
        Service(via(postgres_url, proxy.port), tmp_path) as service,
        service.client(token, timeout=60) as http,
    ):
        path = f"/v1/cases/{case_id}/notes"
        before = http.post(path, json=note("before the outage"))
        assert before.status_code == 201, before.text

        outages = rounds(2, 10)
        for n in range(outages):
            outage(proxy, http, case_id, f"after outage {n}")
        notes = all_notes_over_http(http, case_id)

    texts = [n["text"] for n in notes]
    assert texts == ["before the outage", *(f"after outage {n}" for n in range(outages))]


def outage(proxy: TcpProxy, http: httpx.Client, case_id: UUID, text: str) -> None:
    """Take the database away: 503 + Retry-After at once; bring it back: writes resume."""
    path = f"/v1/cases/{case_id}/notes"
    proxy.down()
    started = time.monotonic()
    down = http.post(path, json=note("during the outage"))
    waited = time.monotonic() - started
    read = http.get(f"/v1/cases/{case_id}")

    for response in (down, read):
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert int(response.headers["Retry-After"]) > 0
    assert waited < 30, f"the 503 took {waited:.1f}s"

    proxy.up()
    key = {"Idempotency-Key": str(uuid.uuid4())}  # retried until it lands, recorded once
    deadline = time.monotonic() + 60
    after = None
    while time.monotonic() < deadline:
        try:
            after = http.post(path, json=note(text), headers=key)
        except httpx.HTTPError:
            after = None
        if after is not None and after.status_code == 201:
            break
        time.sleep(0.5)
    assert after is not None and after.status_code == 201, after and after.text
