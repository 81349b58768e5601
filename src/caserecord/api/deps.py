"""Request dependencies: who is calling, in which role, and what they asked for.

They are all ``async def`` and read nothing from the store: FastAPI runs a plain ``def``
dependency in its thread pool, a hop that cost more than the check itself on every request.
What needs the store before the route (the caller's token unless the token cache has it,
who it acts for, the log's head for a read) is put off to the route's own thread
(``api/deferred.py``), in the order the checks are made.
"""

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel
from pydantic_core import PydanticCustomError

from caserecord.access import Basis, Reader, Subject, TokenInfo
from caserecord.api import deferred
from caserecord.api.errors import ApiError, forbidden, unauthorized
from caserecord.api.identity import Identity
from caserecord.api.runtime import Runtime
from caserecord.api.schemas.common import Moment
from caserecord.domain.errors import VersionMismatchError
from caserecord.domain.recording import Actor
from caserecord.domain.values import Role
from caserecord.projections import ReadModels
from caserecord.projections.summaries import SUMMARIES, unknown_event_type

DEFAULT_PURPOSE = "case_management"

bearer = HTTPBearer(auto_error=False, description="An API token: `caserecord tokens create`")


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


class Caller:
    """Who is calling and why. Who the token is and acts for is known on the event loop
    only from the token cache; otherwise it is found in the route's thread, before the
    route's body (``settle``), and asking for it earlier is a mistake."""

    __slots__ = ("_identity", "_token", "purpose", "request_id")

    def __init__(self, purpose: str, request_id: str | None = None) -> None:
        self.purpose = purpose
        self.request_id = request_id
        self._token: TokenInfo | None = None
        self._identity: Identity | None = None

    def settle(self, token: TokenInfo, identity: Identity) -> None:
        self._token, self._identity = token, identity

    @property
    def token(self) -> TokenInfo:
        assert self._token is not None, "the caller is found in the route's thread"
        return self._token

    @property
    def actor(self) -> Actor:
        assert self._identity is not None, "the caller is found in the route's thread"
        return self._identity.actor

    @property
    def staff(self) -> dict[str, Any] | None:
        """The staff member acted for, if any."""
        assert self._identity is not None, "the caller is found in the route's thread"
        return self._identity.staff

    @property
    def actor_name(self) -> str | None:
        return None if self.staff is None else str(self.staff["name"])

    @property
    def agency_id(self) -> str:
        return self.actor.agency_id

    @property
    def reader(self) -> Reader:
        return Reader(
            self.actor.id,
            self.actor.role,
            self.agency_id,
            self.token.token_id,
            self.purpose,
            self.request_id,
            self.actor_name,
        )


REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")


def request_id_of(request: Request, response: Response) -> str:
    """The caller's X-Request-ID if it is a plain token, else a new one; answered back so
    the access log entry of a read can be found from the client's side."""
    given = request.headers.get("x-request-id", "")
    found = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    response.headers["X-Request-ID"] = found
    return found


@dataclass
class Presented:
    """The token a request presented, as this process's token cache knows it, or (put off
    to the route's thread) as the store does: who is calling is settled before anything
    else the request says is looked at."""

    token: TokenInfo | None
    cached: bool


