"""Read path, rebuild and catch-up on a small and a large store, in the same run.

* Two stores: 10,000 events and a large one (1,000,000 on SQLite in full mode; smaller on
  PostgreSQL and in --quick mode, which the row names say).  The bulk is other agencies'
  cases (client + case + plan + notes), written through the library's event store in
  batches (one transaction each); then one measured case of the bench agency, written
  through CaseRecords commands, is identical in shape in both stores.
* Rebuild: `caserecord projections rebuild` (all views) as a child process: events/s and
  peak RSS (VmHWM, reported by the child as it exits), large store against small store.
* Read path: GET current plan and GET timeline of the measured case through the service
  (1 worker per store, both running, alternating rounds), p50/p99, large store against small
  store (target: ratio <= 1.2).
* Catch-up: with other clients writing notes, POST a note then GET the caseload (which waits
  for the views to reach that write): p50/p99 against the same GET with no writes going on.
"""

import os
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import uuid4

import httpx

from benchmarks.bench_commands import ACTOR, NOTE
from benchmarks.bench_http import note_requests
from benchmarks.bench_read_side import grow, new_case
from benchmarks.common import Row, percentile, temp_store
from benchmarks.load import run_load
from benchmarks.servers import ROOT, Server, service
from caserecord.access import Tables, TokenStore
from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.case import Case
from caserecord.domain.client import Client
from caserecord.domain.recording import Actor
from caserecord.store import open_records

BULK_ACTOR = Actor("bulk-worker", "caseworker", "agency-bulk")
EVENTS_PER_CASE = 100  # client registered, case opened, plan drafted and activated, 96 notes
MEASURED_CASE_EVENTS = 60


@dataclass
class StoreFigures:
    events: int
    rebuild_seconds: float
    rebuild_rss_mib: float
    plan_ms: list[float]
    timeline_ms: list[float]
    service_rss_mib: float
    lag_ms: list[float] | None = None
    idle_ms: list[float] | None = None


def bulk_fill(app: CaseRecords, events: int, batch_cases: int) -> None:
    """Write about ``events`` events of other agencies' cases, ``batch_cases`` per save."""
    written = app.recorder.max_notification_id() or 0
    while written < events:
        pending: list[Any] = []
        with app._recording(BULK_ACTOR, {}):
            for _ in range(batch_cases):
                pending += one_bulk_case()
        app.events.put(pending)
        written += len(pending)


def one_bulk_case() -> list[Any]:
    client = Client(
        agency_id=BULK_ACTOR.agency_id,
        given_name="Bulk",
        family_name=uuid4().hex[:10],
        date_of_birth=date(1970, 1, 1),
        client_number="",
        preferred_language="",
        phone="",
        email="",
        address="",
    )
    case = Case(
        client_id=client.id,
        agency_id=BULK_ACTOR.agency_id,
        specialty="geriatric",
        referral_source="hospital",
        presenting_needs=["mobility"],
        interview_summary="Bulk case.",
        case_manager_id=BULK_ACTOR.id,
    )
    plan_id = str(uuid4())
    case.draft_plan(plan_id, "Care plan", [], date(2027, 1, 1))
    case.activate_plan(plan_id)
    for _ in range(EVENTS_PER_CASE - 4):
        case.record_note(str(uuid4()), NOTE, "client", "phone", [])
    return [*client.collect_events(), *case.collect_events()]


# `caserecord projections rebuild`, reporting its own peak RSS (VmHWM) as it exits: wait4's
# ru_maxrss would also count the peak of this process, which the kernel keeps across the
# child's exec, and this process has just written the large store.
REBUILD = """
import atexit, sys
from caserecord.cli import main
def peak():
    status = open("/proc/self/status").read()
    print("peak_rss_kib", status.split("VmHWM:")[1].split()[0], file=sys.stderr)
atexit.register(peak)
sys.argv = ["caserecord", "projections", "rebuild"]
sys.exit(main())
"""


