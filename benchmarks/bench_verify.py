"""`caserecord verify --all` against reading and decoding the log, in the same run.

A store of cases of 1,000 notes each (a snapshot every 100 events, as the service takes
them), written through the domain and the service's recorder a whole case per transaction,
and kept between runs (below).  Then, alternately and each in a fresh process so that its
peak RSS is its own (VmHWM, read by the child that runs only that at its end):
- verify --all (``caserecord.audit.verify_all``): every stream's chain and MACs, the feed
  index, the snapshots, tokens, the access log and the Merkle tree, from the stored rows;
- the baseline: every event of the log read in pages and decoded into a domain event
  (``select_notifications`` + ``mapper.to_domain_event``), what any full pass over the log
  costs.
The ratio is events/s of verify over events/s of the baseline (above 1: faster), and peak
RSS of verify over that of the baseline; each the median of ``ROUNDS`` alternating runs.

The store is large (a million events is about 1.8 GB on SQLite) and slow to write, so it is
kept under ``var/bench/`` (``CASERECORD_BENCH_DIR``), named by its size and a fingerprint of
the schema and the library's version: a change in either writes a new one.  ``make bench``
uses 100,000 events (20,000 with ``--quick``); ``make bench-verify`` is the million-event run
on SQLite (``CASERECORD_BENCH_VERIFY_EVENTS`` sets the size; writing that store the first
time takes 5 to 20 minutes). PostgreSQL's store is a throwaway schema.
"""

import hashlib
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any
from uuid import uuid4

from benchmarks.bench_commands import ACTOR, NOTE, open_case
from benchmarks.common import ROOT, WORKDIR, Row, temp_store
from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.case import Case
from caserecord.provision import init_store
from caserecord.store import open_records

PER_CASE = 1_000
ROUNDS = 3
CHILD = """
import json, sys, time
from caserecord.config import load_settings
from caserecord.store import open_records
records = open_records(load_settings())
started, cpu = time.perf_counter(), time.process_time()
if sys.argv[1] == "verify":
    from caserecord.audit import verify_all
    report = verify_all(records)
    events, ok = report.events, report.ok
else:
    events, start, ok = 0, 1, True
    while page := records.recorder.select_notifications(start=start, limit=5000):
        for n in page:
            records.mapper.to_domain_event(n)
        events += len(page)
        start = page[-1].id + 1
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
records.close()
# VmHWM of this process's own memory: wait4's ru_maxrss would also count the peak of the
# parent it was started from (the kernel keeps it across the exec).
status = open("/proc/self/status").read()
peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps({"events": events, "seconds": seconds, "cpu_seconds": cpu, "ok": ok,
                  "peak_rss_mib": peak}))
"""


