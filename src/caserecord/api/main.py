"""The FastAPI application: ``create_app(settings)``, served by ``caserecord serve``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from caserecord.api import errors, openapi
from caserecord.api.deps import no_unknown_query
from caserecord.api.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from caserecord.api.routes import (
    audit,
    caseloads,
    cases,
    clients,
    events,
    history,
    notes,
    plans,
    referrals,
    tokens,
)
from caserecord.api.runtime import Runtime
from caserecord.config import Settings

DESCRIPTION = """
An event-sourced case record for case management agencies.

Authenticate with `Authorization: Bearer <token>` (`caserecord tokens create`). Every record
belongs to the token's agency; another agency's record is answered with 404.
Reads of client and case data are recorded in the access log (send `X-Purpose-Of-Use`).
Writes accept `If-Match` (the ETag) and `Idempotency-Key`; errors are `application/problem+json`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runtime.start()
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(
        title="caserecord",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(no_unknown_query)],
    )
    app.state.runtime = runtime
    app.state.settings = settings
    errors.install(app)
    for module in (
        clients,
        cases,
        plans,
        referrals,
        notes,
        history,
        caseloads,
        audit,
        events,
        tokens,
    ):
        app.include_router(module.router)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    # Added last, so outermost: even a 413 carries the headers.
    app.add_middleware(SecurityHeadersMiddleware)
    openapi.install(app)
    return app


def app_from_environment() -> FastAPI:
    """The factory uvicorn calls (``--factory``): settings from CASERECORD_* variables."""
    return create_app(Settings())
