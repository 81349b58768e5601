"""`caserecord projections run|rebuild|digest|verify`: the read models, from the command
line."""

import signal
import threading
from types import FrameType
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from caserecord.cli.common import settings
from caserecord.projections import VIEW_NAMES, ProjectionService
from caserecord.projections.compare import ViewsMovedError
from caserecord.store import StoreError, first_line, open_records

app = typer.Typer(no_args_is_help=True, help="Read models (views of the event log).")


@app.command("run")
def run(
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            help="Catch up with the log, then exit (safe beside running runners: takes no lock).",
        ),
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait",
            help="If another process already runs the views, stand by and take over when "
            "it stops (--wait), or exit with status 1 (--no-wait).",
        ),
    ] = True,
) -> None:
    """Keep the views up to date with new events until stopped (Ctrl-C or SIGTERM).

    One process at a time runs them (an API worker or this command); the others stand by.
    """
    service = ProjectionService(settings())
    if once:
        applied = service.catch_up()
        service.close()
        for name, count in applied.items():
            typer.echo(f"{name}: {count} events applied")
        return
    stopped = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        leading = service.start(standby=wait)
        if not leading and not wait:
            typer.echo(
                f"caserecord: the views are already run by {service.holder()}; "
                "nothing to do (--wait stands by to take over)",
                err=True,
            )
            raise typer.Exit(1)
        announced: bool | None = None
        while True:
            leading = service.leading
            if leading != announced:
                if leading:
                    typer.echo(f"following new events for: {', '.join(service.names)}")
                else:
                    typer.echo(
                        f"standing by: the views are run by {service.holder()}; "
                        "this process takes over if it stops"
                    )
                announced = leading
            if stopped.wait(0.2):
                break
    finally:
        service.close()
    typer.echo("stopped")


@app.command("rebuild")
def rebuild(
    name: Annotated[
        str | None,
        typer.Argument(help=f"One view ({', '.join(VIEW_NAMES)}); all when left out."),
    ] = None,
) -> None:
    """Empty views and replay them from the whole log. Stop running services first."""
    s = settings()
    names = [name] if name else list(VIEW_NAMES)
    if name and name not in VIEW_NAMES:
        raise typer.BadParameter(f"choose from {', '.join(VIEW_NAMES)}", param_hint="NAME")
    records = open_records(s)
    total = records.recorder.max_notification_id() or 0
    records.close()
    service = ProjectionService(s, names=names)
    columns = (
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns) as progress:
            tasks = {n: progress.add_task(n, total=total) for n in names}

            def report(view: str, position: int, _applied: int) -> None:
                progress.update(tasks[view], completed=position)

            applied = service.rebuild(names, report)
            for n in names:
                progress.update(tasks[n], completed=total)
    finally:
        service.close()
    for n, count in applied.items():
        typer.echo(f"{n}: rebuilt from {count} events")


@app.command("digest")
def digest(
    name: Annotated[str | None, typer.Argument(help="One view; all when left out.")] = None,
) -> None:
    """Print a stable hash of each view's rows, and its position in the log."""
    if name and name not in VIEW_NAMES:
        raise typer.BadParameter(f"choose from {', '.join(VIEW_NAMES)}", param_hint="NAME")
    service = ProjectionService(settings(), names=[name] if name else None)
    try:
        positions = service.positions()
        for view, value in service.digests().items():
            typer.echo(f"{view}\t{value}\t{positions[view]}")
    finally:
        service.close()


@app.command("verify")
def verify(
    name: Annotated[str | None, typer.Argument(help="One view; all when left out.")] = None,
) -> None:
    """Rebuild the views into a scratch copy and name every row that differs from the live
    views (edited, deleted or inserted behind the service, or left by events that are
    gone).  Exit status 0: they match; 2: rows differ; 1: could not check."""
    if name and name not in VIEW_NAMES:
        raise typer.BadParameter(f"choose from {', '.join(VIEW_NAMES)}", param_hint="NAME")
    try:
        service = ProjectionService(settings(), names=[name] if name else None)
        try:
            differences = service.verify()
        finally:
            service.close()
    except (StoreError, ViewsMovedError) as e:
        typer.echo(f"caserecord: cannot check the views: {e}", err=True)
        raise typer.Exit(1) from None
    except Exception as e:  # the store went away mid-check, say: not a verdict
        typer.echo(f"caserecord: cannot check the views: {first_line(e)}", err=True)
        raise typer.Exit(1) from None
    for difference in differences:
        typer.echo(f"DIFFERS: {difference.describe()}")
    if differences:
        typer.echo(f"{len(differences)} rows differ from a rebuild from the log", err=True)
        raise typer.Exit(2)
    typer.echo(f"ok: {', '.join(service.names)} match a rebuild from the log")
