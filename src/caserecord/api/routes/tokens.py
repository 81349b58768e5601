"""API tokens of the admin's own agency: create (shown once), list, revoke."""

from typing import Any

from eventsourcing.persistence import IntegrityError
from fastapi import Request, Response

from caserecord.access import TokenInfo
from caserecord.api.deps import AdminDep, Caller, IdempotencyKeyDep, RuntimeDep
from caserecord.api.errors import ApiError
from caserecord.api.openapi import BASE, READ, problems
from caserecord.api.paging import PagingDep
from caserecord.api.routing import Router
from caserecord.api.runtime import Runtime
from caserecord.api.schemas.tokens import NewTokenOut, TokenIn, TokenOut, TokenPage
from caserecord.api.writes import caller_key, fingerprint, key_reused

router = Router(prefix="/v1/tokens", tags=["tokens"])


@router.get("", response_model=TokenPage, responses=BASE)
def list_tokens(caller: AdminDep, runtime: RuntimeDep, paging: PagingDep) -> dict[str, Any]:
    """The agency's tokens in the order they were created, revoked ones too."""
    tokens = runtime.tokens.list(
        caller.agency_id, after=paging.after(tuple[str, str]), limit=paging.fetch
    )
    return paging.page([as_dict(t) for t in tokens], lambda t: (t["created_at"], t["token_id"]))


CREATED = {
    201: {
        "description": "Created",
        "headers": {"Location": {"description": "The token", "schema": {"type": "string"}}},
    }
}


@router.post(
    "", status_code=201, response_model=NewTokenOut, responses=CREATED | BASE | problems(409, 422)
)
def create_token(
    request: Request,
    response: Response,
    body: TokenIn,
    caller: AdminDep,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> dict[str, Any]:
    """The token is in this response only; just its hash is kept. A token for a staff
    member (`staff_id`, active in the directory) acts as them; a service account names the
    staff member of each request in X-On-Behalf-Of. A retry with the same
    Idempotency-Key makes no second token: it is answered 409 naming the first one, whose
    secret cannot be shown again (revoke it and create another if it was lost)."""
    idempotency = None
    if idempotency_key is not None:
        key = caller_key(caller, idempotency_key)
        idempotency = (key, fingerprint("POST", request.url.path, body))
        refuse_a_retry(runtime, caller, idempotency)
    if body.staff_id is not None:
        runtime.records.check_staff(caller.agency_id, body.staff_id, "staff_id")
    try:
        info, secret = runtime.tokens.create(
            agency_id=caller.agency_id,
            role=str(body.role),
            name=body.name,
            staff_id=body.staff_id,
            service_account=body.service_account,
            organization_id=body.organization_id,
            idempotency=idempotency,
        )
    except IntegrityError:
        if idempotency is not None:  # a concurrent duplicate of this request won
            refuse_a_retry(runtime, caller, idempotency)
        raise
    response.headers["Location"] = f"/v1/tokens/{info.token_id}"
    return as_dict(info) | {"token": secret}


@router.get("/{token_id}", response_model=TokenOut, responses=READ)
def read_token(token_id: str, caller: AdminDep, runtime: RuntimeDep) -> dict[str, Any]:
    """A token of the admin's agency (never its secret)."""
    return as_dict(runtime.tokens.get(token_id, caller.agency_id))


def refuse_a_retry(runtime: Runtime, caller: Caller, idempotency: tuple[str, str]) -> None:
    key, fingerprint_ = idempotency
    found = runtime.records.find_idempotent_result(caller.actor, key)
    if found is None:
        return
    if found.fingerprint != fingerprint_:
        raise key_reused()
    raise ApiError(
        409,
        "token_already_issued",
        f"token {found.result.get('token_id')} was already issued for this Idempotency-Key; "
        "its secret is shown only once: revoke it and create another if it was lost",
    )


@router.post("/{token_id}/revocation", response_model=TokenOut, responses=READ)
def revoke_token(token_id: str, caller: AdminDep, runtime: RuntimeDep) -> dict[str, Any]:
    """From now on the token is refused with 401. Revoking twice keeps the first time."""
    return as_dict(runtime.tokens.revoke(token_id, caller.agency_id))


def as_dict(info: TokenInfo) -> dict[str, Any]:
    return {
        "token_id": info.token_id,
        "name": info.name,
        "agency_id": info.agency_id,
        "role": info.role,
        "created_at": info.created_at,
        "revoked_at": info.revoked_at,
        "staff_id": info.staff_id,
        "service_account": info.service_account,
        "organization_id": info.organization_id,
    }
