"""The agency's staff directory (admins change it; everyone may read it) and ``/v1/me``."""

from functools import partial
from typing import Annotated, Any

from fastapi import Depends, Path
from fastapi.responses import JSONResponse

from caserecord.api.deps import READERS, Caller, RuntimeDep, allow, etag
from caserecord.api.openapi import BASE, created, read, written
from caserecord.api.paging import PagingDep, bad_cursor
from caserecord.api.routing import Router
from caserecord.api.schemas.common import CommandOut, WriteOptions
from caserecord.api.schemas.staff import (
    MeOut,
    StaffIn,
    StaffOut,
    StaffPage,
    StaffStatusIn,
    StaffUpdateIn,
)
from caserecord.api.writes import AdminWriteDep, Command, Write
from caserecord.domain.values import Role

router = Router(prefix="/v1/staff", tags=["staff"])

# Admins keep the directory, so they read it too (it holds no client's data).
StaffReaderDep = Annotated[Caller, Depends(allow(*READERS, Role.ADMIN))]
me_router = Router(prefix="/v1/me", tags=["staff"])

StaffPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._@-]+$")]


@router.get("", response_model=StaffPage, responses=BASE)
def list_staff(caller: StaffReaderDep, runtime: RuntimeDep, paging: PagingDep) -> dict[str, Any]:
    """The agency's staff members, active or not, in the order they were added."""
    after = paging.after(int) or 0
    if after < 0:
        raise bad_cursor()
    members = runtime.records.staff_of_agency(caller.agency_id)
    rows = [m | {"position": i} for i, m in enumerate(members, 1)][after : after + paging.fetch]
    page = paging.page(rows, lambda m: m["position"])
    page["items"] = [StaffOut.model_validate(m).model_dump(mode="json") for m in page["items"]]
    return page


@router.post("", status_code=201, response_model=CommandOut, responses=created("Added"))
def add_staff_member(body: StaffIn, write: AdminWriteDep) -> JSONResponse:
    """Admins. The first member added turns on the agency's directory: from then on cases
    go to its active members only, and tokens act for one of them."""
    command = partial(write.records.add_staff_member, write.actor, **body.values())
    return changing_staff(write, body, command, status=201, location="/v1/staff/{entity_id}")


@router.get(
    "/{staff_id}", response_model=StaffOut, responses=read("The staff member", versioned=True)
)
def read_staff_member(
    staff_id: StaffPath, caller: StaffReaderDep, runtime: RuntimeDep
) -> JSONResponse:
    """One member of the agency's staff directory, active or not, with its version as ETag."""
    member = runtime.records.staff_member(caller.actor, staff_id)
    body = StaffOut.model_validate(member).model_dump(mode="json")
    return JSONResponse(body, headers=etag(member["version"]))


@router.post("/{staff_id}", response_model=CommandOut, responses=written("Updated"))
def update_staff_member(
    staff_id: StaffPath, body: StaffUpdateIn, write: AdminWriteDep
) -> JSONResponse:
    """Admins: the member's name, role and caseload limit."""
    command = partial(write.records.update_staff_member, write.actor, staff_id, **body.values())
    return changing_staff(write, body, command)


@router.post(
    "/{staff_id}/deactivation", response_model=CommandOut, responses=written("Deactivated")
)
def deactivate_staff_member(
    staff_id: StaffPath, body: StaffStatusIn, write: AdminWriteDep
) -> JSONResponse:
    """Admins; a reason is required. The member's tokens stop working and no case can be
    assigned or transferred to them; their cases stay theirs until reassigned."""
    command = partial(write.records.deactivate_staff_member, write.actor, staff_id)
    return changing_staff(write, body, command)


@router.post(
    "/{staff_id}/reactivation", response_model=CommandOut, responses=written("Reactivated")
)
def reactivate_staff_member(
    staff_id: StaffPath, body: StaffStatusIn, write: AdminWriteDep
) -> JSONResponse:
    """Admins; a reason is required."""
    command = partial(write.records.reactivate_staff_member, write.actor, staff_id)
    return changing_staff(write, body, command)


def changing_staff(write: Write, body: WriteOptions, command: Command, **how: Any) -> JSONResponse:
    """``write.run``, then who tokens act for is asked of the directory again, now that the
    change is committed (the worker's cache of it, CASERECORD_TOKEN_CACHE_SECONDS)."""
    try:
        return write.run(body, command, **how)
    finally:
        write.runtime.staff_changed()


@me_router.get("", response_model=MeOut, responses=BASE)
def who_am_i(caller: StaffReaderDep) -> dict[str, Any]:
    """Any valid token of the agency's own people (not a provider's): who the caller acts
    as."""
    staff = caller.staff
    return {
        "actor_id": caller.actor.id,
        "role": caller.actor.role,
        "agency_id": caller.agency_id,
        "token_id": caller.token.token_id,
        "token_name": caller.token.name,
        "service_account": caller.token.service_account,
        "staff": None if staff is None else StaffOut.model_validate(staff).model_dump(mode="json"),
    }
