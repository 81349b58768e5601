"""HTTP path: authenticated POST note through uvicorn (1 and 2 workers) against a bare
FastAPI endpoint inserting one row with the same store's driver (sqlite3 on SQLite, psycopg
on PostgreSQL), started the same way in the same run.

The load is a bounded asyncio client on 127.0.0.1 (fixed connections, keep-alive), run in
alternating rounds against:
- the service, its connections spread over distinct cases;
- the same service, every connection writing to one case without If-Match (none of these
  may fail: a command that names no version is re-run when it loses the race);
- the baseline app;
- with 1 worker, the deployment that runs the read models in a process of their own: a
  service with CASERECORD_RUN_PROJECTIONS=false and `caserecord projections run`, on a store
  of its own.

The services run as configured for production (read models following in each worker), with
a token cache of 1 s (CASERECORD_TOKEN_CACHE_SECONDS, off by default).
--quick runs 1 worker only, in shorter rounds.
Peak RSS (VmHWM) is summed over the server's processes at the end of the load and compared
with the same after the warm-up.  CPU time per request (user + system, from /proc) is
reported beside the rates: on a shared machine it moves far less than requests per second.
"""

import itertools
import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.baseline_app import create_postgres_table, create_table
from benchmarks.bench_commands import ACTOR, NOTE, open_case
from benchmarks.common import PG_DSN, WORKDIR, Row, temp_store
from benchmarks.load import LoadResult, Request, run_load
from benchmarks.servers import Server, baseline, postgres_baseline, runner, service, started
from caserecord.access import Tables, TokenStore
from caserecord.config import Settings
from caserecord.store import open_records

CONCURRENCY = 8
CASES = 50
BODY = json.dumps({"text": NOTE, "contact_kind": "client", "contact_mode": "phone"}).encode()
# The service as a deployment that wants the write path fast would run it.
SERVICE_ENV = {"CASERECORD_TOKEN_CACHE_SECONDS": "1"}
BASELINE_NAME = {
    "sqlite": "bare FastAPI + sqlite3 insert",
    "postgres": "bare FastAPI + psycopg insert",
}


def seed(settings: Settings) -> tuple[str, list[str]]:
    """A caseworker's token, and CASES + 1 cases: the last one takes the one-case load."""
    records = open_records(settings)
    try:
        token = TokenStore(Tables(records)).create(
            agency_id=ACTOR.agency_id, role="caseworker", name=ACTOR.id
        )[1]
        cases = [str(open_case(records)) for _ in range(CASES + 1)]
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


def not_2xx(result: LoadResult) -> int:
    """Responses other than 2xx, and requests that got no response at all."""
    return sum(n for s, n in result.statuses.items() if not 200 <= s < 300) + result.failures


def measure(server: Server, make: Request, seconds: float) -> LoadResult:
    return run_load("127.0.0.1", server.port, make, concurrency=CONCURRENCY, seconds=seconds)


@contextmanager
def baseline_server(kind: str, workers: int) -> Iterator[Server]:
    """The bare app for this store (not started yet), on a table of its own."""
    if kind == "postgres":
        with temp_store("postgres", "base", init=False) as base:
            schema = base.database_url.partition("?schema=")[2]
            create_postgres_table(PG_DSN, schema)
            yield postgres_baseline(PG_DSN, schema, workers)
        return
    db = WORKDIR / f"baseline-{uuid.uuid4().hex[:8]}.db"
    create_table(str(db))
    try:
        yield baseline(db, workers)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)


@dataclass
class Load:
    """One load of the alternating rounds: which server, which requests; and what it got."""

    server: Server
    make: Request
    results: list[LoadResult] = field(default_factory=list)
    cpu: float = 0.0  # CPU seconds the server (and ``also``) used during the measured rounds
    also: Server | None = None  # a process that does part of the work (the views' runner)
    also_cpu: float = 0.0

    def measure(self, seconds: float) -> None:
        before = self.server.cpu_seconds(), self.also.cpu_seconds() if self.also else 0.0
        self.results.append(measure(self.server, self.make, seconds))
        self.cpu += self.server.cpu_seconds() - before[0]
        if self.also is not None:
            self.also_cpu += self.also.cpu_seconds() - before[1]

    @property
    def merged(self) -> LoadResult:
        return merged(self.results)

    def cpu_ms(self, seconds: float | None = None) -> float:
        """CPU milliseconds per successful request."""
        ok = self.merged.ok
        return (self.cpu if seconds is None else seconds) / ok * 1e3 if ok else 0.0


def post_note_cpu(kind: str, seconds: float, warmup: float) -> Load:
    """The service alone under the distinct-cases load (1 worker): its CPU per POST note is
    what the sealing section (bench_commands.py) states sealing's share of."""
    with temp_store(kind, "http_cpu") as settings, ExitStack() as stack:
        token, cases = seed(settings)
        ours = service(settings.database_url, 1, **SERVICE_ENV)
        started(stack, ours)
        load = Load(ours, note_requests(token, cases[:-1]))
        measure(ours, load.make, warmup)
        load.measure(seconds)
    return load


