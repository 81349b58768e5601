"""The benchmark table, for the terminal (rich) and for docs/benchmarks.md (markdown)."""

import re
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


def figures_block(result: dict[str, Any]) -> str:
    m = result["machine"]
    return "\n".join(
        [
            START,
            f"Latest {result['mode']} run: {result['when']}, {result['seconds']:.0f} s, on "
            f"{m['cores']} cores ({m['cpu']}, {m['memory_gib']} GiB), {m['platform']}; "
            f"Python {m['python']}, SQLite {m['sqlite']}, PostgreSQL {m['postgresql']}, "
            f"eventsourcing {m['eventsourcing']}; load average (1, 5, 15 min) "
            f"{loads(m.get('load_average'))} at the start and "
            f"{loads(m.get('load_average_end'))} at the end (the machine is shared).",
            "",
            result["markdown"],
            END,
        ]
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
