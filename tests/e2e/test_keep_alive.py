"""A 500 is an ordinary answer: the keep-alive connection it came on stays usable."""

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from caserecord.api import create_app
from caserecord.config import Settings
from caserecord.provision import init_store
from tests.e2e.http import issue_tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(sqlite_url: str) -> Iterator[tuple[str, str, object]]:
    """A real uvicorn server in this process: (base url, a caseworker token, the app)."""
    settings = Settings(database_url=sqlite_url, run_projections=False)
    init_store(settings)
    token = issue_tokens(settings)["agency-a", "caseworker"]
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}", token, app
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_after_a_500_the_same_connection_serves_the_next_request(
    live: tuple[str, str, object],
) -> None:
    url, token, app = live
    app.state.runtime.records.get_case = lambda *a, **k: 1 / 0  # type: ignore[attr-defined]  # noqa: ARG005
    peers: list[object] = []

    def remember_peer(response: httpx.Response) -> None:
        stream = response.extensions["network_stream"]
        peers.append(stream.get_extra_info("socket").getsockname())

    with httpx.Client(
        base_url=url,
        headers={"Authorization": f"Bearer {token}"},
        event_hooks={"response": [remember_peer]},
    ) as client:
        failed = client.get("/v1/cases/00000000-0000-4000-8000-000000000000")
        after = client.get("/v1/clients", params={"name": "Lopez"})

    assert failed.status_code == 500
    assert failed.headers["content-type"] == "application/problem+json"
    assert failed.json()["code"] == "internal_error"
    assert "close" not in failed.headers.get("connection", "")
    assert after.status_code == 200, after.text
    assert peers[0] == peers[1]  # one connection, kept alive
