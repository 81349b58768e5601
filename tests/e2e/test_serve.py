"""The real thing: `caserecord serve` under uvicorn on 127.0.0.1, and the demo."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from caserecord.access import Tables, TokenStore
from caserecord.config import Settings
from caserecord.demo import DEMO_AGENCY, DEMO_PROVIDER_ORG
from caserecord.domain.recording import Actor
from caserecord.store import open_records

CASERECORD = str(Path(sys.executable).parent / "caserecord")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def env(sqlite_url: str) -> dict[str, str]:
    return os.environ | {"CASERECORD_DATABASE_URL": sqlite_url}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CASERECORD, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> str:
        """Stop the server (once); everything it logged."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        return self.process.stdout.read().decode() if self.process.stdout else ""


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[Server]:
    assert run(env, "db", "init").returncode == 0
    port = free_port()
    process = subprocess.Popen(
        [CASERECORD, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    running = Server(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{running.url}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, running.stop()
                time.sleep(0.1)
        yield running
    finally:
        running.stop()


def test_a_real_uvicorn_process_answers_on_localhost(server: Server, env: dict[str, str]) -> None:
    url = server.url
    made = run(
        env,
        "tokens",
        "create",
        "--agency",
        "agency-a",
        "--role",
        "caseworker",
        "--name",
        "worker-1",
    )
    token = made.stdout.strip()
    auth = {"Authorization": f"Bearer {token}"}

    registered = httpx.post(
        f"{url}/v1/clients",
        headers=auth,
        timeout=10,
        json={"given_name": "Maria", "family_name": "Lopez"},
    )
    feed = httpx.get(f"{url}/v1/events", headers=auth, timeout=10)
    search = httpx.get(f"{url}/v1/clients", params={"name": "Lopez"}, headers=auth, timeout=10)
    docs = httpx.get(f"{url}/docs", timeout=10)
    anonymous = httpx.get(f"{url}/v1/events", timeout=10)

    assert made.returncode == 0 and token.startswith("crt_")
    assert registered.status_code == 201
    assert [e["type"] for e in feed.json()["items"]] == ["Registered"]
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert anonymous.status_code == 401
    assert search.status_code == 200
    log = server.stop()
    # The search is in the request log, but not its query string (a client's name).
    assert '"GET /v1/clients HTTP/1.1" 200' in log
    assert "Lopez" not in log


def test_serve_on_an_uninitialised_store_fails_with_one_line(env: dict[str, str]) -> None:
    result = run(env, "serve", "--port", str(free_port()))

    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "caserecord db init" in result.stderr


def test_the_demo_loads_once_and_prints_a_working_token_per_role(env: dict[str, str]) -> None:
    assert run(env, "db", "init").returncode == 0

    first = run(env, "demo")
    second = run(env, "demo")

    assert first.returncode == second.returncode == 0, first.stderr
    assert "0 already there" in first.stdout
    assert " 0 changes recorded" in second.stdout
    earlier = dict(line.split() for line in first.stdout.splitlines() if "crt_" in line)
    tokens = dict(line.split() for line in second.stdout.splitlines() if "crt_" in line)
    roles = ["caseworker", "supervisor", "compliance_reviewer", "admin", "provider"]
    assert list(tokens) == roles
    records = open_records(Settings(database_url=env["CASERECORD_DATABASE_URL"]))
    store = TokenStore(Tables(records))
    for role, secret in tokens.items():
        token = store.authenticate(secret)
        assert token is not None and (token.agency_id, token.role) == (DEMO_AGENCY, role)
        # Only the provider's token answers for an organisation: the demo's provider.
        organisation = DEMO_PROVIDER_ORG if role == "provider" else None
        assert token.organization_id == organisation
    # The second run revoked the first run's tokens, and said which: they do not pile up.
    assert all(store.authenticate(secret) is None for secret in earlier.values())
    assert len([t for t in store.list(DEMO_AGENCY) if t.active]) == len(tokens)
    assert "revoked the 5 demo tokens of the last run" in second.stdout
    assert "revoked" not in first.stdout
    worker = Actor("demo-caseworker", "caseworker", DEMO_AGENCY)
    opened = [e for e in records.recorder.select_notifications(1, 1000) if "Opened" in e.topic]
    assert len(opened) == 6
    recovery = records.get_case(worker, UUID(str(opened[0].originator_id)))
    assert recovery["specialty"] == "substance_abuse"
    disclosed = records.disclosures(worker, UUID(str(recovery["client_id"])))
    assert [d["basis"] for d in disclosed] == ["consent", "medical_emergency"]
    records.close()
