"""API tokens of the admin's own agency: create (shown once), list, revoke."""

from typing import Any

from fastapi import APIRouter

from caserecord.access import TokenInfo
from caserecord.api.deps import AdminDep, RuntimeDep
from caserecord.api.openapi import BASE, READ
from caserecord.api.schemas import NewTokenOut, TokenIn, TokenOut

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])


@router.get("", response_model=list[TokenOut], responses=BASE)
def list_tokens(caller: AdminDep, runtime: RuntimeDep) -> list[dict[str, Any]]:
    return [as_dict(t) for t in runtime.tokens.list(caller.agency_id)]


@router.post("", status_code=201, response_model=NewTokenOut, responses=BASE)
def create_token(body: TokenIn, caller: AdminDep, runtime: RuntimeDep) -> dict[str, Any]:
    """The token is in this response only; just its hash is kept. Not idempotent: a retry
    makes another token (revoke the spare one)."""
    info, secret = runtime.tokens.create(
        agency_id=caller.agency_id, role=str(body.role), name=body.name
    )
    return as_dict(info) | {"token": secret}


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
    }
