"""`caserecord demo`: load the demo agency (idempotent) and print a demo token per role."""

from typing import Annotated

import typer

from caserecord.cli.common import settings
from caserecord.demo import DEMO_AGENCY, demo_tokens, load_demo
from caserecord.store import open_records


def demo(
    agency: Annotated[str, typer.Option(help="The demo agency's id")] = DEMO_AGENCY,
) -> None:
    """Load a demo agency with a few realistic cases; running it again adds nothing."""
    records = open_records(settings())
    try:
        loaded = load_demo(records, agency)
        tokens = demo_tokens(records, agency)
    finally:
        records.close()
    typer.echo(
        f"demo agency {agency}: {loaded.recorded} changes recorded, {loaded.skipped} already there"
    )
    if tokens.revoked:
        revoked = ", ".join(tokens.revoked)
        typer.echo(f"revoked the {len(tokens.revoked)} demo tokens of the last run: {revoked}")
    typer.echo(
        "demo tokens (shown once; use as `Authorization: Bearer <token>`, "
        "or paste one into the web console's sign-in page at /console):"
    )
    for role, token in tokens.secrets.items():
        typer.echo(f"  {role:<20} {token}")
