"""`caserecord staff add|list|deactivate|reactivate`: the agency's staff directory."""

from typing import Annotated

import typer

from caserecord.application import CaseRecords
from caserecord.cli.common import cli_actor, settings
from caserecord.store import open_records

app = typer.Typer(no_args_is_help=True, help="The agency's staff directory.")

Agency = Annotated[str, typer.Option(help="The agency (tenant)")]


def records() -> CaseRecords:
    return open_records(settings())


@app.command("add")
def add(
    agency: Agency,
    staff_id: Annotated[str, typer.Option("--id", help='The staff id, e.g. "cm-alice"')],
    name: Annotated[str, typer.Option(help="The person's name")],
    role: Annotated[str, typer.Option(help="case_manager, supervisor, nurse, ...")],
    caseload_limit: Annotated[int | None, typer.Option(help="Open cases at most")] = None,
) -> None:
    """Add a staff member (the agency's first turns its directory on)."""
    app_ = records()
    app_.add_staff_member(
        cli_actor(agency), staff_id=staff_id, name=name, role=role, caseload_limit=caseload_limit
    )
    typer.echo(f"added {staff_id} ({name}, {role}) to {agency}")


@app.command("list")
def list_staff(agency: Agency) -> None:
    """The agency's staff members, in the order they were added."""
    for m in records().staff_of_agency(agency):
        state = "active" if m["active"] else "inactive"
        limit = "-" if m["caseload_limit"] is None else m["caseload_limit"]
        typer.echo(f"{m['staff_id']:<24} {m['role']:<16} {state:<8} {limit!s:>5}  {m['name']}")


@app.command("deactivate")
def deactivate(
    agency: Agency,
    staff_id: Annotated[str, typer.Option("--id", help="The staff id")],
    reason: Annotated[str, typer.Option(help="Why")],
) -> None:
    """Deactivate a staff member: their tokens stop working, no new work goes to them."""
    records().deactivate_staff_member(cli_actor(agency), staff_id, reason=reason)
    typer.echo(f"deactivated {staff_id}")


@app.command("reactivate")
def reactivate(
    agency: Agency,
    staff_id: Annotated[str, typer.Option("--id", help="The staff id")],
    reason: Annotated[str, typer.Option(help="Why")],
) -> None:
    """Reactivate a staff member."""
    records().reactivate_staff_member(cli_actor(agency), staff_id, reason=reason)
    typer.echo(f"reactivated {staff_id}")
