"""Every error the API answers with, as RFC 9457 problem+json, mapped in this one place."""

import logging
import re
from collections.abc import Callable
from typing import Any

from eventsourcing.domain import OriginatorVersionError
from eventsourcing.persistence import DataError, IntegrityError, PersistenceError
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from caserecord.access.log import AccessLogUnavailableError
from caserecord.api import deferred
from caserecord.domain import errors as domain
from caserecord.persistence.chain import MissingEventsError, UnreadableEventError
from caserecord.persistence.idempotency import TamperedIdempotencyError
from caserecord.persistence.quarantine import RecordQuarantinedError
from caserecord.persistence.sqlite_file import StoreReplacedError
from caserecord.store import StoreError, is_storage_full

log = logging.getLogger("caserecord.api")

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = "5"


class ApiError(Exception):
    """An error raised by the HTTP layer itself (authentication, roles, idempotency...)."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.errors = errors


def unauthorized(detail: str) -> ApiError:
    return ApiError(401, "unauthorized", detail, {"WWW-Authenticate": "Bearer"})


def forbidden(role: str) -> ApiError:
    return ApiError(403, "forbidden", f"the {role} role may not do this")


def unavailable(detail: str) -> ApiError:
    return ApiError(503, "service_unavailable", detail, {"Retry-After": RETRY_AFTER_SECONDS})


# The first matching class decides; more specific classes come first.
DOMAIN_STATUS: tuple[tuple[type[domain.DomainError], int], ...] = (
    (domain.NotFoundError, 404),
    (domain.OverrideNotAllowedError, 403),
    (domain.NoNeedToKnowError, 403),
    (domain.ConsentRequiredError, 409),
    (domain.VersionMismatchError, 412),
    (domain.ConcurrencyConflictError, 409),
    (domain.CaseClosedError, 409),
    (domain.CaseNotClosedError, 409),
    (domain.CaseNotInServiceError, 409),
    (domain.ContactNotPermittedError, 409),
    (domain.InvalidTransitionError, 409),
    (domain.PlanAlreadyCurrentError, 409),
    (domain.GoalNotOnCurrentPlanError, 409),
    (domain.GoalsNotSettledError, 409),
    (domain.OpenItemsOnClosingError, 409),
    (domain.EntryNotCorrectableError, 409),
    (domain.AlreadyInErrorError, 409),
    (domain.NothingToCorrectError, 409),
    (domain.DuplicateIdError, 409),
    (domain.ClientNumberTakenError, 409),
    (domain.PossibleDuplicateError, 409),
    (domain.StaffInactiveError, 409),
    (domain.TransferPendingError, 409),
    (domain.NotTheReceiverError, 403),
    (domain.NotOnTheCaseError, 403),
    (domain.DomainError, 422),
)

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Service unavailable",
    507: "Insufficient storage",
}


def domain_status(error: domain.DomainError) -> int:
    return next(status for kind, status in DOMAIN_STATUS if isinstance(error, kind))


def problem_body(
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = (extra or {}) | {
        "type": f"urn:caserecord:problem:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, code, detail, errors, extra),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_JSON,
    )


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "activities", 0, "cadence")`` -> ``"activities[0].cadence"``."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    if loc and loc[0] in ("query", "header", "path"):
        return f"{loc[0]}:{path.split('.', 1)[1] if '.' in path else path}"
    return path or "body"


def on_domain_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, domain.DomainError)
    extra = jsonable_encoder(error.details) if error.details else None
    return problem(domain_status(error), error.code, error.message, extra=extra)


def on_api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return problem(
        error.status, error.code, error.detail, errors=error.errors, headers=error.headers
    )


def on_validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {
            # A JSON syntax error's location is a character offset, not a field.
            "path": "body" if e["type"] == "json_invalid" else field_path(loc),
            "message": e.get("msg", ""),
            "type": e["type"],
        }
        for e in error.errors()
        for loc in error_locations(e)
    ]
    detail = "; ".join(f"{e['path']}: {e['message']}" for e in errors)
    return problem(422, "validation_failed", detail or "the request is not valid", errors=errors)


def error_locations(error: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Where an error is: a rule between fields (schemas/common.py `rule_broken`) is at each
    field it names, not at the object that holds them."""
    loc = tuple(error.get("loc", ()))
    fields = (error.get("ctx") or {}).get("fields") if error["type"] == "field_rule" else None
    return [(*loc, field) for field in fields] if fields else [loc]


