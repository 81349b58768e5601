"""`caserecord db init` and `caserecord verify`."""

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from caserecord.application import CaseRecords
from caserecord.audit import Problem, Report, verify_all
from caserecord.audit_indexes import verify_indexes
from caserecord.cli.checks import EXTRA_CHECKS, checkpoint_problems
from caserecord.cli.common import settings
from caserecord.config import parse_key, write_new_key
from caserecord.persistence.mac import Macs
from caserecord.projections import ProjectionService
from caserecord.provision import init_store
from caserecord.rekey import RotationRefusedError, rotate_key
from caserecord.store import describe, first_line, open_records

app = typer.Typer(no_args_is_help=True, help="Database set-up.")


@contextmanager
def progress_bar(label: str, shown: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A bar on stderr (only when asked, or on a terminal); yields its update callback,
    called with (done, total)."""
    if not shown:
        yield None
        return
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
        transient=True,
    )
    task = bar.add_task(label, total=None)
    with bar:
        yield lambda done, total: bar.update(task, completed=done, total=total)


@app.command("init")
def init(
    progress: Annotated[
        bool, typer.Option("--progress", help="Show a progress bar on stderr (default: on a TTY)")
    ] = False,
) -> None:
    """Create the tables (run once, before starting workers); on a store made by an earlier
    version also seal its existing rows (MACs and the Merkle tree)."""
    s = settings()
    with progress_bar("sealing events", progress or sys.stderr.isatty()) as update:
        sealed = init_store(s, progress=update)
    typer.echo(f"initialised {describe(s)}" + (f"; sealed {sealed} events" if sealed else ""))


@app.command("rotate-key")
def rotate_key_command(
    new_key_file: Annotated[
        Path,
        typer.Option(
            "--new-key-file",
            help="The new key (64 hex digits); made with a new random key if it does not exist",
        ),
    ],
    progress: Annotated[
        bool, typer.Option("--progress", help="Show a progress bar on stderr (default: on a TTY)")
    ] = False,
) -> None:
    """Re-make every MAC under a new integrity key, in one transaction, after checking the
    whole store under the current one (exit 2 if it is tampered; nothing is changed). Stop
    the service first, and start it again with CASERECORD_INTEGRITY_KEY_FILE naming the new
    key."""
    s = settings()
    current = s.integrity_key_path()
    if current is not None and new_key_file.expanduser().resolve() == current.resolve():
        raise typer.BadParameter("the new key file is the current key's file")
    if not new_key_file.exists():
        write_new_key(new_key_file)
    new = Macs(parse_key(new_key_file.read_text(), str(new_key_file)))
    records = open_records(s)
    try:
        with progress_bar("verifying events", progress or sys.stderr.isatty()) as update:
            report = verify_all(records, progress=update)
        if not report.ok:
            show(report, as_json=False)
            typer.echo("caserecord: the store does not verify: the key was not rotated", err=True)
            raise typer.Exit(2)
        with progress_bar("re-MACing events", progress or sys.stderr.isatty()) as update:
            try:
                rotated = rotate_key(records, new, progress=update)
            except RotationRefusedError as e:
                typer.echo(f"caserecord: {e}", err=True)
                raise typer.Exit(2) from None
    finally:
        records.close()
    typer.echo(
        f"rotated: {rotated.total} MACs re-made under the key in {new_key_file}; start the "
        f"service with CASERECORD_INTEGRITY_KEY_FILE={new_key_file}, then destroy the old key"
    )


def verify(
    stream_id: Annotated[UUID | None, typer.Argument(help="A case's or client's id")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Check the whole store")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON report on stdout")] = False,
    progress: Annotated[
        bool, typer.Option("--progress", help="Show a progress bar on stderr (default: on a TTY)")
    ] = False,
    checkpoint: Annotated[
        Path | None, typer.Option(help="With --all: a signed checkpoint the tree must extend")
    ] = None,
    public_key: Annotated[
        Path | None, typer.Option(help="The checkpoint signer's public key")
    ] = None,
    views: Annotated[
        bool,
        typer.Option(
            "--views",
            help="With --all: also compare every view with a rebuild from the log "
            "(as `projections verify`), and the entry index's entity ids, the note links "
            "and the client identities with the decoded events (slower: it decodes the log)",
        ),
    ] = False,
) -> None:
    """Verify one stream's hash chain, links' MACs and snapshots, or with --all the whole
    store: every stream, snapshot, MAC-covered table and the Merkle tree, and with --views
    the read models and the tables derived from the events' content (exit 0 intact, 2
    tampered, 1 could not check)."""
    if all_ == (stream_id is not None):
        raise typer.BadParameter("give a STREAM_ID or --all")
    if views and not all_:
        raise typer.BadParameter("--views goes with --all")
    if all_:
        verify_store(as_json, progress or sys.stderr.isatty(), checkpoint, public_key, views)
        return
    assert stream_id is not None
    records = open_records(settings(), verifying=True)
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


def verify_store(
    as_json: bool,
    progress: bool,
    checkpoint: Path | None,
    public_key: Path | None,
    views: bool = False,
) -> None:
    if (checkpoint is None) != (public_key is None):
        raise typer.BadParameter("--checkpoint and --public-key go together")
    records = open_records(settings(), verifying=True)
    try:
        extra = [check(records) for check in EXTRA_CHECKS]
        if checkpoint is not None and public_key is not None:
            extra.append(checkpoint_problems(records, checkpoint, public_key))
        with progress_bar("verifying events", progress) as update:
            report = verify_all(records, progress=update, extra=extra)
        if views:
            compare_indexes(records, report)
    finally:
        records.close()
    if views:
        compare_views(report)
    show(report, as_json)
    if report.problems:
        raise typer.Exit(2)
    if report.unchecked:
        raise typer.Exit(1)


def compare_indexes(records: CaseRecords, report: Report) -> None:
    """The tables derived from the events' content (entry ids, note links, client
    identities) against the decoded log; a comparison that cannot be made leaves them
    unchecked."""
    try:
        verify_indexes(records, report)
    except Exception as e:  # whatever stopped the comparison: not a verdict on the tables
        report.unchecked.append(f"indexes: {first_line(e)}")


def compare_views(report: Report) -> None:
    """Each view row that differs from a rebuild from the log, as a problem of the report;
    a comparison that cannot be made (a view moved on meanwhile, the store) leaves the
    views unchecked."""
    try:
        service = ProjectionService(settings())
        try:
            differences = service.verify()
        finally:
            service.close()
    except Exception as e:  # whatever stopped the comparison: not a verdict on the views
        report.unchecked.append(f"views: {first_line(e)}")
        return
    for difference in differences:
        report.add(Problem("views", f"{difference.view} {difference.table}", difference.describe()))


def show(report: Report, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2, sort_keys=True))
        return
    for problem in report.problems:
        typer.echo(f"TAMPERED: {problem.part}: {problem.where}: {problem.problem}", err=True)
    for part in report.unchecked:
        typer.echo(f"NOT CHECKED: {part}", err=True)
    verdict = "ok" if report.ok else ("TAMPERED" if report.problems else "INCOMPLETE")
    typer.echo(
        f"{verdict}: {report.events} events in {report.streams} streams, "
        f"{report.snapshots} snapshots, {report.feed_rows} feed-index rows, {report.tokens} "
        f"tokens, {report.access_entries} access-log entries, {report.idempotency_keys} "
        f"idempotency keys; tree of {report.tree_size} "
        f"events, root {report.tree_root}; {len(report.problems)} problems"
    )
