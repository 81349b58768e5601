"""The benchmark table, for the terminal (rich) and for docs/benchmarks.md (markdown)."""

import re
from dataclasses import fields
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.common import Row

HEADERS = ["section", "figure", "store", "value", "baseline (same run)", "ratio", "target"]


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def cells(row: Row) -> list[str]:
    baseline = f"{fmt(row.baseline, row.unit)} ({row.baseline_name})" if row.baseline_name else ""
    ratio = f"{row.ratio:.2f}" if row.ratio is not None else "-"
    return [
        row.section,
        row.name,
        row.store,
        fmt(row.value, row.unit),
        baseline,
        ratio,
        row.target + (f" ({verdict(row)})" if verdict(row) else ""),
    ]


TARGET = re.compile(r"(>=|<=)\s*(\d[\d,]*(?:\.\d+)?)(?:\s+(\S+))?")


def verdict(row: Row) -> str:
    """'met' or 'MISSED': the ratio compared with a target like '>= 0.8'; the value when the
    number is followed by the row's own unit ('<= 10 ms' on a row in ms). Text after the
    number that is not the row's unit ('>= 0.8 x', '(SQLite)') leaves it on the ratio."""
    found = TARGET.search(row.target)
    if found is None:
        return ""
    sign, number, unit = found.groups()
    limit = float(number.replace(",", ""))
    measured = row.value if unit is not None and unit == row.unit else row.ratio
    if measured is None:
        return ""
    ok = measured >= limit if sign == ">=" else measured <= limit
    return "met" if ok else "MISSED"


def markdown_table(rows: list[Row]) -> str:
    headers = [*HEADERS, "how"]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for r in rows:
        lines.append("| " + " | ".join(c.replace("|", "/") for c in [*cells(r), r.note]) + " |")
    return "\n".join(lines)


def print_table(rows: list[Row], result: dict[str, Any]) -> None:
    console = Console(width=max(Console().width, 160))
    machine = result["machine"]
    table = Table(
        title=(
            f"caserecord benchmarks ({result['mode']}, {result['seconds']} s) on "
            f"{machine['cores']} cores {machine['cpu']}, Python {machine['python']}, "
            f"SQLite {machine['sqlite']}, PostgreSQL {machine['postgresql']}"
        )
    )
    for header in HEADERS:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*cells(row))
    console.print(table)
    for note in sorted({f"{r.section}: {r.note}" for r in rows if r.note}):
        console.print(f"  {note}")


START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"