async def get_presented(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Presented:
    if credentials is None:
        raise unauthorized("a bearer token is required")
    runtime: Runtime = request.app.state.runtime
    secret = credentials.credentials
    later = deferred.begin()
    cached = runtime.cached_token(secret)  # no I/O
    presented = Presented(cached, cached is not None)
    if cached is None:

        def look_up() -> None:
            presented.token = runtime.tokens.authenticate(secret)
            if presented.token is None:
                raise unauthorized("the token is unknown or revoked")

        later.add(look_up)
    return presented


PresentedDep = Annotated[Presented, Depends(get_presented)]


async def get_caller(
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    presented: PresentedDep,
    x_purpose_of_use: Annotated[
        str,
        Header(
            max_length=100,
            pattern=r"^[A-Za-z0-9_.:-]+$",
            description="Why the data is read; kept in the access log",
        ),
    ] = DEFAULT_PURPOSE,
    x_on_behalf_of: Annotated[
        str | None,
        Header(
            max_length=100,
            pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$",
            description="A service account's token only: the staff member it acts for",
        ),
    ] = None,
) -> Caller:
    caller = Caller(x_purpose_of_use, request_id_of(request, response))
    if presented.token is not None:
        known = known_identity(runtime, presented, x_on_behalf_of)
        if known is not None:
            caller.settle(presented.token, known)
            return caller

    def identify() -> None:  # after the token's own check
        token = presented.token
        assert token is not None
        identity = known_identity(runtime, presented, x_on_behalf_of)
        caller.settle(token, identity or runtime.identify(token, x_on_behalf_of))

    deferred.current().add(identify)
    return caller


def known_identity(
    runtime: Runtime, presented: Presented, on_behalf_of: str | None
) -> Identity | None:
    """Who the token acts for when that needs no query: an admin's own token, or a cached
    token's answer (kept as long as the token); None if the directory must be asked."""
    token = presented.token
    assert token is not None
    if token.staff_id is None and token.role == Role.ADMIN and on_behalf_of is None:
        return Identity(Actor(token.name, token.role, token.agency_id), None)
    return runtime.cached_identity(token, on_behalf_of) if presented.cached else None


def staff_id_of(caller: Caller) -> str:
    """Who the caller is in the agency's staff: the one place that says so (today the
    name its token was issued to, ``caller.actor.id``)."""
    return caller.actor.id


MinPositionHeader = Annotated[
    int | None,
    Header(
        ge=0,
        le=2**53,
        description="A read waits until it reflects this log position (a write's "
        "X-Record-Position, e.g. from another worker); past the end of the log: 422",
    ),
]


async def observe(
    request: Request, runtime: RuntimeDep, x_min_position: MinPositionHeader = None
) -> int | None:
    """For a read: the log's head, which a read of the records from here on reflects (the
    X-Position header; a view route lowers it to the views' position), and X-Min-Position,
    refused when past the head: waiting for a position no write has reached would only
    end in a timeout."""
    if request.method not in ("GET", "HEAD"):
        return None

    def look() -> None:
        head = runtime.head()
        if x_min_position is not None and x_min_position > head:
            message = f"X-Min-Position {x_min_position} is past the end of the log ({head})"
            raise ApiError(
                422,
                "position_beyond_log",
                message,
                errors=[{"path": "header:X-Min-Position", "message": message, "type": "too_large"}],
            )
        request.state.position = head

    deferred.current().add(look)
    return x_min_position


ObservedDep = Annotated[int | None, Depends(observe)]


def allow(*roles: Role) -> Callable[..., Awaitable[Caller]]:
    allowed = {r.value for r in roles}

    async def check(caller: Annotated[Caller, Depends(get_caller)], _: ObservedDep) -> Caller:
        def role() -> None:
            if caller.actor.role not in allowed:
                raise forbidden(caller.actor.role)

        deferred.current().then(role)
        return caller

    return check


READERS = (Role.CASEWORKER, Role.SUPERVISOR, Role.COMPLIANCE_REVIEWER)
WRITERS = (Role.CASEWORKER, Role.SUPERVISOR)
AUDITORS = (Role.SUPERVISOR, Role.COMPLIANCE_REVIEWER)

ReaderDep = Annotated[Caller, Depends(allow(*READERS))]
WriterDep = Annotated[Caller, Depends(allow(*WRITERS))]
SupervisorDep = Annotated[Caller, Depends(allow(Role.SUPERVISOR))]
AuditorDep = Annotated[Caller, Depends(allow(*AUDITORS))]
AdminDep = Annotated[Caller, Depends(allow(Role.ADMIN))]
# An outside organisation's token: its referral inbox, nothing else.
ProviderDep = Annotated[Caller, Depends(allow(Role.PROVIDER))]
# What holds no client's data (the instrument definitions), the admin who adds to it too.
CatalogueReaderDep = Annotated[Caller, Depends(allow(*READERS, Role.ADMIN))]
# The resource directory: kept by admins and supervisors, read by everyone.
DirectoryKeeperDep = Annotated[Caller, Depends(allow(Role.ADMIN, Role.SUPERVISOR))]


async def get_views(
    request: Request,
    runtime: RuntimeDep,
    caller: Annotated[Caller, Depends(get_caller)],
    min_position: ObservedDep,
) -> ReadModels:
    """The read models, caught up with the caller's (token's) own writes before the route
    first asks them. The wait runs in the route's thread: in a thread of its own (a plain
    ``def`` dependency) the hop to the pool cost more CPU than the wait's query."""
    state = request.state

    def catch_up() -> None:
        reflected = runtime.catch_up(caller.token.token_id, min_position)
        if reflected is not None:
            state.position = reflected

    return (await opened_views(runtime)).waiting_first(catch_up)


ViewsDep = Annotated[ReadModels, Depends(get_views)]


async def get_current_views(
    request: Request, runtime: RuntimeDep, caller: Annotated[Caller, Depends(get_caller)]
) -> ReadModels:
    """The read models, caught up with the whole log as it stood when the route first asks
    them: a provider never wrote the referrals it reads, the agency's staff did."""
    state = request.state

    def catch_up() -> None:
        reflected = runtime.catch_up(caller.token.token_id, runtime.head())
        if reflected is not None:
            state.position = reflected

    return (await opened_views(runtime)).waiting_first(catch_up)


async def opened_views(runtime: Runtime) -> ReadModels:
    """The read models; opening them (or answering 503) reads the store: off the loop."""
    views = runtime.open_views()
    if views is None:
        views = await run_in_threadpool(lambda: runtime.views)
    return views


CurrentViewsDep = Annotated[ReadModels, Depends(get_current_views)]


def parse_if_match(value: str | None) -> int | None:
    """``"5"``, ``W/"5"`` or ``5`` -> 5; ``*`` or absent -> no precondition."""
    if value is None or value.strip() == "*":
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise VersionMismatchError(f"If-Match {value!r} does not match the record's ETag")
    return int(tag)


async def get_if_match(
    if_match: Annotated[
        str | None,
        Header(
            description="The ETag (version) the change is based on; 412 if it moved on",
            pattern=r'^(\*|W/"[0-9]+"|"[0-9]+"|[0-9]+)$',
            examples=['"3"'],
        ),
    ] = None,
) -> int | None:
    return parse_if_match(if_match)


IfMatchDep = Annotated[int | None, Depends(get_if_match)]

IdempotencyKeyDep = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Retrying with the same key and body returns the first response",
    ),
]


