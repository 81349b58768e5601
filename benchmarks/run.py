"""`make bench`: every benchmark in one run, as ratios against baselines from the same run.

    .venv/bin/python benchmarks/run.py [--quick] [--only SECTION ...] [--stores sqlite postgres]

Prints a table and writes benchmarks/results/latest.json (latest-quick.json with --quick):
the sections and stores run replace their own rows in it, the others' rows stay, each
section with the run it comes from.  --docs also puts the table in docs/benchmarks.md,
between its generated-table markers: latest.json's rows with this run's in place of their
sections' (--output FILE writes only this run's rows to FILE).
--quick uses small sizes and runs the HTTP, read-path and read-side sections on SQLite only
(name --stores to choose).
"""

import argparse
import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `benchmarks` importable as a package
    sys.path.insert(0, str(ROOT))

from benchmarks.common import Row, machine_info, postgres_problem  # noqa: E402
from benchmarks.report import (  # noqa: E402
    markdown_table,
    merge_results,
    print_table,
    update_figures,
)

RESULTS = ROOT / "benchmarks" / "results"
FIGURES_DOC = ROOT / "docs" / "benchmarks.md"

# section name -> (module under benchmarks/, stores in full mode, stores in --quick mode)
BOTH = ("sqlite", "postgres")
SECTIONS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "commands": ("bench_commands", BOTH, BOTH),
    "http": ("bench_http", BOTH, ("sqlite",)),
    "reads": ("bench_reads", BOTH, ("sqlite",)),
    "replay": ("bench_replay", BOTH, BOTH),
    "history": ("bench_history", BOTH, ("sqlite",)),
    # bench_read_side.py (its own module) on PostgreSQL too: run it alone with --stores.
    "read-side": ("bench_read_side", ("sqlite",), ("sqlite",)),
    "verify": ("bench_verify", BOTH, ("sqlite",)),
    "statements": ("count_statements", ("postgres",), ("postgres",)),
}


def section_runner(module: str) -> Callable[..., list[Row]]:
    run: Callable[..., list[Row]] = importlib.import_module(f"benchmarks.{module}").run
    return run


def previous(path: Path) -> dict[str, Any] | None:
    """The result a run's rows are merged into, read before the run writes its own."""
    return dict(json.loads(path.read_text())) if path.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, about 1-2 minutes")
    parser.add_argument("--only", nargs="*", choices=sorted(SECTIONS), help="sections to run")
    parser.add_argument("--stores", nargs="*", choices=["sqlite", "postgres"])
    parser.add_argument("--output", type=Path, help="where to write the JSON")
    parser.add_argument("--docs", action="store_true", help="put the table in docs/benchmarks.md")
    parser.add_argument(
        "--docs-from",
        type=Path,
        metavar="JSON",
        help="only put an earlier run's table in docs/benchmarks.md",
    )
    args = parser.parse_args(argv)
    if args.docs_from:
        update_figures(FIGURES_DOC, json.loads(args.docs_from.read_text()))
        return 0

    stores = list(args.stores or ["sqlite", "postgres"])
    problem = postgres_problem()
    if "postgres" in stores and problem is not None:
        print(f"PostgreSQL skipped: {problem}", file=sys.stderr)
        stores.remove("postgres")

    rows: list[Row] = []
    sources: list[str] = []  # each row's section and store, "http/sqlite"
    sections: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    timings: dict[str, float] = {}
    started = time.perf_counter()
    machine = machine_info()  # the load average before the run
    for name in args.only or list(SECTIONS):
        module, full_kinds, quick_kinds = SECTIONS[name]
        kinds = quick_kinds if args.quick and not args.stores else full_kinds
        for kind in [k for k in kinds if k in stores]:
            source = f"{name}/{kind}"
            t0, load = time.perf_counter(), os.getloadavg()
            print(f"-- {name} on {kind} ...", file=sys.stderr, flush=True)
            try:
                found = section_runner(module)(kind, quick=args.quick)
            except Exception as e:  # one broken section must not lose the others' figures
                traceback.print_exc()
                failures.append(f"{source}: {type(e).__name__}: {e}")
                found = None
            timings[source] = round(time.perf_counter() - t0, 1)
            if found is not None:  # a failed section leaves its earlier rows in the table
                rows.extend(found)
                sources.extend(source for _ in found)
                sections[source] = {
                    "mode": "quick" if args.quick else "full",
                    "cpu": machine["cpu"],
                    "seconds": timings[source],
                    "load_average": load,
                    "load_average_end": os.getloadavg(),
                }

    when = datetime.now(UTC).isoformat(timespec="seconds")
    result: dict[str, Any] = {
        "when": when,
        "mode": "quick" if args.quick else "full",
        "seconds": round(time.perf_counter() - started, 1),
        "section_seconds": timings,
        "machine": machine | {"load_average_end": os.getloadavg()},
        "failures": failures,
        "rows": [row.as_dict() | {"source": s} for row, s in zip(rows, sources, strict=True)],
        "sections": {source: {"when": when} | run for source, run in sections.items()},
        "markdown": "",
    }
    try:
        result["markdown"] = markdown_table(rows)
    except Exception as e:  # never lose the measured rows to a formatting problem
        failures.append(f"table: {type(e).__name__}: {e}")
    latest = RESULTS / ("latest-quick.json" if args.quick else "latest.json")
    output = args.output or latest
    table = merge_results(previous(RESULTS / "latest.json"), result)  # before it is written
    written = merge_results(previous(latest), result) if output == latest else result
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(written, indent=2, default=str) + "\n")
    print_table(rows, result)
    if args.docs:
        update_figures(FIGURES_DOC, table)
    print(f"wrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
