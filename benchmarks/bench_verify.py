"""`caserecord verify --all` against reading and decoding the log, in the same run.

A store of cases of 1,000 notes each (snapshots every 100 events, as the service takes
them) is written through the application; then, each in a fresh process so that its peak
RSS is its own:
- verify --all (``caserecord.audit.verify_all``): every stream's chain and MACs, the feed
  index, the snapshots, tokens, the access log and the Merkle tree, from the stored rows;
- the baseline: every event of the log read in pages and decoded into a domain event
  (``select_notifications`` + ``mapper.to_domain_event``), what any full pass over the log
  costs.
The ratio is events/s of verify over events/s of the baseline (above 1: faster), and peak
RSS of verify over that of the baseline.
"""

import json
import os
import subprocess
import sys
import time
from typing import Any

from benchmarks.bench_commands import open_case
from benchmarks.bench_replay import grow_case
from benchmarks.common import ROOT, Row, temp_store
from caserecord.config import Settings
from caserecord.store import open_records

PER_CASE = 1_000
CHILD = """
import json, resource, sys, time
from caserecord.config import load_settings
from caserecord.store import open_records
records = open_records(load_settings())
started = time.perf_counter()
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
seconds = time.perf_counter() - started
records.close()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"events": events, "seconds": seconds, "peak_rss_mib": rss, "ok": ok}))
"""


def measure(settings: Settings, mode: str) -> dict[str, Any]:
    env = os.environ | {
        "CASERECORD_DATABASE_URL": settings.database_url,
        "CASERECORD_INTEGRITY_KEY_FILE": str(settings.integrity_key_path()),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode], env=env, capture_output=True, text=True, check=True
    )
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def run(kind: str, *, quick: bool) -> list[Row]:
    size = 20_000 if quick else int(os.environ.get("CASERECORD_BENCH_VERIFY_EVENTS", 1_000_000))
    with temp_store(kind, "verify") as settings:
        app = open_records(settings)
        t0 = time.perf_counter()
        try:
            for _ in range(size // PER_CASE):
                grow_case(app, open_case(app), PER_CASE, snapshots=True)
        finally:
            app.close()
        written = time.perf_counter() - t0
        decode = measure(settings, "decode")
        verify = measure(settings, "verify")
    assert verify["ok"], "verify --all found problems in an untouched store"
    events = verify["events"]
    label = f"{events:,} events in {events // PER_CASE:,} cases"
    return [
        Row(
            "verify",
            f"verify --all, {label}",
            kind,
            events / verify["seconds"],
            "events/s",
            "reading and decoding the log",
            events / decode["seconds"],
            ">= 50,000 events/s on SQLite",
            f"{verify['seconds']:.1f} s against {decode['seconds']:.1f} s; store written in "
            f"{written:.0f} s",
            {"verify": verify, "decode": decode},
        ),
        Row(
            "verify",
            f"verify --all peak RSS, {label}",
            kind,
            verify["peak_rss_mib"],
            "MiB",
            "reading and decoding the log",
            decode["peak_rss_mib"],
            "",
            "each in its own process",
        ),
    ]