def on_http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail if isinstance(error.detail, str) else TITLES.get(error.status_code, "")
    code = TITLES.get(error.status_code, "error").lower().replace(" ", "_")
    headers = dict(error.headers or {})
    if error.status_code == 400:
        # FastAPI's answer to a body that is not even text; other bad JSON is already 422.
        errors = [{"path": "body", "message": detail, "type": "body_unreadable"}]
        return problem(422, "validation_failed", "body: the body is not valid JSON", errors=errors)
    if error.status_code == 405:
        # Starlette names only the first route that matched the path, not all of its methods.
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem(error.status_code, code, detail, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """The methods the OpenAPI document gives for the request's path."""
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    for template, operations in paths.items():
        pattern = re.sub(r"\\{\w+\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            return sorted(method.upper() for method in operations)
    return []


def on_store_error(_request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, DataError):
        return problem(422, "invalid_value", "the store refused a value in the request")
    if isinstance(error, IntegrityError):
        return problem(409, "concurrency_conflict", "another change was saved first: retry")
    if is_storage_full(error):
        log.warning("store full: %s", error)
        return problem(
            507,
            "storage_full",
            "the record store is out of space: nothing was recorded; retry once space is freed",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    return on_store_unavailable(_request, error)


def on_store_unavailable(_request: Request, error: Exception) -> JSONResponse:
    log.warning("store unavailable: %s: %s", type(error).__name__, error)
    return problem(
        503,
        "store_unavailable",
        "the record store is unavailable: retry later",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def on_store_replaced(_request: Request, error: Exception) -> JSONResponse:
    # Not transient: only a restart on the file the path names again makes writes land
    # where they are kept.  Retry-After still tells a client when to ask again.
    log.error("store replaced: %s", error)
    return problem(
        503,
        "store_unavailable",
        "the record store's database file was replaced or deleted under the service: "
        "nothing was recorded; retry later",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def on_access_log_unavailable(_request: Request, error: Exception) -> JSONResponse:
    log.warning("access log unavailable: %s", error.__cause__ or error)
    return problem(
        503,
        "access_log_unavailable",
        "the read could not be recorded in the access log, so no data is returned",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def on_missing_events(_request: Request, error: Exception) -> JSONResponse:
    # Not the caller's fault and not transient: the record is damaged, and says where.
    log.error("record incomplete: %s", error)
    if isinstance(error, OriginatorVersionError):  # a replay met a gap in a stream
        detail = (
            "the event store is missing events of this record (a version out of sequence): "
            "check the case with GET /v1/cases/{case_id}/verification"
        )
        return problem(500, "record_incomplete", detail)
    return problem(500, "record_incomplete", str(error))


def on_unreadable(_request: Request, error: Exception) -> JSONResponse:
    log.error("record unreadable: %s", error.__cause__ or error, exc_info=error.__cause__)
    return problem(500, "record_unreadable", str(error))


def on_unexpected(request: Request, error: Exception) -> JSONResponse:
    # Logged in full on the server; the caller never sees a trace, SQL or a path.
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(500, "internal_error", "an unexpected error occurred")


Handler = Callable[[Request, Exception], JSONResponse]

HANDLERS: dict[type[Exception], Handler] = {
    domain.DomainError: on_domain_error,
    ApiError: on_api_error,
    RequestValidationError: on_validation_error,
    StarletteHTTPException: on_http_error,
    PersistenceError: on_store_error,
    StoreReplacedError: on_store_replaced,
    StoreError: on_store_unavailable,
    AccessLogUnavailableError: on_access_log_unavailable,
    MissingEventsError: on_missing_events,
    OriginatorVersionError: on_missing_events,
    UnreadableEventError: on_unreadable,
    TamperedIdempotencyError: on_unreadable,
    RecordQuarantinedError: on_missing_events,
    Exception: on_unexpected,
}


def handler_of(error: Exception) -> Handler:
    return next(HANDLERS[kind] for kind in type(error).__mro__ if kind in HANDLERS)


def settled_first(handler: Handler) -> Handler:
    """An error met before the route's body (a malformed header, a later dependency's
    refusal) is answered only once the checks put off before it are made, and the first
    of them that refuses is the answer: a bad token is 401 whatever else is wrong. The
    handlers are plain ``def``, so these run in the pool, off the loop."""

    def answer(request: Request, error: Exception) -> JSONResponse:
        try:
            deferred.settle()
        except Exception as refusal:
            return handler_of(refusal)(request, refusal)
        return handler(request, error)

    return answer


def install(app: FastAPI) -> None:
    for kind, handler in HANDLERS.items():
        app.add_exception_handler(kind, settled_first(handler))
