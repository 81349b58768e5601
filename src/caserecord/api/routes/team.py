"""A case's care team and its transfers with a handoff."""

from functools import partial
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query
from fastapi.responses import JSONResponse

from caserecord.api.deps import ReaderDep, RuntimeDep, part_of_case, reveal_case
from caserecord.api.openapi import created, read, written
from caserecord.api.paging import PagingDep, bad_cursor
from caserecord.api.routing import Router
from caserecord.api.schemas.common import CommandOut, IsoDate
from caserecord.api.schemas.team import (
    CareTeamEndIn,
    CareTeamMemberIn,
    CareTeamMemberOut,
    CareTeamPage,
    TransferAnswerIn,
    TransferIn,
    TransferOut,
    TransferReasonIn,
)
from caserecord.api.writes import WriteDep

router = Router(tags=["care team and transfers"])
TEAM = "/v1/cases/{case_id}/care-team"
TRANSFERS = "/v1/cases/{case_id}/transfers"


@router.get(TEAM, response_model=CareTeamPage, responses=read("A page of care team members"))
def list_care_team(
    case_id: UUID,
    caller: ReaderDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    on: Annotated[
        IsoDate | None, Query(description="Only those on the team that day (YYYY-MM-DD)")
    ] = None,
) -> dict[str, Any]:
    """The case's care team members, ended ones too, in the order they were added."""
    after = paging.after(int) or 0
    if after < 0:
        raise bad_cursor()
    members = runtime.records.care_team(caller.actor, case_id, on)
    reveal_case(runtime, caller, "read_care_team", case_id)
    rows = [m | {"position": i} for i, m in enumerate(members, 1)][after : after + paging.fetch]
    page = paging.page(rows, lambda m: m["position"])
    page["items"] = [
        CareTeamMemberOut.model_validate(m).model_dump(mode="json") for m in page["items"]
    ]
    return page


@router.post(
    TEAM, status_code=201, response_model=CommandOut, responses=created("Added", within=True)
)
def add_care_team_member(case_id: UUID, body: CareTeamMemberIn, write: WriteDep) -> JSONResponse:
    """A staff member joins under their directory name; someone outside the agency needs a
    name. A staff member is on the team once at a time."""
    command = partial(write.records.add_care_team_member, write.actor, case_id, **body.values())
    return write.run(
        body, command, status=201, location=f"{TEAM.format(case_id=case_id)}/{{entity_id}}"
    )


@router.get(
    TEAM + "/{member_id}",
    response_model=CareTeamMemberOut,
    responses=read("The member", versioned=True),
)
def read_care_team_member(
    case_id: UUID, member_id: str, caller: ReaderDep, runtime: RuntimeDep
) -> JSONResponse:
    """One member of the case's care team, current or past."""
    member = runtime.records.care_team_member(caller.actor, case_id, member_id)
    reveal_case(runtime, caller, "read_care_team", case_id)
    return part_of_case(CareTeamMemberOut, member)


@router.post(TEAM + "/{member_id}/end", response_model=CommandOut, responses=written("Ended"))
def end_care_team_member(
    case_id: UUID, member_id: str, body: CareTeamEndIn, write: WriteDep
) -> JSONResponse:
    """A reason is required; `ends_on` is the member's last day on the team."""
    command = partial(
        write.records.end_care_team_member,
        write.actor,
        case_id,
        member_id=member_id,
        **body.values(),
    )
    return write.run(body, command)


@router.post(
    TRANSFERS,
    status_code=201,
    response_model=CommandOut,
    responses=created("Requested", within=True),
)
def request_transfer(case_id: UUID, body: TransferIn, write: WriteDep) -> JSONResponse:
    """Hand the case over to another case manager (active in the staff directory) with a
    summary. The case stays with its manager until the receiver (or a supervisor) accepts;
    one transfer waits at a time. A supervisor can also assign directly (`/assignment`)."""
    command = partial(write.records.request_transfer, write.actor, case_id, **body.values())
    location = f"{TRANSFERS.format(case_id=case_id)}/{{entity_id}}"
    return write.run(body, command, status=201, location=location)


@router.get(
    TRANSFERS + "/{transfer_id}",
    response_model=TransferOut,
    responses=read("The transfer", versioned=True),
)
def read_transfer(
    case_id: UUID, transfer_id: str, caller: ReaderDep, runtime: RuntimeDep
) -> JSONResponse:
    """A transfer of the case to another case manager, with each status it took."""
    transfer = runtime.records.transfer(caller.actor, case_id, transfer_id)
    reveal_case(runtime, caller, "read_transfer", case_id)
    return part_of_case(TransferOut, transfer)


@router.post(
    TRANSFERS + "/{transfer_id}/acceptance",
    response_model=CommandOut,
    responses=written("Accepted"),
)
def accept_transfer(
    case_id: UUID, transfer_id: str, body: TransferAnswerIn, write: WriteDep
) -> JSONResponse:
    """By the staff member it goes to, or a supervisor: the case is theirs from now on."""
    command = partial(write.records.accept_transfer, write.actor, case_id, transfer_id=transfer_id)
    return write.run(body, command)


@router.post(
    TRANSFERS + "/{transfer_id}/decline", response_model=CommandOut, responses=written("Declined")
)
def decline_transfer(
    case_id: UUID, transfer_id: str, body: TransferReasonIn, write: WriteDep
) -> JSONResponse:
    """By the staff member it goes to, or a supervisor; a reason is required."""
    command = partial(write.records.decline_transfer, write.actor, case_id, transfer_id=transfer_id)
    return write.run(body, command)


@router.post(
    TRANSFERS + "/{transfer_id}/cancellation",
    response_model=CommandOut,
    responses=written("Cancelled"),
)
def cancel_transfer(
    case_id: UUID, transfer_id: str, body: TransferReasonIn, write: WriteDep
) -> JSONResponse:
    """A reason is required."""
    command = partial(write.records.cancel_transfer, write.actor, case_id, transfer_id=transfer_id)
    return write.run(body, command)
