"""A real `caserecord serve` process on 127.0.0.1, for tests that kill, starve or flood it."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from caserecord.access import Tables, TokenStore
from caserecord.config import Settings
from caserecord.store import open_records

CASERECORD = str(Path(sys.executable).with_name("caserecord"))
READY_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def make_token(
    settings: Settings, name: str, agency: str = "agency-a", role: str = "caseworker"
) -> str:
    """A token acting as ``name`` (a caseworker writes to the cases they manage)."""
    records = open_records(settings)
    try:
        return TokenStore(Tables(records)).create(agency_id=agency, role=role, name=name)[1]
    finally:
        records.close()


class Service:
    """`caserecord serve` in its own process group, so kill -9 takes its workers too."""

    def __init__(
        self,
        database_url: str,
        log_dir: Path,
        *,
        workers: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"serve-{uuid.uuid4().hex[:6]}.log"
        self.extra_env = env or {}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, *, wait: bool = True) -> Self:
        env = os.environ | {"CASERECORD_DATABASE_URL": self.database_url} | self.extra_env
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    CASERECORD,
                    "serve",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                    "--log-level",
                    "warning",
                ],
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"the service exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/docs", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the service did not answer within {timeout}s:\n{self.log()}")

    def kill9(self) -> None:
        """SIGKILL to the whole process group: no shutdown handler runs anywhere."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill9()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def client(self, token: str, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"}
        options: dict[str, Any] = {"timeout": 30} | kwargs
        return httpx.Client(base_url=self.url, headers=headers, **options)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
