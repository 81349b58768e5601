"""`caserecord serve`: the HTTP API under uvicorn."""

import copy
import logging
from typing import Annotated, Any

import typer
import uvicorn
from uvicorn.config import LOGGING_CONFIG

from caserecord.cli.common import settings
from caserecord.store import open_records


class WithoutQueryString(logging.Filter):
    """Query strings can hold names and dates of birth (client search): keep them out of
    the request log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 5:
            addr, method, path, version, status = record.args
            record.args = (addr, method, str(path).split("?", 1)[0], version, status)
        return True


def log_config() -> dict[str, Any]:
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"no_query": {"()": f"{__name__}.WithoutQueryString"}}
    config["handlers"]["access"]["filters"] = ["no_query"]
    return config


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
        log_config=log_config(),
    )
