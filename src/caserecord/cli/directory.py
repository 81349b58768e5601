"""`caserecord directory import|export`: the resource directory as Open Referral HSDS."""

import json
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from pydantic import ValidationError

from caserecord.cli.common import cli_actor, settings
from caserecord.hsds import datapackage, hsds_page, import_rows, read_page
from caserecord.store import open_records

app = typer.Typer(no_args_is_help=True, help="The resource directory (Open Referral HSDS 3.0).")

Agency = Annotated[str, typer.Option(help="The agency (tenant); a network's member shares it")]


def refuse(message: str) -> typer.Exit:
    print(f"caserecord: {message}", file=sys.stderr)
    return typer.Exit(1)


def where(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="An HSDS 3.0 JSON page of services")],
    agency: Agency,
) -> None:
    """Import an HSDS file: new services are listed, changed ones updated (naming what
    changed), the same file again records nothing; a malformed file records nothing."""
    try:
        page = read_page(json.loads(file.read_text(encoding="utf-8")))
    except OSError as e:
        raise refuse(f"{file}: cannot read it: {e.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise refuse(f"{file}: not JSON: {e}") from None
    except ValidationError as e:
        first = e.errors()[0]
        raise refuse(f"{file}: {where(first['loc']) or 'document'}: {first['msg']}") from None
    summary = open_records(settings()).import_directory(cli_actor(agency), import_rows(page))
    counts = ", ".join(f"{len(summary[k])} {k}" for k in ("listed", "updated", "unchanged"))
    typer.echo(f"{counts}, {len(summary['refused'])} refused")
    for row in summary["updated"]:
        typer.echo(f"updated {row['service_id']}: {', '.join(row['changed'])}")
    for row in summary["refused"]:
        typer.echo(f"refused {row['service_id']}: {row['reason']}")
    if summary["refused"]:
        raise typer.Exit(1)


@app.command("export")
def export(
    agency: Agency,
    output: Annotated[Path | None, typer.Option(help="The file to write; stdout for JSON")] = None,
    format: Annotated[
        Literal["json", "datapackage"], typer.Option(help="json, or a zipped CSV datapackage")
    ] = "json",
) -> None:
    """Export the directory in HSDS 3.0, inactive services too."""
    services = open_records(settings()).directory_services(cli_actor(agency))
    if format == "json":
        text = json.dumps(hsds_page(services), indent=1, ensure_ascii=False) + "\n"
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")
        return
    if output is None:
        raise refuse("a datapackage is a zip file: name it with --output")
    output.write_bytes(datapackage(services))
    typer.echo(f"wrote {len(services)} services to {output}")
