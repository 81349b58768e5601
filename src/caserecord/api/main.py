"""The FastAPI application: ``create_app(settings)``, served by ``caserecord serve``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute

from caserecord.api import docs, errors, openapi
from caserecord.api.deps import no_unknown_query
from caserecord.api.middleware import (
    BodyLimitMiddleware,
    PositionHeaderMiddleware,
    SecurityHeadersMiddleware,
    UnexpectedErrorMiddleware,
)
from caserecord.api.routes import (
    audit,
    benefits,
    caseloads,
    cases,
    clients,
    consents,
    directory,
    events,
    history,
    instruments,
    notes,
    plans,
    provider,
    referrals,
    staff,
    tasks,
    team,
    tokens,
    worklist,
)
from caserecord.api.runtime import Runtime
from caserecord.config import Settings
from caserecord.console import install as install_console

DESCRIPTION = """
An event-sourced case record for case management agencies.

**Authentication.** `Authorization: Bearer <token>`; tokens come from
`caserecord tokens create --agency A --role R --name N` (or `POST /v1/tokens` as an admin).
Missing, unknown or revoked tokens are answered with 401 (with a token cache,
`CASERECORD_TOKEN_CACHE_SECONDS`, a token revoked by another process is refused within it).

**Roles.** caseworker: read and write the agency's clients and cases. supervisor: the same,
plus assignment, closure and reopening, the audit trail, verification and the access log.
compliance_reviewer: read only, including timelines, "as of", the audit trail, verification
and the access log. admin: tokens, the staff directory, the agency's instrument definitions
and the resource directory. provider (an outside organisation's token): only its referral
inbox under `/v1/provider`. A role without the right gets 403 and nothing is recorded.

**Tenancy.** Every record belongs to the token's agency; another agency's record is 404.

**Access log.** Every read of client or case data is recorded, one entry per request naming
every client and case it returned (who, what, when, the `X-Purpose-Of-Use` header and the
request id), before the data is returned; if it cannot be recorded, 503.

**Writes.** Every write takes `effective_at` (when it happened, if earlier) and `reason`.
Responses carry `ETag` (the record's version); send it back as `If-Match` (412 if the record
moved on; 409 if another write with the same `If-Match` won the race). A write without
`If-Match` that loses the race is run again on the fresh record and fails only if that
record refuses it. `Idempotency-Key` on a POST makes a retry return the first response
(`Idempotent-Replayed: true`) and record nothing more; the same key with another body is
422. Keys belong to the token that sent them.

**Lists** take `limit` and an opaque `cursor` and answer `{"items": [...], "next": ...}` with
`Link: <...>; rel="next"` while there is more.

**Consistency.** A caller reads its own writes without extra headers: a read after the same
token's write reflects it (views are waited for, a few seconds at most, else 503 with
Retry-After). Every read answers `X-Position`, the log position it reflects. On another
worker, send a write's `X-Record-Position` as `X-Min-Position`; a position past the end of
the log is 422.

**Created parts** (a case, a plan, a note, an addendum...) answer 201 with `Location`, where
a GET reads them, and `entity_id`, their id. A revision names only what changes: fields left
out keep their values, `null` clears a field.

**Errors** are `application/problem+json` (RFC 9457) with the domain error `code` and, for
validation, `errors` with field paths. Bodies over 1 MiB are refused with 413.
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
        # Operation ids are the route functions' names: short, stable names for generated
        # clients (`register_client`, `record_note`...).
        generate_unique_id_function=operation_id,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.settings = settings
    errors.install(app)
    docs.install(app)
    for module in (
        clients,
        consents,
        cases,
        plans,
        referrals,
        tasks,
        benefits,
        instruments,
        notes,
        team,
        history,
        caseloads,
        worklist,
        audit,
        events,
        staff,
        directory,
        tokens,
        provider,
    ):
        app.include_router(module.router)
    app.include_router(staff.me_router)
    app.include_router(consents.review)
    app.include_router(consents.exports)
    # After the API's routes: a request tries the routes in turn, and the API's come first.
    install_console(app, runtime)
    app.add_middleware(PositionHeaderMiddleware)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(UnexpectedErrorMiddleware)
    # Added last, so outermost: even a 413 carries the headers.
    app.add_middleware(SecurityHeadersMiddleware)
    openapi.install(app)
    return app


def operation_id(route: APIRoute) -> str:
    return route.name


def app_from_environment() -> FastAPI:
    """The factory uvicorn calls (``--factory``): settings from CASERECORD_* variables."""
    return create_app(Settings())
