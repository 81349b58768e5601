"""`caserecord timeline CASE_ID`: a case's history, or its state as of a moment."""

import json
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from caserecord.cli.common import cli_actor, settings
from caserecord.domain.case import Case
from caserecord.domain.errors import CaseNotFoundError
from caserecord.history import case_as_of, case_timeline
from caserecord.store import open_records

FORMATS = ("table", "json")


def timeline(
    case_id: UUID,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            help="Show the case as recorded by this time (ISO 8601 with an offset).",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S%z"],
        ),
    ] = None,
    effective_at: Annotated[
        datetime | None,
        typer.Option(
            "--effective-at",
            help="Show the case as in effect at this time, as known now (or as known at --as-of).",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S%z"],
        ),
    ] = None,
    output: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Every event of a case and its client, or the case "as of" a time.

    An operator tool: it reads as a system actor of the case's own agency, taken from the
    case itself, so it can show any agency's case. Keep it to people who may.
    """
    if output not in FORMATS:
        raise typer.BadParameter(f"choose from {', '.join(FORMATS)}", param_hint="--format")
    records = open_records(settings())
    try:
        actor = cli_actor(case_agency(records, case_id), role="compliance_reviewer")
        if as_of is None and effective_at is None:
            show_events(case_timeline(records, actor, case_id), output)
        else:
            state = case_as_of(
                records, actor, case_id, recorded_at=as_of, effective_at=effective_at
            )
            show_state(state, output)
    finally:
        records.close()


def case_agency(records: Any, case_id: UUID) -> str:
    first = next(iter(records.events.get(case_id, lte=1)), None)
    if not isinstance(first, Case.Opened):
        raise CaseNotFoundError(f"no case {case_id}")
    return str(first.agency_id)


def show_events(events: list[dict[str, Any]], output: str) -> None:
    if output == "json":
        typer.echo(json.dumps(events, default=str, indent=2))
        return
    table = Table("recorded", "effective", "stream", "v", "actor", "summary", "flags")
    for e in events:
        flags = [
            name
            for name, on in (
                ("late", e["late"]),
                ("in error", e["in_error"]),
                ("addendum", e["addendum_to"] is not None),
            )
            if on
        ]
        table.add_row(
            f"{e['recorded_at']:%Y-%m-%d %H:%M}",
            f"{e['effective_at']:%Y-%m-%d %H:%M}",
            e["stream_kind"],
            str(e["version"]),
            f"{e['actor']['id']} ({e['actor']['role']})",
            e["summary"],
            ", ".join(flags),
        )
    console().print(table)


def console() -> Console:
    # Piped into a file or another program, lines stay whole instead of wrapping at 80.
    found = Console()
    return found if found.is_terminal else Console(width=240)


def show_state(state: dict[str, Any], output: str) -> None:
    if output == "json":
        typer.echo(json.dumps(state, default=str, indent=2))
        return
    plan = state["current_plan"]
    table = Table("field", "value", show_header=False)
    rows = [
        ("case", str(state["id"])),
        ("as of", json.dumps(state["as_of"], default=str)),
        ("status", state["status"]),
        ("case manager", state["case_manager_id"]),
        ("plan", f"{plan['title']} v{plan['version_number']} ({plan['status']})" if plan else "-"),
        ("goals", str(len(plan["goals"])) if plan else "0"),
        ("referrals", ", ".join(f"{r['organisation']}: {r['status']}" for r in state["referrals"])),
        ("notes", str(state["note_count"])),
        ("entries in error", str(len(state["entries_in_error"]))),
    ]
    for field, value in rows:
        table.add_row(field, value)
    console().print(table)
