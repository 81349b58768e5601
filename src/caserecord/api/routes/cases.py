"""Cases: intake, read, assessment, prior treatment, assignment, closure, corrections."""

from functools import partial
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from caserecord.access import Subject
from caserecord.api.commands import CreateDep, SupervisedWriteDep, WriteDep
from caserecord.api.deps import MAX_POSITION, ReaderDep, RuntimeDep, etag, reveal
from caserecord.api.openapi import created, read, written
from caserecord.api.schemas import (
    AssessmentIn,
    AssignmentIn,
    CaseIntake,
    CaseOut,
    ClosureIn,
    CommandOut,
    CorrectionIn,
    PriorTreatmentIn,
    ReopenIn,
)

router = APIRouter(prefix="/v1/cases", tags=["cases"])


@router.post(
    "",
    status_code=201,
    response_model=CommandOut,
    responses=created("Opened"),
)
def open_case(body: CaseIntake, write: CreateDep) -> JSONResponse:
    """Open a case from the intake interview (the client must be registered first)."""
    command = partial(write.records.open_case, write.actor, **body.values())
    return write.run(body, command, status=201, location="/v1/cases/{id}")


@router.get("/{case_id}", response_model=CaseOut, responses=read("The case", versioned=True))
def read_case(
    case_id: UUID,
    caller: ReaderDep,
    runtime: RuntimeDep,
    version: Annotated[
        int | None, Query(ge=1, le=MAX_POSITION, description="An earlier version")
    ] = None,
) -> JSONResponse:
    case = runtime.records.get_case(caller.actor, case_id, version)
    reveal(runtime, caller, "read_case", [Subject(case["client_id"], case_id)])
    body = CaseOut.model_validate(case).model_dump(mode="json")
    return JSONResponse(body, headers=etag(case["version"]))


@router.post("/{case_id}/assessments", response_model=CommandOut, responses=written())
def assess_needs(case_id: UUID, body: AssessmentIn, write: WriteDep) -> JSONResponse:
    command = partial(write.records.assess_needs, write.actor, case_id, **body.values())
    return write.run(body, command)


@router.post("/{case_id}/prior-treatments", response_model=CommandOut, responses=written())
def review_prior_treatment(case_id: UUID, body: PriorTreatmentIn, write: WriteDep) -> JSONResponse:
    command = partial(write.records.review_prior_treatment, write.actor, case_id, **body.values())
    return write.run(body, command)


@router.post("/{case_id}/assignment", response_model=CommandOut, responses=written())
def assign_case_manager(
    case_id: UUID, body: AssignmentIn, write: SupervisedWriteDep
) -> JSONResponse:
    """Transfer the case to another case manager (supervisors; a reason is required)."""
    command = partial(write.records.assign_case_manager, write.actor, case_id, **body.values())
    return write.run(body, command)


@router.post("/{case_id}/closure", response_model=CommandOut, responses=written())
def close_case(case_id: UUID, body: ClosureIn, write: SupervisedWriteDep) -> JSONResponse:
    command = partial(write.records.close_case, write.actor, case_id, **body.values())
    return write.run(body, command)


@router.post("/{case_id}/reopening", response_model=CommandOut, responses=written())
def reopen_case(case_id: UUID, body: ReopenIn, write: SupervisedWriteDep) -> JSONResponse:
    command = partial(write.records.reopen_case, write.actor, case_id)
    return write.run(body, command)


@router.post("/{case_id}/entries-in-error", response_model=CommandOut, responses=written())
def mark_entry_in_error(case_id: UUID, body: CorrectionIn, write: WriteDep) -> JSONResponse:
    """Mark an earlier entry (a case version) as entered in error; nothing is erased."""
    command = partial(write.records.mark_entry_in_error, write.actor, case_id, **body.values())
    return write.run(body, command)


@router.post(
    "/{case_id}/corrections", response_model=CommandOut, responses=written(), deprecated=True
)
def mark_entry_in_error_deprecated(
    case_id: UUID, body: CorrectionIn, write: WriteDep
) -> JSONResponse:
    """Deprecated name of `POST /v1/cases/{case_id}/entries-in-error`."""
    return deprecated(mark_entry_in_error(case_id, body, write), f"{case_id}/entries-in-error")


def deprecated(answer: JSONResponse, successor: str) -> JSONResponse:
    answer.headers["Deprecation"] = "true"
    answer.headers["Link"] = f'</v1/cases/{successor}>; rel="successor-version"'
    return answer