def rebuild(settings: Settings) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of `caserecord projections rebuild` in a child process."""
    env = os.environ | {"CASERECORD_DATABASE_URL": settings.database_url}
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", REBUILD],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"rebuild failed: {child.stderr[-500:]}")
    peak = child.stderr.rsplit("peak_rss_kib", 1)[1].split()[0]
    return seconds, int(peak) / 1024


def timed_gets(http: httpx.Client, path: str, count: int) -> list[float]:
    for _ in range(5):
        http.get(path).raise_for_status()
    out = []
    for _ in range(count):
        t0 = time.perf_counter()
        http.get(path).raise_for_status()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def read_your_writes(
    server: Server, http: httpx.Client, token: str, case_path: str, others: list[str], count: int
) -> tuple[list[float], list[float]]:
    """GET caseload right after a POST note, with other writers busy; and idle GETs."""
    idle = timed_gets(http, "/v1/caseloads?limit=5", count)
    writers = threading.Thread(
        target=lambda: run_load(
            "127.0.0.1",
            server.port,
            note_requests(token, others),
            concurrency=2,
            seconds=max(2.0, count * 0.05),
        )
    )
    writers.start()
    lag: list[float] = []
    body = {"text": NOTE, "contact_kind": "client", "contact_mode": "phone"}
    while writers.is_alive() and len(lag) < count:
        http.post(f"{case_path}/notes", json=body).raise_for_status()
        t0 = time.perf_counter()
        http.get("/v1/caseloads?limit=5").raise_for_status()
        lag.append((time.perf_counter() - t0) * 1000)
    writers.join()
    return lag, idle


@dataclass
class Prepared:
    settings: Settings
    token: str
    case_path: str
    others: list[str]
    figures: StoreFigures


def prepare(stack: ExitStack, kind: str, events: int) -> Prepared:
    """A store of about ``events`` events with its views rebuilt (measured)."""
    settings = stack.enter_context(temp_store(kind, f"reads{events}"))
    app = open_records(settings)
    try:
        batch = 100 if kind == "sqlite" else 10  # PostgreSQL: smaller transactions
        bulk_fill(app, events - MEASURED_CASE_EVENTS - 10, batch)
        case_id, plan_id, goal_id = new_case(app)
        grow(app, case_id, plan_id, goal_id, MEASURED_CASE_EVENTS)
        others = [str(new_case(app)[0]) for _ in range(4)]  # for background writers
        total = app.recorder.max_notification_id() or 0
        token = TokenStore(Tables(app)).create(
            agency_id=ACTOR.agency_id, role="caseworker", name=ACTOR.id
        )[1]
    finally:
        app.close()
    seconds, rebuild_rss = rebuild(settings)
    figures = StoreFigures(total, seconds, rebuild_rss, [], [], 0.0)
    return Prepared(settings, token, f"/v1/cases/{case_id}", others, figures)


def measure_reads(stores: list[Prepared], samples: int, rounds: int = 4) -> None:
    """GETs on every store's service, in alternating rounds (drift hits them alike)."""
    with ExitStack() as stack:
        servers = [stack.enter_context(service(p.settings.database_url, 1)) for p in stores]
        clients = [
            stack.enter_context(
                httpx.Client(
                    base_url=f"http://127.0.0.1:{server.port}",
                    headers={"Authorization": f"Bearer {p.token}"},
                    timeout=60,
                )
            )
            for server, p in zip(servers, stores, strict=True)
        ]
        for _ in range(rounds):
            for p, http in zip(stores, clients, strict=True):
                p.figures.plan_ms += timed_gets(http, f"{p.case_path}/plan", samples // rounds)
                p.figures.timeline_ms += timed_gets(
                    http, f"{p.case_path}/timeline", samples // rounds
                )
        large, server, http = stores[-1], servers[-1], clients[-1]
        large.figures.lag_ms, large.figures.idle_ms = read_your_writes(
            server, http, large.token, large.case_path, large.others, samples
        )
        for p, server in zip(stores, servers, strict=True):
            p.figures.service_rss_mib = server.peak_rss_mib()


def run(kind: str, *, quick: bool) -> list[Row]:
    small_events = 10_000
    full_size = 1_000_000 if kind == "sqlite" else 100_000  # PostgreSQL writes ~6k events/s here
    large_events = 50_000 if quick else full_size
    samples = 60 if quick else 200
    with ExitStack() as stack:
        small = prepare(stack, kind, small_events)
        large = prepare(stack, kind, large_events)
        measure_reads([small, large], samples)
    return rows_for(kind, small.figures, large.figures)


def rows_for(kind: str, small: StoreFigures, large: StoreFigures) -> list[Row]:
    big = f"{large.events:,} events"
    base = f"same, {small.events:,} events"
    rows = []
    for what, ours, theirs in (
        ("GET current plan", large.plan_ms, small.plan_ms),
        ("GET timeline", large.timeline_ms, small.timeline_ms),
    ):
        for p in (50, 99):
            rows.append(
                Row(
                    "read path",
                    f"{what} p{p}, {big}",
                    kind,
                    percentile(ours, p),
                    "ms",
                    base,
                    percentile(theirs, p),
                    "<= 1.2",
                    f"{len(ours)} sequential GETs of one {MEASURED_CASE_EVENTS}-event case, "
                    "1 worker per store, both served at once, alternating rounds",
                )
            )
    rows.append(
        Row(
            "projections",
            f"rebuild all views (CLI), {big}",
            kind,
            large.events / large.rebuild_seconds,
            "events/s",
            base,
            small.events / small.rebuild_seconds,
            "",
            f"{large.rebuild_seconds:.0f} s wall, process start included",
        )
    )
    rows.append(
        Row(
            "memory",
            f"rebuild peak RSS, {big}",
            kind,
            large.rebuild_rss_mib,
            "MiB",
            base,
            small.rebuild_rss_mib,
            "<= 1.5",
            "peak RSS of the rebuild process (its VmHWM as it exits)",
        )
    )
    rows.append(
        Row(
            "memory",
            f"service peak RSS after reads and writes, {big}",
            kind,
            large.service_rss_mib,
            "MiB",
            base,
            small.service_rss_mib,
            "<= 1.5",
            "1 worker; the large store also served the catch-up load",
        )
    )
    if large.lag_ms and large.idle_ms:
        for p in (50, 99):
            rows.append(
                Row(
                    "projections",
                    f"catch-up: GET caseload right after own POST, others writing, p{p}",
                    kind,
                    percentile(large.lag_ms, p),
                    "ms",
                    "same GET, no writes",
                    percentile(large.idle_ms, p),
                    "",
                    f"{big}; 2 other connections writing notes; the GET waits for the views",
                )
            )
    return rows
