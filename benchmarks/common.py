"""What every benchmark shares: throwaway stores, timing, percentiles, machine facts, RSS.

Figures are reported as ratios against a baseline measured in the same run, because the
machines these run on are shared and absolute times drift from minute to minute.
"""

import os
import platform
import sqlite3
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg

from caserecord.config import Settings
from caserecord.provision import init_store

PG_DSN = os.environ.get("CASERECORD_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parent.parent
WORKDIR = Path(os.environ.get("CASERECORD_BENCH_DIR", ROOT / "var" / "bench"))


@dataclass
class Row:
    """One line of the table: a measured figure, its baseline, and the ratio between them."""

    section: str
    name: str
    store: str
    value: float
    unit: str
    baseline_name: str = ""
    baseline: float | None = None
    target: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"ratio": self.ratio}


def postgres_problem() -> str | None:
    try:
        with psycopg.connect(PG_DSN, connect_timeout=3):
            return None
    except psycopg.Error as e:
        return str(e).strip().splitlines()[0]


@contextmanager
def temp_store(kind: str, label: str = "bench", *, init: bool = True) -> Iterator[Settings]:
    """A fresh SQLite file or PostgreSQL schema, removed afterwards."""
    tag = f"{label}_{uuid.uuid4().hex[:8]}"
    if kind == "sqlite":
        WORKDIR.mkdir(parents=True, exist_ok=True)
        path = (WORKDIR / f"{tag}.db").resolve()
        settings = Settings(database_url=f"sqlite:///{path}")
        if init:
            init_store(settings)
        try:
            yield settings
        finally:
            # .key: the integrity key beside it; the lock of a service's read models, whose
            # processes are gone by now.
            for suffix in ("", "-wal", "-shm", ".key", ".projections.lock"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    schema = f"b_{tag}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        settings = Settings(database_url=f"{PG_DSN}?schema={schema}")
        if init:
            init_store(settings)
        yield settings
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def rate(op: Callable[[], object], seconds: float) -> float:
    """Operations per second of ``op`` run back to back for about ``seconds``."""
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        op()
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def interleaved_rates(
    ops: dict[str, Callable[[], object]], rounds: int, seconds: float
) -> dict[str, float]:
    """Median rate per op, measured in alternating rounds so drift hits all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in ops}
    for _ in range(rounds):
        for name, op in ops.items():
            samples[name].append(rate(op, seconds))
    return {name: statistics.median(values) for name, values in samples.items()}


def load_average() -> str:
    """The 1, 5 and 15 minute load averages as "6.2/8.3/9.3", for a row's note."""
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, round(p / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def latencies(op: Callable[[], object], count: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        op()
    out = []
    for _ in range(count):
        start = time.perf_counter()
        op()
        out.append(time.perf_counter() - start)
    return out


def peak_rss_mib(pid: int) -> float:
    """Peak resident set size (VmHWM) of a live process, from /proc."""
    return _status_kib(pid, "VmHWM") / 1024


def rss_mib(pid: int) -> float:
    return _status_kib(pid, "VmRSS") / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _status_kib(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return float(line.split()[1])
    return 0.0


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn workers are children of the supervisor)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        for child in children:
            found.extend(process_tree(int(child)))
    return found


def machine_info() -> dict[str, Any]:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = 0.0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = float(line.split()[1])
    pg = ""
    if postgres_problem() is None:
        with psycopg.connect(PG_DSN) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            pg = str(row[0]) if row else ""
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg or "unreachable",
        "eventsourcing": metadata.version("eventsourcing"),
        "fastapi": metadata.version("fastapi"),
        "uvicorn": metadata.version("uvicorn"),
        "load_average": os.getloadavg(),
    }