# Versions and log positions a request may name: larger ones cannot exist, and past 2**63 the
# stores' integers overflow (a 500 rather than an empty answer).
MAX_POSITION = 2**53


async def get_limit(
    runtime: RuntimeDep,
    limit: Annotated[
        int, Query(ge=1, le=MAX_POSITION, description="Page size; capped at the server's maximum")
    ] = 50,
) -> int:
    """Page size, capped at the server's maximum."""
    return min(limit, runtime.settings.max_page_size)


AtQuery = Annotated[Moment | None, Query(description="ISO 8601 with an offset")]


def known_event_type(value: str | None) -> str | None:
    """A filter on a type no event has would answer an empty page, as if nothing happened."""
    if value is not None and (problem := unknown_event_type(value)):
        types = ", ".join(sorted(SUMMARIES))
        raise PydanticCustomError(
            "unknown_event_type",
            "{problem}; the types are: {types}",
            {"problem": problem, "types": types},
        )
    return value


EventTypeQuery = Annotated[
    str | None,
    Query(
        max_length=100,
        description="`event_type` as the rows name it, without the aggregate "
        "docs/events.md puts before it: `ProgressNoteRecorded`, not "
        "`Case.ProgressNoteRecorded`; a name that is no event type answers 422 "
        "`validation_failed` naming it and listing the types",
        examples=["ProgressNoteRecorded"],
    ),
    AfterValidator(known_event_type),
]


def query_names(dependant: Dependant) -> frozenset[str]:
    names = {str(f.alias) for f in dependant.query_params}
    for sub in dependant.dependencies:
        names |= query_names(sub)
    return frozenset(names)


# A route's query parameters, found once per route rather than on every request (routes
# are not hashable; their path and name identify them, in every app made by create_app).
_QUERY_NAMES: dict[tuple[str, str], frozenset[str]] = {}


def route_query_names(route: APIRoute) -> frozenset[str]:
    key = (route.path, route.name)
    names = _QUERY_NAMES.get(key)
    if names is None:
        names = _QUERY_NAMES[key] = query_names(route.dependant)
    return names


async def no_unknown_query(request: Request) -> None:
    """A misspelt filter must not quietly widen a listing: unknown query parameters are 422."""
    route = request.scope.get("route")
    if not request.scope.get("query_string") or not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params) - route_query_names(route))
    if unknown:
        errors = [
            {"path": f"query:{name}", "message": "unknown query parameter", "type": "extra"}
            for name in unknown
        ]
        raise ApiError(
            422,
            "validation_failed",
            "; ".join(f"{e['path']}: {e['message']}" for e in errors),
            errors=errors,
        )


def reveal(runtime: Runtime, caller: Caller, action: str, subjects: list[Subject]) -> None:
    """Record the read before any of its data leaves, with its basis (need to know);
    raises (-> 503) if it cannot."""
    runtime.access_log.record(caller.reader, action, subjects, basis_of(runtime, caller, subjects))


def basis_of(runtime: Runtime, caller: Caller, subjects: list[Subject]) -> Basis | None:
    """The read's basis: the reader's relation to the one case it shows; for a listing of
    several (or of clients), what the role alone grants."""
    cases = {s.case_id for s in subjects if s.case_id is not None}
    if len(cases) == 1:
        reading = runtime.records.read_basis(caller.actor, next(iter(cases)))
        reason = None if reading.window is None else reading.window.reason
        return Basis(reading.basis, reason)
    return Basis(ROLE_BASIS.get(caller.actor.role, "agency"))


ROLE_BASIS: dict[str, str] = {Role.SUPERVISOR: "supervisor", Role.COMPLIANCE_REVIEWER: "reviewer"}


def reveal_case(runtime: Runtime, caller: Caller, action: str, case_id: UUID) -> None:
    """``reveal`` for a read of part of one case."""
    client_id = runtime.records.client_of_case(caller.actor, case_id)
    reveal(runtime, caller, action, [Subject(client_id, case_id)])


# Entries of a case without an id of their own (an assessment, a progress entry, an
# addendum...) are known by the case version that recorded them.
VersionPath = Annotated[
    int, Path(ge=1, le=2**53, description="The id: the case version that recorded it")
]


def etag(version: Any) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def part_of_case(model: type[BaseModel], found: dict[str, Any]) -> JSONResponse:
    """One part of a case as ``model``, with the version of the case it was read from
    (``case_version``, which the part's schema does not show) as ETag: a write to the part
    takes If-Match with the case's version, and this spares reading the whole case for it."""
    version = found.pop("case_version")
    return JSONResponse(model.model_validate(found).model_dump(mode="json"), headers=etag(version))
