"""The benchmark table, for the terminal (rich) and for the README (markdown)."""

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


def verdict(row: Row) -> str:
    """'met' or 'MISSED' for targets of the form '>= x' or '<= x' on the ratio."""
    ratio = row.ratio
    if ratio is None or row.target[:2] not in (">=", "<="):
        return ""
    limit = float(row.target[2:].split()[0])
    ok = ratio >= limit if row.target.startswith(">=") else ratio <= limit
    return "met" if ok else "MISSED"


def markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in cells(r)) + " |" for r in rows]
    notes = sorted({f"{r.section}: {r.note}" for r in rows if r.note})
    if notes:
        lines += ["", *[f"- {n}" for n in notes]]
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
