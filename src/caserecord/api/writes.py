"""Running a write: If-Match, Idempotency-Key, the command itself, and its response."""

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from caserecord.api.deps import (
    WRITERS,
    Caller,
    IdempotencyKeyDep,
    IfMatchDep,
    RuntimeDep,
    allow,
    etag,
)
from caserecord.api.errors import ApiError
from caserecord.api.runtime import Runtime
from caserecord.api.schemas.common import CommandOut, Revision, WriteOptions
from caserecord.application import CaseRecords, CommandResult
from caserecord.domain.errors import ConcurrencyConflictError
from caserecord.domain.recording import Actor
from caserecord.domain.values import Role

Command = Callable[..., CommandResult]


@dataclass(frozen=True)
class Write:
    runtime: Runtime
    caller: Caller
    expected_version: int | None
    given_key: str | None  # the Idempotency-Key as sent
    method: str
    path: str

    @property
    def idempotency_key(self) -> str | None:
        """The key as stored: the caller's own (known in the route's thread)."""
        return None if self.given_key is None else caller_key(self.caller, self.given_key)

    @property
    def records(self) -> CaseRecords:
        return self.runtime.records

    @property
    def actor(self) -> Actor:
        return self.caller.actor

    def run(
        self,
        body: WriteOptions,
        command: Command,
        *,
        status: int = 200,
        location: str | None = None,
    ) -> JSONResponse:
        """Run ``command(**options)`` once per idempotency key; answer with its result.

        ``location``: where the created part can be read, with ``{id}`` (the record),
        ``{entity_id}`` (the part) or ``{version}`` in it; a replay answers the same."""
        opts: dict[str, Any] = {
            "effective_at": body.effective_at,
            "reason": body.reason,
            "correlation_id": body.correlation_id,
            "expected_version": self.expected_version,
        }
        key = self.idempotency_key
        # Only a request with a key is bound to its body.
        fingerprint = self.fingerprint(body) if key is not None else ""
        if key is not None:
            first = self.replay(key, fingerprint, status, location)
            if first is not None:
                return first
            opts["idempotency"] = (key, fingerprint)
        try:
            result = command(**opts)
        except ConcurrencyConflictError:
            # A concurrent duplicate of this very request may have won the race.
            first = self.replay(key, fingerprint, status, location) if key else None
            if first is not None:
                return first
            raise
        self.runtime.wrote(self.caller.token.token_id, result.position)
        out = CommandOut(id=result.id, version=result.version, entity_id=result.entity_id)
        response = respond(out, status, location, replayed=False)
        response.headers["X-Record-Position"] = str(result.position)
        return response

    def fingerprint(self, body: WriteOptions) -> str:
        return fingerprint(self.method, self.path, body)

    def replay(
        self, key: str, fingerprint: str, status: int, location: str | None
    ) -> JSONResponse | None:
        found = self.records.find_idempotent_result(self.actor, key)
        if found is None:
            return None
        if found.fingerprint != fingerprint:
            raise key_reused()
        out = CommandOut.model_validate(found.result)
        return respond(out, status, location, replayed=True)


def fingerprint(method: str, path: str, body: BaseModel) -> str:
    """What an idempotency key is bound to: the method, the path and the parsed body."""
    # A revision means something else when a field is left out than when it is sent as null.
    parsed = body.model_dump(mode="json", exclude_unset=isinstance(body, Revision))
    canonical = json.dumps(
        {"method": method, "path": path, "body": parsed},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def caller_key(caller: Caller, key: str) -> str:
    """An Idempotency-Key as stored: the caller's own (its token's), so another user of the
    agency who happens to send the same key never gets this caller's response.  Keys
    stored before they were scoped have no token prefix, and no new request matches them."""
    return f"{caller.token.token_id}:{key}"


def key_reused() -> ApiError:
    return ApiError(
        422,
        "idempotency_key_reused",
        "this Idempotency-Key was already used with another request body or path",
    )


def respond(out: CommandOut, status: int, location: str | None, *, replayed: bool) -> JSONResponse:
    headers = etag(out.version)
    if location is not None and (out.entity_id is not None or "{entity_id}" not in location):
        filled = {
            "{id}": str(out.id),
            "{entity_id}": str(out.entity_id),
            "{version}": str(out.version),
        }
        for name, value in filled.items():
            location = location.replace(name, value)
        headers["Location"] = location
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(out.model_dump(mode="json"), status_code=status, headers=headers)


def extended(answer: JSONResponse, **more: Any) -> JSONResponse:
    """A write's answer with more in its body (the same headers)."""
    body = json.loads(bytes(answer.body)) | jsonable_encoder(more)
    headers = {k: v for k, v in answer.headers.items() if k.lower() != "content-length"}
    return JSONResponse(body, status_code=answer.status_code, headers=headers)


def writing(*roles: Role, versioned: bool = True) -> Callable[..., Awaitable[Write]]:
    """A write's dependency: a caller in one of ``roles``, its If-Match (``versioned``: the
    write changes a record whose version the caller can see) and its Idempotency-Key.
    A request is refused for its token (401), then for who acts and why (422), then for
    its role (403), then for a malformed If-Match or Idempotency-Key (422)."""
    check = allow(*roles)

    async def write(
        request: Request,
        runtime: RuntimeDep,
        caller: Annotated[Caller, Depends(check)],
        if_match: IfMatchDep,
        idempotency_key: IdempotencyKeyDep = None,
    ) -> Write:
        return Write(runtime, caller, if_match, idempotency_key, request.method, request.url.path)

    async def unversioned(
        request: Request,
        runtime: RuntimeDep,
        caller: Annotated[Caller, Depends(check)],
        idempotency_key: IdempotencyKeyDep = None,
    ) -> Write:
        return await write(request, runtime, caller, None, idempotency_key)

    return write if versioned else unversioned


WriteDep = Annotated[Write, Depends(writing(*WRITERS))]
SupervisedWriteDep = Annotated[Write, Depends(writing(Role.SUPERVISOR))]
AdminWriteDep = Annotated[Write, Depends(writing(Role.ADMIN))]
DirectoryWriteDep = Annotated[Write, Depends(writing(Role.ADMIN, Role.SUPERVISOR))]
# A new record has no version yet, so there is no If-Match to honour.
CreateDep = Annotated[Write, Depends(writing(*WRITERS, versioned=False))]
# A new service of the directory has no version yet either.
DirectoryListingDep = Annotated[
    Write, Depends(writing(Role.ADMIN, Role.SUPERVISOR, versioned=False))
]
# A provider never sees the case, so it has no version of it to give in If-Match.
ProviderWriteDep = Annotated[Write, Depends(writing(Role.PROVIDER, versioned=False))]
# The agency's own registers (its instrument definitions) take no If-Match.
RegisterWriteDep = Annotated[Write, Depends(writing(Role.ADMIN, versioned=False))]
