"""`caserecord chain`: signed checkpoints and offline checks for reviewers."""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar
from uuid import UUID

import typer

from caserecord.application.integrity import TreeHeadError
from caserecord.cli.common import cli_actor, settings
from caserecord.cli.timeline import case_agency
from caserecord.domain.errors import CaseNotFoundError, DomainError
from caserecord.domain.recording import Actor
from caserecord.persistence.checkpoint import (
    CHECKPOINT_FORMAT,
    check_against_checkpoint,
    check_checkpoints,
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
    previous: Annotated[
        Path | None,
        typer.Option(help="The last checkpoint: add the proof that this one extends it"),
    ] = None,
) -> None:
    """Sign the current head (version and hash) of every stream and the Merkle tree's head
    (size and root) of the whole log."""
    signing_key = key_from(load_private_key, key)
    old = read_json(previous) if previous is not None else None
    records = open_records(settings())
    try:
        heads = records.chain_heads()
        head = records.tree_head()
        proof = None
        if old is not None and "tree" in old:
            old_size = int(old["tree"]["size"])
            if old_size > head.size:
                tampered(
                    f"the tree has {head.size} events, fewer than the {old_size} signed at "
                    f"{old['issued_at']}: the store was rolled back or cut"
                )
            proof = records.tree_consistency(old_size)
    except TreeHeadError as e:
        tampered(str(e))
    finally:
        records.close()
    issued_at = datetime.now(UTC).isoformat()
    document = sign_checkpoint(signing_key, heads, issued_at, (head.size, head.root))
    if proof is not None and old is not None:
        document["consistency"] = {
            "size": int(old["tree"]["size"]),
            "proof": [h.hex() for h in proof],
        }
    emit(document, out)


@app.command("export")
def export(
    stream_id: UUID,
    out: OutOption = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="The checkpoint it will be checked against: prove the tree extends it"),
    ] = None,
    internal: Annotated[
        bool, typer.Option(help="For the agency's own use (its reviewers): nothing leaves")
    ] = False,
    recipient: Annotated[
        str | None, typer.Option(help="Who outside the agency receives it: a disclosure")
    ] = None,
    recipient_kind: Annotated[
        str, typer.Option(help="organisation, person or general_designation")
    ] = "organisation",
    purpose: Annotated[str | None, typer.Option(help="Why it is disclosed (as the API)")] = None,
    basis: Annotated[
        str | None, typer.Option(help="A legal exception instead of consent (court_order...)")
    ] = None,
    consent_id: Annotated[str, typer.Option(help="The consent it is disclosed under")] = "",
    order_reference: Annotated[str, typer.Option(help="The court order's reference")] = "",
    reason: Annotated[str, typer.Option(help="Why (an exception needs one)")] = "",
    shares: Annotated[
        list[str] | None,
        typer.Option(
            "--shares",
            help="A class it discloses (repeat it); the case's labelled classes if absent. "
            "Entries labelled otherwise are stubs",
        ),
    ] = None,
) -> None:
    """Export a stream's stored records and links, with proofs that its events are in the
    log's Merkle tree, for an offline check. Say who it is for: ``--internal`` for the
    agency's own use, or ``--recipient`` and ``--purpose`` for someone outside it, which
    records a disclosure of the case on its client's record, checked against the consents
    in force like any other, before anything is written out. An export for someone outside
    carries what the disclosure lists: an event it withholds (labelled outside ``--shares``,
    or a psychotherapy note, which the compliance reviewer the CLI acts as does not read) is
    a stub that keeps its place, topic and stored state's hash, so the chain still checks."""
    if internal == (recipient is not None):
        raise typer.BadParameter(
            "say who the export is for: --internal (the agency's own use) or --recipient "
            "and --purpose (a disclosure, checked against consent)"
        )
    if recipient is not None and purpose is None:
        raise typer.BadParameter("a disclosure names its --purpose")
    if internal and shares:
        raise typer.BadParameter("--shares narrows a disclosure: it goes with --recipient")
    since = None
    if checkpoint is not None:
        signed = read_json(checkpoint).get("tree")
        since = int(signed["size"]) if signed else None
    records = open_records(settings())
    try:
        document = records.export_stream(stream_id, since)
        if document["records"] and recipient is not None and purpose is not None:
            actor, disclosure = disclose(
                records,
                stream_id,
                recipient_kind=recipient_kind,
                recipient=recipient,
                purpose=purpose,
                shares=shares,
                basis=basis,
                consent_id=consent_id,
                order_reference=order_reference,
                reason=reason,
            )
            document = records.exported_stream(actor, stream_id, disclosure, since)
            withheld = sum(1 for r in document["records"] if r.get("withheld"))
            typer.echo(
                f"recorded disclosure {disclosure['disclosure_id']} to {recipient}"
                + (f" ({withheld} entries withheld)" if withheld else ""),
                err=True,
            )
    except TreeHeadError as e:
        tampered(str(e))
    except LookupError as e:  # a node a proof needs is gone from the stored tree
        tampered(f"{e}: the stored tree was changed (`caserecord verify --all` names it)")
    finally:
        records.close()
    if not document["records"]:
        raise typer.BadParameter(f"no stream {stream_id} in this store")
    emit(document, out)


def disclose(records: Any, case_id: UUID, **disclosure: Any) -> tuple[Actor, dict[str, Any]]:
    """The export's disclosure, recorded as the CLI acting for the case's agency: refused,
    with nothing written, when no consent in force or named exception covers it."""
    try:
        actor = cli_actor(case_agency(records, case_id), role="compliance_reviewer")
    except CaseNotFoundError:
        raise typer.BadParameter(
            f"{case_id} is not a case: an export for someone outside the agency is of a case"
        ) from None
    try:
        result = records.export_case(actor, case_id, **disclosure)
    except DomainError as e:
        typer.echo(f"refused ({e.code}): {first_line(e)}", err=True)
        raise typer.Exit(1) from None
    client_id = records.client_of_case(actor, case_id)
    return actor, records.get_disclosure(actor, client_id, str(result.entity_id))


@app.command("check")
def check(
    export_file: Annotated[
        Path, typer.Argument(help="A file from `caserecord chain export`, or a newer checkpoint")
    ],
    checkpoint_file: Annotated[Path, typer.Option("--checkpoint", help="A signed checkpoint")],
    public_key: Annotated[Path, typer.Option(help="The checkpoint signer's public key")],
) -> None:
    """Check an export, or a newer checkpoint, against an earlier signed checkpoint. Needs
    no database."""
    document = read_json(export_file)
    old, key = read_json(checkpoint_file), key_from(load_public_key, public_key)
    if document.get("format") == CHECKPOINT_FORMAT:
        result = check_checkpoints(document, old, key)
    else:
        result = check_against_checkpoint(document, old, key)
    if result.ok:
        typer.echo(f"ok: {result.message}")
        return
    tampered(result.message)


def tampered(message: str) -> NoReturn:
    typer.echo(f"TAMPERED: {message}", err=True)
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
