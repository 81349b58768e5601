"""`caserecord chain`: signed checkpoints and offline checks for reviewers."""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from uuid import UUID

import typer

from caserecord.cli.common import settings
from caserecord.persistence.checkpoint import (
    check_against_checkpoint,
    load_private_key,
    load_public_key,
    new_private_key_pem,
    sign_checkpoint,
)
from caserecord.store import first_line, open_records

app = typer.Typer(
    no_args_is_help=True,
    help="Tamper evidence a reviewer can check without trusting the server.",
)

OutOption = Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout")]


@app.command("keygen")
def keygen(
    private: Annotated[Path, typer.Option(help="Where to write the Ed25519 signing key")],
    public: Annotated[Path, typer.Option(help="Where to write the public key for reviewers")],
) -> None:
    """Make a checkpoint signing key. Keep the private key off the database host."""
    for path in (private, public):
        if path.exists():
            raise typer.BadParameter(f"{path} exists; refusing to overwrite a key")
    private_pem, public_pem = new_private_key_pem()
    private.write_bytes(private_pem)
    private.chmod(0o600)
    public.write_bytes(public_pem)
    typer.echo(f"wrote {private} (keep secret) and {public} (give to reviewers)")


@app.command("checkpoint")
def checkpoint(
    key: Annotated[Path, typer.Option(help="The Ed25519 signing key (PEM)")],
    out: OutOption = None,
) -> None:
    """Sign the current head (version and hash) of every stream."""
    signing_key = key_from(load_private_key, key)
    records = open_records(settings())
    try:
        heads = records.chain_heads()
    finally:
        records.close()
    issued_at = datetime.now(UTC).isoformat()
    emit(sign_checkpoint(signing_key, heads, issued_at), out)


@app.command("export")
def export(stream_id: UUID, out: OutOption = None) -> None:
    """Export a stream's stored records and links for an offline check."""
    records = open_records(settings())
    try:
        document = records.export_stream(stream_id)
    finally:
        records.close()
    if not document["records"]:
        raise typer.BadParameter(f"no stream {stream_id} in this store")
    emit(document, out)


@app.command("check")
def check(
    export_file: Annotated[Path, typer.Argument(help="A file from `caserecord chain export`")],
    checkpoint_file: Annotated[Path, typer.Option("--checkpoint", help="A signed checkpoint")],
    public_key: Annotated[Path, typer.Option(help="The checkpoint signer's public key")],
) -> None:
    """Check an export against an earlier signed checkpoint. Needs no database."""
    result = check_against_checkpoint(
        read_json(export_file), read_json(checkpoint_file), key_from(load_public_key, public_key)
    )
    if result.ok:
        typer.echo(f"ok: {result.message}")
        return
    typer.echo(f"TAMPERED: {result.message}", err=True)
    raise typer.Exit(2)


def read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise typer.BadParameter(f"cannot read {path}: {e.strerror}") from None


K = TypeVar("K")


def key_from(load: Callable[[bytes], K], path: Path) -> K:
    try:
        return load(read(path))
    except ValueError as e:
        raise typer.BadParameter(f"{path}: {first_line(e)}") from None


def read_json(path: Path) -> Any:
    try:
        return json.loads(read(path))
    except json.JSONDecodeError as e:
        raise typer.BadParameter(f"{path} is not JSON: {e.msg} at line {e.lineno}") from None


def emit(document: dict[str, Any], out: Path | None) -> None:
    text = json.dumps(document, indent=2, sort_keys=True)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n")
        typer.echo(f"wrote {out}")
