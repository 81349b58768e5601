"""The reviewer console: the case record in a browser, for compliance reviewers,
supervisors and case managers (docs/console.md).

Server-rendered pages (Jinja2 templates, a stylesheet and one small script, all served
from this package) over the same service, views and access log as the API; a token is
exchanged once for a server-side session.
"""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from caserecord.console import audit, directory, records, signin
from caserecord.console.backend import Backend
from caserecord.console.web import ASSETS, PREFIX, STATIC, Console

__all__ = ["PREFIX", "install"]


def install(app: FastAPI, backend: Backend) -> None:
    """Mount the console's pages under ``/console`` and its assets under
    ``/console/static``."""
    app.state.console = Console(backend)
    app.mount(STATIC, StaticFiles(directory=str(ASSETS)), name="console-assets")
    for module in (signin, records, audit, directory):
        app.include_router(module.router)
    app.include_router(signin.fallback)
