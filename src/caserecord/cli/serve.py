"""`caserecord serve`: the HTTP API under uvicorn."""

from typing import Annotated

import typer
import uvicorn

from caserecord.cli.common import settings
from caserecord.store import open_records


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
) -> None:
    """Serve the API (run `caserecord db init` first); /docs has the OpenAPI UI."""
    # Fail here with one clear line rather than in every worker.
    open_records(settings()).close()
    typer.echo(f"caserecord API on http://{host}:{port} (docs at /docs)", err=True)
    uvicorn.run(
        "caserecord.api.main:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )
