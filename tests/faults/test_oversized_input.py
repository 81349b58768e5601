"""Oversized and slow request bodies: refused early, without memory growth or blocking."""

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from caserecord.config import Settings
from tests.faults.service import Service
from tests.faults.support import Seeded

MIB = 1024 * 1024
UPLOADS = 100
UPLOAD_BYTES = 10 * MIB


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


class PeakRss:
    """Samples a process's resident set size every few milliseconds until stopped."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_mib(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_mib(self.pid))

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def chunks(total: int, size: int = 256 * 1024) -> Iterator[bytes]:
    block = b"x" * size
    sent = 0
    while sent < total:
        yield block
        sent += size


def upload(service: Service, token: str, path: str, *, chunked: bool, codes: list[int]) -> None:
    content: bytes | Iterator[bytes] = chunks(UPLOAD_BYTES) if chunked else b"x" * UPLOAD_BYTES
    try:
        with service.client(token, timeout=60) as http:
            response = http.post(
                path, content=content, headers={"Content-Type": "application/json"}
            )
        codes.append(response.status_code)
    except httpx.HTTPError:
        # The server may close the connection once it has refused; that is a refusal too.
        codes.append(-1)


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    """The body limit acts before any store is touched: SQLite alone is enough here."""
    return Settings(database_url=sqlite_url)


@pytest.fixture
def service(seeded: Seeded) -> Iterator[Service]:
    with seeded.service() as running:  # one process: the RSS measured is the whole service
        yield running


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_parsed(
    seeded: Seeded, service: Service
) -> None:
    path = f"/v1/cases/{seeded.cases[0]}/notes"
    not_json = b"{" * (2 * MIB)  # the parser would answer 422; the limit answers first
    with service.client(seeded.token) as http:
        declared = http.post(path, content=not_json, headers={"Content-Type": "application/json"})
        streamed = http.post(
            path, content=chunks(2 * MIB), headers={"Content-Type": "application/json"}
        )

    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "content_too_large"


@pytest.mark.slow
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_hundred_concurrent_10_mib_uploads_do_not_raise_memory_by_50_mib(
    seeded: Seeded, service: Service, chunked: bool
) -> None:
    path = f"/v1/cases/{seeded.cases[0]}/notes"
    with service.client(seeded.token) as http:  # warm up every code path once
        http.post(path, content=b"{" * (2 * MIB), headers={"Content-Type": "application/json"})
    before = rss_mib(service.pid)
    codes: list[int] = []
    with PeakRss(service.pid) as rss:
        threads = [
            threading.Thread(
                target=upload,
                args=(service, seeded.token, path),
                kwargs={"chunked": chunked, "codes": codes},
            )
            for _ in range(UPLOADS)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)

    assert len(codes) == UPLOADS
    assert set(codes) <= {413, -1}, codes
    assert rss.peak - before <= 50, f"RSS rose from {before:.0f} MiB to {rss.peak:.0f} MiB"
    with service.client(seeded.token) as http:  # and the service still works
        assert http.get(f"/v1/cases/{seeded.cases[0]}").status_code == 200


def test_a_slow_upload_does_not_hold_up_other_requests(seeded: Seeded, service: Service) -> None:
    trickle = socket.create_connection(("127.0.0.1", service.port))
    try:
        trickle.sendall(
            b"POST /v1/cases/" + str(seeded.cases[0]).encode() + b"/notes HTTP/1.1\r\n"
            b"Host: 127.0.0.1\r\nAuthorization: Bearer " + seeded.token.encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
        )
        with service.client(seeded.token, timeout=5) as http:
            for _ in range(5):
                trickle.sendall(b" ")
                started = time.perf_counter()
                response = http.get(f"/v1/cases/{seeded.cases[0]}")
                assert response.status_code == 200
                assert time.perf_counter() - started < 2.0
    finally:
        trickle.close()
