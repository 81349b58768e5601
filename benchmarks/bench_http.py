"""HTTP path: authenticated POST note through uvicorn (1 and 2 workers) against a bare
FastAPI endpoint inserting one row with sqlite3, started the same way in the same run.

The load is a bounded asyncio client on 127.0.0.1 (fixed connections, keep-alive), run in
alternating rounds against the service and the baseline.  The service runs as configured
for production (read models following in each worker).  Peak RSS is summed over the
server's processes at the end of the load.
"""

import itertools
import json
import uuid
from contextlib import ExitStack
from pathlib import Path

from benchmarks.baseline_app import create_table
from benchmarks.bench_commands import ACTOR, NOTE, open_case
from benchmarks.common import WORKDIR, Row, temp_store
from benchmarks.load import LoadResult, Request, run_load
from benchmarks.servers import Server, baseline, service
from caserecord.access import Tables, TokenStore
from caserecord.config import Settings
from caserecord.store import open_records

CONCURRENCY = 8
CASES = 50
BODY = json.dumps({"text": NOTE, "contact_kind": "client", "contact_mode": "phone"}).encode()


def seed(settings: Settings) -> tuple[str, list[str]]:
    records = open_records(settings)
    try:
        token = TokenStore(Tables(records)).create(
            agency_id=ACTOR.agency_id, role="caseworker", name="bench"
        )[1]
        cases = [str(open_case(records)) for _ in range(CASES)]
    finally:
        records.close()
    return token, cases


def note_requests(token: str, cases: list[str]) -> Request:
    cycle = itertools.cycle(cases)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def make(_n: int) -> tuple[str, str, dict[str, str], bytes]:
        return "POST", f"/v1/cases/{next(cycle)}/notes", headers, BODY

    return make


def baseline_requests(_n: int) -> tuple[str, str, dict[str, str], bytes]:
    return "POST", "/notes", {"Content-Type": "application/json"}, BODY


def merged(results: list[LoadResult]) -> LoadResult:
    total = LoadResult(sum(r.seconds for r in results))
    for r in results:
        total.latencies += r.latencies
        total.statuses.update(r.statuses)
        total.failures += r.failures
    return total


def measure(server: Server, make: Request, seconds: float) -> LoadResult:
    return run_load("127.0.0.1", server.port, make, concurrency=CONCURRENCY, seconds=seconds)


def run(kind: str, *, quick: bool) -> list[Row]:
    rounds, seconds = (1, 3.0) if quick else (2, 4.0)
    rows: list[Row] = []
    with temp_store(kind, "http") as settings:
        token, cases = seed(settings)
        subject = note_requests(token, cases)
        for workers in (1, 2):
            db = WORKDIR / f"baseline-{uuid.uuid4().hex[:8]}.db"
            create_table(str(db))
            servers = {
                "service": (service(settings.database_url, workers), subject),
                "baseline": (baseline(db, workers), baseline_requests),
            }
            if workers == 1:  # diagnostic: what the in-process read models cost
                servers["views off"] = (
                    service(settings.database_url, 1, CASERECORD_RUN_PROJECTIONS="false"),
                    subject,
                )
            results: dict[str, list[LoadResult]] = {name: [] for name in servers}
            try:
                with ExitStack() as stack:
                    for server, _ in servers.values():
                        stack.enter_context(server)
                    for server, make in servers.values():
                        measure(server, make, 1.0)  # warm up
                    for _ in range(rounds):
                        for name, (server, make) in servers.items():
                            results[name].append(measure(server, make, seconds))
                    rss = tuple(servers[n][0].peak_rss_mib() for n in ("service", "baseline"))
            finally:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
            ours, bare = merged(results["service"]), merged(results["baseline"])
            rows += rows_for(kind, workers, ours, bare, rss, rounds, seconds)
            if "views off" in results:
                off = merged(results["views off"])
                rows.append(
                    Row(
                        "http",
                        "POST note, 1 worker, read models not run in the API process",
                        kind,
                        off.rps,
                        "req/s",
                        "bare FastAPI + sqlite3 insert",
                        bare.rps,
                        "",
                        "diagnostic (CASERECORD_RUN_PROJECTIONS=false): the write path alone",
                    )
                )
    return rows


def rows_for(
    kind: str,
    workers: int,
    ours: LoadResult,
    bare: LoadResult,
    rss: tuple[float, ...],
    rounds: int,
    seconds: float,
) -> list[Row]:
    label = f"{workers} worker{'s' if workers > 1 else ''}"
    baseline_name = "bare FastAPI + sqlite3 insert"
    errors = sum(n for s, n in ours.statuses.items() if not 200 <= s < 300) + ours.failures
    note = (
        f"{CONCURRENCY} keep-alive connections, {rounds} alternating rounds of {seconds:g}s; "
        f"non-2xx or failed: service {errors}, baseline "
        f"{sum(n for s, n in bare.statuses.items() if not 200 <= s < 300) + bare.failures}"
    )
    extra = {"statuses": dict(ours.statuses), "baseline_statuses": dict(bare.statuses)}
    return [
        Row(
            "http",
            f"POST note, {label}",
            kind,
            ours.rps,
            "req/s",
            baseline_name,
            bare.rps,
            ">= 0.5",
            note,
            extra,
        ),
        Row(
            "http",
            f"POST note p50, {label}",
            kind,
            ours.p50_ms,
            "ms",
            baseline_name,
            bare.p50_ms,
            "",
            note,
        ),
        Row(
            "http",
            f"POST note p99, {label}",
            kind,
            ours.p99_ms,
            "ms",
            baseline_name,
            bare.p99_ms,
            "",
            note,
        ),
        Row(
            "memory",
            f"service peak RSS under POST load, {label}",
            kind,
            rss[0],
            "MiB",
            baseline_name,
            rss[1],
            "bounded",
            "summed over the server's processes",
        ),
    ]
