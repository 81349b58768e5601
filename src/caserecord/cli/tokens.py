"""`caserecord tokens create|list|revoke`: API tokens (only their SHA-256 hash is stored)."""

from typing import Annotated

import typer

from caserecord.access import Tables, TokenStore
from caserecord.cli.common import settings
from caserecord.store import open_records

app = typer.Typer(no_args_is_help=True, help="API tokens.")


def token_store() -> TokenStore:
    return TokenStore(Tables(open_records(settings())))


@app.command("create")
def create(
    agency: Annotated[str, typer.Option(help="The agency (tenant) the token acts for")],
    role: Annotated[str, typer.Option(help="caseworker, supervisor, compliance_reviewer or admin")],
    name: Annotated[str, typer.Option(help="Who uses it; recorded as the actor of changes")],
) -> None:
    """Create a token and print it once: it cannot be shown again."""
    info, secret = token_store().create(agency_id=agency, role=role, name=name)
    typer.echo(f"token {info.token_id} for {info.name} ({info.role}, {info.agency_id}):", err=True)
    typer.echo(secret)


@app.command("list")
def list_tokens(
    agency: Annotated[str | None, typer.Option(help="Only this agency's tokens")] = None,
) -> None:
    """List tokens (never their secrets)."""
    for t in token_store().list(agency):
        state = f"revoked {t.revoked_at}" if t.revoked_at else "active"
        typer.echo(f"{t.token_id}  {t.agency_id}  {t.role:<20} {t.name}  {state}")


@app.command("revoke")
def revoke(token_id: str) -> None:
    """Revoke a token: it is refused (401) from now on."""
    info = token_store().revoke(token_id)
    typer.echo(f"revoked {info.token_id} ({info.name}, {info.agency_id}) at {info.revoked_at}")
