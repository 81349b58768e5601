"""`caserecord db init` and `caserecord verify`."""

from uuid import UUID

import typer

from caserecord.cli.common import settings
from caserecord.provision import init_store
from caserecord.store import describe, open_records

app = typer.Typer(no_args_is_help=True, help="Database set-up.")


@app.command("init")
def init() -> None:
    """Create the tables (run once, before starting workers)."""
    s = settings()
    init_store(s)
    typer.echo(f"initialised {describe(s)}")


def verify(stream_id: UUID) -> None:
    """Verify the hash chain of one stream (a case or a client) from the stored records."""
    records = open_records(settings())
    result = records.verify_stream(stream_id)
    records.close()
    if result.ok and result.versions_checked == 0:
        typer.echo(f"caserecord: no stream {result.stream_id} in this store", err=True)
        raise typer.Exit(1)
    if result.ok:
        checked = result.versions_checked
        typer.echo(f"ok: stream {result.stream_id}, {checked} events, head {result.head_hash}")
        return
    typer.echo(
        f"TAMPERED: stream {result.stream_id} version {result.first_bad_version}: {result.problem}",
        err=True,
    )
    raise typer.Exit(2)