def write_cases(app: CaseRecords, events: int) -> None:
    """Cases of ``PER_CASE`` notes, each case's events in one transaction, with the
    snapshots the service would take (of the case in memory, as ``_take_snapshots`` does,
    without replaying it)."""
    interval = app.snapshotting_intervals[Case]
    for _ in range(events // PER_CASE):
        case: Any = app.repository.get(open_case(app))
        snapshot_class: Any = getattr(type(case), "Snapshot", type(app).snapshot_class)
        with app._recording(ACTOR, {}):
            while case.version < PER_CASE:
                case.record_note(str(uuid4()), NOTE, "client", "phone", [])
                if case.version % interval == 0 and app.snapshots is not None:
                    app.snapshots.put([snapshot_class.take(case)])
        app.events.put(case.collect_events())


def fingerprint() -> str:
    """The schema a store of this code has, and the library's version: a store written
    with another schema is not reused."""
    WORKDIR.mkdir(parents=True, exist_ok=True)
    probe = (WORKDIR / f"schema-{os.getpid()}.db").resolve()
    try:
        init_store(Settings(database_url=f"sqlite:///{probe}"))
        db = sqlite3.connect(probe)
        try:
            schema = sorted(str(sql) for (sql,) in db.execute("SELECT sql FROM sqlite_master"))
        finally:
            db.close()
    finally:
        for suffix in ("", "-wal", "-shm", ".key"):
            Path(f"{probe}{suffix}").unlink(missing_ok=True)
    digest = hashlib.sha256(metadata.version("eventsourcing").encode())
    digest.update("\n".join(schema).encode())
    return digest.hexdigest()[:12]


def cached_sqlite_store(events: int) -> Settings:
    """A SQLite store of ``events`` events, written once and then kept under WORKDIR."""
    WORKDIR.mkdir(parents=True, exist_ok=True)
    path = (WORKDIR / f"verify-{events}-{fingerprint()}.db").resolve()
    settings = Settings(database_url=f"sqlite:///{path}")
    if path.exists():
        return settings
    for stale in WORKDIR.glob(f"verify-{events}-*.db*"):
        stale.unlink()
    partial = path.with_suffix(".partial")
    for suffix in ("", "-wal", "-shm", ".key"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    writing = Settings(database_url=f"sqlite:///{partial}")
    init_store(writing)
    app = open_records(writing)
    try:
        write_cases(app, events)
    finally:
        app.close()
    db = sqlite3.connect(partial)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    Path(f"{partial}.key").rename(f"{path}.key")
    partial.rename(path)  # last: the store exists only once it is whole
    return settings


@contextmanager
def store(kind: str, events: int) -> Iterator[tuple[Settings, float | None]]:
    """(settings, seconds it took to write, or None when the store was kept from before)."""
    if kind == "sqlite":
        t0 = time.perf_counter()
        kept = any(WORKDIR.glob(f"verify-{events}-{fingerprint()}.db"))
        settings = cached_sqlite_store(events)
        yield settings, None if kept else time.perf_counter() - t0
        return
    with temp_store(kind, "verify") as settings:
        app = open_records(settings)
        t0 = time.perf_counter()
        try:
            write_cases(app, events)
        finally:
            app.close()
        yield settings, time.perf_counter() - t0


def measure(settings: Settings, mode: str) -> dict[str, Any]:
    """One child process that runs ``mode`` only, and reports its own peak RSS."""
    env = os.environ | {
        "CASERECORD_DATABASE_URL": settings.database_url,
        "CASERECORD_INTEGRITY_KEY_FILE": str(settings.integrity_key_path()),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    child = subprocess.run(
        [sys.executable, "-c", CHILD, mode], env=env, stdout=subprocess.PIPE, text=True
    )
    if child.returncode:
        raise RuntimeError(f"the {mode} child failed ({child.returncode})")
    found: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return found


def load_average() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def run(kind: str, *, quick: bool) -> list[Row]:
    size = 20_000 if quick else int(os.environ.get("CASERECORD_BENCH_VERIFY_EVENTS", 100_000))
    with store(kind, size) as (settings, written):
        load_before = load_average()
        runs: dict[str, list[dict[str, Any]]] = {"decode": [], "verify": []}
        for _ in range(ROUNDS):
            for mode in runs:
                runs[mode].append(measure(settings, mode))
        load_after = load_average()
    assert all(r["ok"] for r in runs["verify"]), "verify --all found problems in an untouched store"

    def median(mode: str, figure: str) -> float:
        return statistics.median(r[figure] for r in runs[mode])

    events = runs["verify"][0]["events"]
    label = f"{events:,} events in {events // PER_CASE:,} cases"
    made = "kept from an earlier run" if written is None else f"written in {written:.0f} s"
    how = (
        f"median of {ROUNDS} alternating runs, each in a process of its own; store {made}; "
        f"load average {load_before} before, {load_after} after"
    )
    rate = {m: events / median(m, "seconds") for m in runs}
    cpu_rate = {m: events / median(m, "cpu_seconds") for m in runs}
    return [
        Row(
            "verify",
            f"verify --all, {label}",
            kind,
            rate["verify"],
            "events/s",
            "reading and decoding the log",
            rate["decode"],
            ">= 50,000 events/s on SQLite" if kind == "sqlite" else "",
            f"{median('verify', 'seconds'):.1f} s against {median('decode', 'seconds'):.1f} s; "
            + how,
            {"runs": runs},
        ),
        Row(
            "verify",
            f"verify --all per CPU second, {label}",
            kind,
            cpu_rate["verify"],
            "events/s",
            "reading and decoding the log",
            cpu_rate["decode"],
            "",
            "events over the child's user + system CPU time: steadier than wall time on a "
            "shared machine",
        ),
        Row(
            "verify",
            f"verify --all peak RSS, {label}",
            kind,
            median("verify", "peak_rss_mib"),
            "MiB",
            "reading and decoding the log",
            median("decode", "peak_rss_mib"),
            "",
            "VmHWM of each child process, read at its end",
        ),
    ]


if __name__ == "__main__":
    # Writes (or finds) the cached SQLite store: `python -m benchmarks.bench_verify [EVENTS]`.
    wanted = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    t0 = time.perf_counter()
    print(cached_sqlite_store(wanted).database_url, f"{time.perf_counter() - t0:.0f} s")
