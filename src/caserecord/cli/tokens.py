"""`caserecord tokens create|list|revoke`: API tokens (only their SHA-256 hash is stored)."""

from typing import Annotated

import typer

from caserecord.access import Tables, TokenStore
from caserecord.application import CaseRecords
from caserecord.cli.common import settings
from caserecord.store import open_records

app = typer.Typer(no_args_is_help=True, help="API tokens.")


def token_store() -> TokenStore:
    return TokenStore(Tables(open_records(settings())))


def checked_staff(store: TokenStore, agency: str, staff: str | None) -> None:
    if staff is not None:
        records = store.tables.records
        assert isinstance(records, CaseRecords)
        records.check_staff(agency, staff, "--staff")


@app.command("create")
def create(
    agency: Annotated[str, typer.Option(help="The agency (tenant) the token acts for")],
    role: Annotated[
        str, typer.Option(help="caseworker, supervisor, compliance_reviewer, admin or provider")
    ],
    name: Annotated[str, typer.Option(help="Who uses it; recorded as the actor of changes")],
    staff: Annotated[
        str | None, typer.Option(help="The staff member it belongs to (acts as them)")
    ] = None,
    service_account: Annotated[
        bool, typer.Option(help="Acts for the staff member each request names (X-On-Behalf-Of)")
    ] = False,
    organization: Annotated[
        str | None,
        typer.Option(help="A provider token's organisation: it answers the referrals sent to it"),
    ] = None,
) -> None:
    """Create a token and print it once: it cannot be shown again."""
    store = token_store()
    checked_staff(store, agency, staff)
    info, secret = store.create(
        agency_id=agency,
        role=role,
        name=name,
        staff_id=staff,
        service_account=service_account,
        organization_id=organization,
    )
    who = (
        f"staff member {staff}"
        if staff
        else "a service account"
        if service_account
        else f"{name} of {organization}"
        if organization
        else name
    )
    typer.echo(f"token {info.token_id} for {who} ({info.role}, {info.agency_id}):", err=True)
    typer.echo(secret)


@app.command("list")
def list_tokens(
    agency: Annotated[str | None, typer.Option(help="Only this agency's tokens")] = None,
) -> None:
    """List tokens (never their secrets)."""
    for t in token_store().list(agency):
        state = f"revoked {t.revoked_at}" if t.revoked_at else "active"
        who = t.staff_id or t.organization_id or ("service account" if t.service_account else "-")
        typer.echo(f"{t.token_id}  {t.agency_id}  {t.role:<20} {t.name}  {who}  {state}")


@app.command("revoke")
def revoke(token_id: str) -> None:
    """Revoke a token: it is refused (401) from now on."""
    info = token_store().revoke(token_id)
    typer.echo(f"revoked {info.token_id} ({info.name}, {info.agency_id}) at {info.revoked_at}")