def run(kind: str, *, quick: bool) -> list[Row]:
    # --quick: 1 worker only, shorter rounds.
    rounds, seconds, warmup = (1, 2.0, 0.5) if quick else (2, 4.0, 1.0)
    rows: list[Row] = []
    with ExitStack() as stores:
        settings = stores.enter_context(temp_store(kind, "http"))
        token, cases = seed(settings)
        distinct, one = note_requests(token, cases[:-1]), note_requests(token, cases[-1:])
        # The deployment that runs the views in a process of their own, on a store of its own
        # so that the first service's runner does not follow its writes.
        apart = stores.enter_context(temp_store(kind, "http_apart"))
        apart_token, apart_cases = seed(apart)
        for workers in (1,) if quick else (1, 2):
            with ExitStack() as stack:
                ours = service(settings.database_url, workers, **SERVICE_ENV)
                bare = stack.enter_context(baseline_server(kind, workers))
                loads = {
                    "distinct": Load(ours, distinct),
                    "one case": Load(ours, one),
                    "baseline": Load(bare, baseline_requests),
                }
                if workers == 1:
                    views = runner(apart.database_url)
                    off = service(
                        apart.database_url, 1, CASERECORD_RUN_PROJECTIONS="false", **SERVICE_ENV
                    )
                    apart_notes = note_requests(apart_token, apart_cases[:-1])
                    loads["views apart"] = Load(off, apart_notes, also=views)
                    started(stack, ours, bare, off, views)
                else:
                    started(stack, ours, bare)
                for load in loads.values():
                    measure(load.server, load.make, warmup)
                warm_rss = (ours.peak_rss_mib(), bare.peak_rss_mib())
                for _ in range(rounds):
                    for load in loads.values():
                        load.measure(seconds)
                rss = (ours.peak_rss_mib(), bare.peak_rss_mib())
            rows += rows_for(kind, workers, loads, warm_rss, rss, rounds, seconds)
    return rows


def rows_for(
    kind: str,
    workers: int,
    loads: dict[str, Load],
    warm_rss: tuple[float, float],
    rss: tuple[float, float],
    rounds: int,
    seconds: float,
) -> list[Row]:
    label = f"{workers} worker{'s' if workers > 1 else ''}"
    ours, one, bare = (loads[n].merged for n in ("distinct", "one case", "baseline"))
    baseline_name = BASELINE_NAME[kind]
    how = f"{CONCURRENCY} keep-alive connections, {rounds} alternating rounds of {seconds:g}s"
    note = f"{how}; non-2xx or failed: service {not_2xx(ours)}, baseline {not_2xx(bare)}"
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(one.statuses.items()))
    one_note = f"{how}, all on one case, no If-Match; statuses {statuses or 'none'}"
    rows = [
        Row(
            "http",
            f"POST note, {label}, distinct cases",
            kind,
            ours.rps,
            "req/s",
            baseline_name,
            bare.rps,
            ">= 0.5",
            note,
            {"statuses": dict(ours.statuses), "baseline_statuses": dict(bare.statuses)},
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
            "http",
            f"server CPU per POST note, {label}",
            kind,
            loads["distinct"].cpu_ms(),
            "ms",
            baseline_name,
            loads["baseline"].cpu_ms(),
            "",
            "user + system CPU of the server's processes over the rounds / 2xx responses; "
            "steadier than req/s on a busy machine",
        ),
        Row(
            "http",
            f"POST note, {label}, one case",
            kind,
            one.rps,
            "req/s",
            "the same on distinct cases",
            ours.rps,
            ">= 0.8",
            one_note,
            {"statuses": dict(one.statuses), "failures": one.failures},
        ),
        Row(
            "http",
            f"POST note, {label}, one case: responses other than 2xx",
            kind,
            float(not_2xx(one)),
            "responses",
            "requests answered",
            float(sum(one.statuses.values())),
            "<= 0 responses",
            one_note,
        ),
        Row(
            "memory",
            f"service peak RSS under POST load, {label}",
            kind,
            rss[0],
            "MiB",
            "the same after the warm-up",
            warm_rss[0],
            "<= 1.2",
            f"VmHWM summed over the server's processes; {baseline_name}: {rss[1]:.1f} MiB",
        ),
    ]
    if "views apart" in loads:
        apart = loads["views apart"]
        rows.append(
            Row(
                "http",
                f"POST note, {label}, read models in a process of their own",
                kind,
                apart.merged.rps,
                "req/s",
                "the same with the read models in the API process",
                ours.rps,
                "",
                f"{how}; CASERECORD_RUN_PROJECTIONS=false and `caserecord projections run`; "
                f"CPU per request: API {apart.cpu_ms():.2f} ms + runner "
                f"{apart.cpu_ms(apart.also_cpu):.2f} ms, against "
                f"{loads['distinct'].cpu_ms():.2f} ms in one process; "
                f"non-2xx or failed: {not_2xx(apart.merged)}",
            )
        )
    return rows
