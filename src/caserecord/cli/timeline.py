"""`caserecord timeline CASE_ID`: a case's history, or its state as of a moment."""

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, NoReturn
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from caserecord.cli.common import cli_actor, settings
from caserecord.domain.case import Case
from caserecord.domain.errors import CaseNotFoundError
from caserecord.history import Hole, Timeline, case_as_of, checked_timeline
from caserecord.persistence.chain import MissingEventsError
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
            found = read_timeline(records, actor, case_id)
            show_events(found.entries, output)
            if found.holes:
                damaged(
                    f"missing from the stored record: {named(found.holes)}",
                    [h.stream_id for h in found.holes],
                )
        else:
            state = case_as_of(
                records, actor, case_id, recorded_at=as_of, effective_at=effective_at
            )
            show_state(state, output)
    finally:
        records.close()


def read_timeline(records: Any, actor: Any, case_id: UUID) -> Timeline:
    """The timeline, or, when the case's replay meets a hole (the case as it stands decides
    what may be read, so nothing is listed), the versions that are gone."""
    try:
        return checked_timeline(records, actor, case_id)
    except MissingEventsError as e:
        kind = "case" if e.stream_id == case_id else "client"
        gone = ", ".join(f"{kind} v{v}" for v in e.versions[:5]) + (
            " ..." if len(e.versions) > 5 else ""
        )
        damaged(
            f"case {case_id} cannot be replayed: missing from the stored record: {gone}",
            [e.stream_id],
        )


def damaged(problem: str, streams: Iterable[object]) -> NoReturn:
    """One line on stderr and exit 2, as `verify` answers a tampered stream."""
    checks = " and ".join(f"`caserecord verify {s}`" for s in dict.fromkeys(map(str, streams)))
    typer.echo(f"caserecord: {problem}: check with {checks}", err=True)
    raise typer.Exit(2)


def named(holes: list[Hole]) -> str:
    return ", ".join(
        f"{h.stream_kind} v{h.first}" + (f"-v{h.last}" if h.last != h.first else "") for h in holes
    )


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
