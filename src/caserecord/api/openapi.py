"""The status codes routes share, declared once with examples, and the OpenAPI touch-ups."""

from typing import Any

from fastapi import FastAPI

from caserecord.api.errors import PROBLEM_JSON, problem_body
from caserecord.api.schemas.common import Problem

Responses = dict[int | str, dict[str, Any]]

EXAMPLES: dict[int, tuple[str, str]] = {
    401: ("unauthorized", "a bearer token is required"),
    403: ("forbidden", "the compliance_reviewer role may not do this"),
    404: ("case_not_found", "no case 9b2f7f0e-7d4a-4a4b-9a55-2f3f6a1c0b11"),
    409: ("case_closed", "the case is closed: it must be reopened first"),
    412: ("version_mismatch", "the record is at version 7, not 5"),
    413: ("content_too_large", "the request body is larger than 1048576 bytes"),
    422: ("validation_failed", "activities[0].cadence: Input should be 'daily', 'weekly'..."),
    500: ("internal_error", "an unexpected error occurred"),
    503: ("store_unavailable", "the record store is unavailable: retry later"),
    507: ("storage_full", "the record store is out of space: nothing was recorded"),
}

DESCRIPTIONS = {
    401: "Missing, unknown or revoked bearer token",
    403: "The token's role may not do this (nothing is recorded)",
    404: "No such record in the caller's agency",
    409: "The change conflicts with the record's state, or another change won the race",
    412: "If-Match does not match the record's current ETag (version)",
    413: "The request body is over the size limit (refused before parsing)",
    422: "The request is not valid; `errors` names each field path",
    500: "Unexpected error (no details are disclosed)",
    503: "The store, the access log or the read models are unavailable; see Retry-After",
    507: "The store is out of space; nothing was recorded (see Retry-After)",
}


def problem_response(status: int) -> dict[str, Any]:
    code, detail = EXAMPLES[status]
    example = problem_body(status, code, detail)
    if status == 422:
        example["errors"] = [
            {"path": "activities[0].cadence", "message": "Input should be ...", "type": "enum"}
        ]
    response: dict[str, Any] = {
        "model": Problem,
        "description": DESCRIPTIONS[status],
        "content": {PROBLEM_JSON: {"example": example}},
    }
    if status in (503, 507):
        response["headers"] = {"Retry-After": {"schema": {"type": "string"}, "example": "5"}}
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return response


def problems(*statuses: int) -> Responses:
    return {s: problem_response(s) for s in statuses}


ETAG = {"ETag": {"description": "The record's version", "schema": {"type": "string"}}}
POSITION = {
    "X-Record-Position": {
        "description": "Position of the write in the event log; send it as X-Min-Position "
        "to a view route (any worker) to read your own write. Absent on replays.",
        "schema": {"type": "string"},
    }
}
READ_POSITION = {
    "X-Position": {
        "description": "The log position this read reflects: every write up to it is in "
        "the answer (the caller's own writes always are)",
        "schema": {"type": "string"},
    }
}
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored first response to the same key",
        "schema": {"type": "string"},
    }
}

# Every route can answer these (413 too: the size limit applies before routing).
BASE: Responses = problems(401, 403, 413, 422, 500, 503)
READ: Responses = BASE | problems(404)
LIST: Responses = BASE
# A write can find the store full (507); a read only writes the access log, which is 503.
WRITE: Responses = BASE | problems(404, 409, 412, 507)
CREATE: Responses = BASE | problems(404, 409, 507)


def ok(description: str, *, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "headers": headers or {}}


def written(description: str = "Recorded", *, reads_views: bool = False) -> Responses:
    """A write that changes an existing record; ``reads_views``: one that finds what it
    writes to in the read models first, so it answers their X-Position too."""
    headers = ETAG | REPLAYED | POSITION | (READ_POSITION if reads_views else {})
    return {200: ok(description, headers=headers)} | WRITE


LOCATION = {
    "Location": {
        "description": "Where the new record or part is read (GET); a replay answers the same",
        "schema": {"type": "string"},
    }
}


def created(description: str, *, within: bool = False) -> Responses:
    """A write that creates a record, or a part ``within`` an existing one (which honours
    If-Match, so 412 too): 201 with Location."""
    return {201: ok(description, headers=ETAG | REPLAYED | POSITION | LOCATION)} | (
        WRITE if within else CREATE
    )


def read(description: str, *, versioned: bool = False) -> Responses:
    """A read of one record (404 outside the caller's agency)."""
    return {200: ok(description, headers=ETAG if versioned else None)} | READ


def never_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query or header parameter is absent or a string, never JSON null: FastAPI documents
    ``X | None`` as ``anyOf [X, null]``, which tells clients (and fuzzers) to send "null"."""
    options = schema.get("anyOf")
    if not options or {"type": "null"} not in options:
        return schema
    rest = [o for o in options if o != {"type": "null"}]
    outer = {k: v for k, v in schema.items() if k != "anyOf"}
    return outer | rest[0] if len(rest) == 1 else outer | {"anyOf": rest}


LINK = {
    "Link": {
        "description": 'The next page, `<...>; rel="next"`, while `next` is not null',
        "schema": {"type": "string"},
    }
}


def is_page(document: dict[str, Any], operation: dict[str, Any]) -> bool:
    """Whether the operation answers a page of a list (``items`` and ``next``)."""
    content = operation.get("responses", {}).get("200", {}).get("content", {})
    ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
    name = ref.rsplit("/", 1)[-1]
    found = document.get("components", {}).get("schemas", {}).get(name, {})
    return {"items", "next"} <= set(found.get("properties", {}))


def install(app: FastAPI) -> None:
    """Error bodies are problem+json: move their schemas there from application/json.
    Reads declare the X-Position they answer with; X-Min-Position is for reads only."""

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        for path in schema.get("paths", {}).values():
            for method, operation in path.items():
                if method != "get":  # only a read waits for a position
                    operation["parameters"] = [
                        p for p in operation.get("parameters", []) if p["name"] != "x-min-position"
                    ]
                    if not operation["parameters"]:
                        del operation["parameters"]
                elif "200" in operation["responses"]:
                    operation["responses"]["200"].setdefault("headers", {}).update(READ_POSITION)
                for parameter in operation.get("parameters", []):
                    parameter["schema"] = never_null(parameter["schema"])
                if is_page(schema, operation):
                    operation["responses"]["200"].setdefault("headers", {}).update(LINK)
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if str(status).isdigit() and int(status) >= 400 and PROBLEM_JSON in content:
                        plain = content.pop("application/json", {})
                        if "schema" in plain:
                            content[PROBLEM_JSON]["schema"] = plain["schema"]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = ["BASE", "LIST", "READ", "created", "install", "problems", "read", "written"]