def sections_of(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each section and store of ``result`` ("http/sqlite") -> the run it comes from (when,
    mode, seconds, processor, load average before and after it).  A result written before sections
    carried their own run is one run."""
    if "sections" in result:
        found: dict[str, dict[str, Any]] = result["sections"]
        return found
    m = result.get("machine", {})
    run = {
        "when": result.get("when", "?"),
        "mode": result.get("mode", "?"),
        "seconds": None,
        "load_average": m.get("load_average"),
        "load_average_end": m.get("load_average_end"),
    }
    return {row.get("source", ""): run for row in result.get("rows", [])}


def row_from(data: dict[str, Any]) -> Row:
    return Row(**{f.name: data[f.name] for f in fields(Row) if f.name in data})


def merge_results(base: dict[str, Any] | None, result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with the rows of the sections and stores it did not run kept from ``base``
    (an earlier result, e.g. the last full run's), in ``base``'s order; each keeps the run
    it comes from in ``sections``, so the table says which figures come from which run.  A
    section that ran replaces all of its rows in ``base``; one that failed leaves them.
    Rows of ``base`` that do not name their section ("source") are left out."""
    if base is None:
        return result
    ran = sections_of(result)
    kept = {source: run for source, run in sections_of(base).items() if source not in ran}
    rows: list[dict[str, Any]] = []
    placed: set[str] = set()
    for row in base.get("rows", []):
        source = row.get("source")
        if source is None:  # a row of a result written before rows named their section
            continue
        if source in ran and source not in placed:
            rows += [r for r in result["rows"] if r.get("source") == source]
            placed.add(source)
        elif source in kept:
            rows.append(row)
    rows += [r for r in result["rows"] if r.get("source") not in placed]
    return result | {
        "rows": rows,
        "sections": kept | ran,
        "markdown": markdown_table([row_from(r) for r in rows]),
    }


def figures_block(result: dict[str, Any]) -> str:
    m = result["machine"]
    machine = (
        f"{m['cores']} cores ({m['cpu']}, {m['memory_gib']} GiB), {m['platform']}; "
        f"Python {m['python']}, SQLite {m['sqlite']}, PostgreSQL {m['postgresql']}, "
        f"eventsourcing {m['eventsourcing']}"
    )
    runs = runs_of(result)
    if all(run["when"] == result["when"] for sections in runs for _, run in sections):
        header = [
            f"Latest {result['mode']} run: {result['when']}, {result['seconds']:.0f} s, on "
            f"{machine}; load average (1, 5, 15 min) {loads(m.get('load_average'))} at the "
            f"start and {loads(m.get('load_average_end'))} at the end (the machine is shared)."
        ]
    else:
        header = [
            f"Figures from {len(runs)} run{'s' if len(runs) > 1 else ''}, the latest on "
            f"{machine}. Each section's rows come "
            "from the run named here, with the load average (1, 5, 15 min) at the start and "
            "the end of its sections (the machine is shared):",
            "",
            *(run_line(run) for run in runs),
        ]
    return "\n".join([START, *header, "", result["markdown"], END])


def runs_of(result: dict[str, Any]) -> list[list[tuple[str, dict[str, Any]]]]:
    """The runs the rows of ``result`` come from, oldest first: each its sections and
    stores ("http/sqlite") in the table's order, with what ``sections_of`` knows of them."""
    sections = sections_of(result)
    order = dict.fromkeys(str(row.get("source", "")) for row in result.get("rows", []))
    grouped: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
    for source in [*order, *(s for s in sections if s not in order)]:
        if source in sections:
            run = sections[source]
            grouped.setdefault((str(run["when"]), str(run["mode"])), []).append((source, run))
    return [grouped[key] for key in sorted(grouped)]


def run_line(sections: list[tuple[str, dict[str, Any]]]) -> str:
    """'- full run 2026-12-03T17:19:04+00:00, 120 s, on AMD EPYC: http (sqlite, postgres),
    ...; load average 6.2/8.3/9.3 at the start, 4.2/4.4/6.5 at the end.'"""
    first, last = sections[0][1], sections[-1][1]
    stores: dict[str, list[str]] = {}
    for source in (source for source, _ in sections):
        name, _, store = source.partition("/")
        stores.setdefault(name, []).append(store)
    names = ", ".join(f"{name} ({', '.join(s)})" for name, s in stores.items())
    seconds = sum(run.get("seconds") or 0 for _, run in sections)
    took = f", {seconds:.0f} s" if seconds else ""
    took += f", on {first['cpu']}" if first.get("cpu") else ""
    return (
        f"- {first['mode']} run {first['when']}{took}: {names}; load average "
        f"{loads(first.get('load_average'))} at the start, "
        f"{loads(last.get('load_average_end')) if last.get('load_average_end') else 'not recorded'}"
        " at the end."
    )


def loads(values: list[float] | None) -> str:
    return "/".join(f"{x:.1f}" for x in values) if values else "?"


FIGURES_HEADING = "## Latest figures"


def update_figures(doc: Path, result: dict[str, Any]) -> None:
    """Replace the generated table between the markers in ``doc`` (docs/benchmarks.md),
    or add it under ``## Latest figures`` at the end; text around the markers is left as
    written."""
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    block = figures_block(result)
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + f"\n\n{FIGURES_HEADING}\n\n{block}\n"
    doc.write_text(text)
