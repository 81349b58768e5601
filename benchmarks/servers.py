"""Start the service and the baseline app under uvicorn, the same way, on 127.0.0.1."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Self

from benchmarks.common import WORKDIR, cpu_seconds, peak_rss_mib, process_tree

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """A process started in a session of its own; an HTTP server (ready once it answers
    /docs), or with ``ready_line`` a background process ready once its log shows that."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], *, ready_line: str = ""
    ) -> None:
        self.name = name
        self.port = free_port()
        self.ready_line = ready_line
        self.argv = argv if ready_line else [*argv, "--host", "127.0.0.1", "--port", str(self.port)]
        self.env = os.environ | env
        WORKDIR.mkdir(parents=True, exist_ok=True)
        self.log = WORKDIR / f"{name}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> Self:
        return self.launch().ready(timeout)

    def launch(self) -> Self:
        """Start the process without waiting for it (see ``ready`` and ``started``)."""
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.argv, env=self.env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True
            )
        return self

    def ready(self, timeout: float = 60) -> Self:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            if self.ready_line:
                if self.ready_line in self.log.read_text():
                    return self
                time.sleep(0.1)
                continue
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/docs", timeout=1):
                    return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not start within {timeout}s")

    def peak_rss_mib(self) -> float:
        """Peak RSS summed over the server and its worker processes."""
        assert self.process is not None
        return sum(peak_rss_mib(pid) for pid in process_tree(self.process.pid))

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server and its worker processes."""
        assert self.process is not None
        return sum(cpu_seconds(pid) for pid in process_tree(self.process.pid))

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass
        self.process = None
        self.log.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def service(database_url: str, workers: int, **env: str) -> Server:
    argv = [str(BIN / "caserecord"), "serve", "--workers", str(workers), "--log-level", "warning"]
    return Server(f"service-{workers}w", argv, {"CASERECORD_DATABASE_URL": database_url} | env)


def started(stack: ExitStack, *servers: Server) -> None:
    """Start the servers side by side (each stopped when ``stack`` closes); return once all
    are ready."""
    for server in servers:
        stack.callback(server.stop)
        server.launch()
    for server in servers:
        server.ready()


def runner(database_url: str) -> Server:
    """`caserecord projections run`: the read models followed by a process of their own."""
    argv = [str(BIN / "caserecord"), "projections", "run"]
    return Server(
        "runner",
        argv,
        # Unbuffered, so the line it is waited for reaches the log at once.
        {"CASERECORD_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"},
        ready_line="following new events",
    )


def baseline(db_path: Path, workers: int) -> Server:
    """The bare FastAPI + sqlite3 app, writing to ``db_path``."""
    return _baseline("benchmarks.baseline_app:app", workers, BASELINE_DB=str(db_path))


def postgres_baseline(dsn: str, schema: str, workers: int) -> Server:
    """The bare FastAPI + psycopg app, writing to ``schema`` of the database at ``dsn``."""
    return _baseline(
        "benchmarks.baseline_app:postgres_app",
        workers,
        BASELINE_POSTGRES=dsn,
        BASELINE_SCHEMA=schema,
    )


def _baseline(app: str, workers: int, **env: str) -> Server:
    argv = [str(BIN / "uvicorn"), app, "--workers", str(workers), "--log-level", "warning"]
    return Server(f"baseline-{workers}w", argv, env)
