"""Cases: intake, read, assessment, prior treatment, assignment, closure, corrections."""

from functools import partial
from typing import Annotated
from uuid import UUID

from fastapi import Query
from fastapi.responses import JSONResponse

from caserecord.access import Subject
from caserecord.api.deps import (
    MAX_POSITION,
    ReaderDep,
    RuntimeDep,
    VersionPath,
    etag,
    part_of_case,
    reveal,
    reveal_case,
)
from caserecord.api.openapi import created, read, written
from caserecord.api.routing import Router
from caserecord.api.schemas.cases import (
    AssessmentEntryOut,
    AssessmentIn,
    AssignmentIn,
    BreakGlassIn,
    CaseIntake,
    CaseOut,
    ClosureIn,
    CorrectionIn,
    HoldIn,
    LifecycleIn,
    PriorTreatmentIn,
    PriorTreatmentOut,
    ReopenIn,
)
from caserecord.api.schemas.common import CommandOut
from caserecord.api.schemas.consents import RelabelIn
from caserecord.api.writes import CreateDep, SupervisedWriteDep, WriteDep

router = Router(prefix="/v1/cases", tags=["cases"])


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
    """The case as it stands (or at an earlier `version`), with the case's version as ETag:
    send it as If-Match on a write to the case or any part of it."""
    case = runtime.records.get_case(caller.actor, case_id, version)
    reveal(runtime, caller, "read_case", [Subject(case["client_id"], case_id)])
    body = CaseOut.model_validate(case).model_dump(mode="json")
    return JSONResponse(body, headers=etag(case["version"]))


@router.post(
    "/{case_id}/assessments",
    status_code=201,
    response_model=CommandOut,
    responses=created("Assessed", within=True),
)
def assess_needs(case_id: UUID, body: AssessmentIn, write: WriteDep) -> JSONResponse:
    """The assessment is known by the case version that recorded it (`entity_id`)."""
    command = partial(write.records.assess_needs, write.actor, case_id, **body.values())
    location = f"/v1/cases/{case_id}/assessments/{{entity_id}}"
    return write.run(body, command, status=201, location=location)


@router.get(
    "/{case_id}/assessments/{assessment_id}",
    response_model=AssessmentEntryOut,
    responses=read("The needs rated by one assessment", versioned=True),
)
def read_assessment(
    case_id: UUID, assessment_id: VersionPath, caller: ReaderDep, runtime: RuntimeDep
) -> JSONResponse:
    """A needs assessment, known by the case version that recorded it (404 once marked in
    error)."""
    assessment = runtime.records.get_assessment(caller.actor, case_id, assessment_id)
    reveal_case(runtime, caller, "read_assessment", case_id)
    return part_of_case(AssessmentEntryOut, assessment)


@router.post(
    "/{case_id}/prior-treatments",
    status_code=201,
    response_model=CommandOut,
    responses=created("Reviewed", within=True),
)
def review_prior_treatment(case_id: UUID, body: PriorTreatmentIn, write: WriteDep) -> JSONResponse:
    """The review is known by the case version that recorded it (`entity_id`)."""
    command = partial(write.records.review_prior_treatment, write.actor, case_id, **body.values())
    location = f"/v1/cases/{case_id}/prior-treatments/{{entity_id}}"
    return write.run(body, command, status=201, location=location)


@router.get(
    "/{case_id}/prior-treatments/{treatment_id}",
    response_model=PriorTreatmentOut,
    responses=read("One prior treatment as reviewed", versioned=True),
)
def read_prior_treatment(
    case_id: UUID, treatment_id: VersionPath, caller: ReaderDep, runtime: RuntimeDep
) -> JSONResponse:
    """A prior treatment review, known by the case version that recorded it (404 once marked
    in error)."""
    treatment = runtime.records.get_prior_treatment(caller.actor, case_id, treatment_id)
    reveal_case(runtime, caller, "read_prior_treatment", case_id)
    return part_of_case(PriorTreatmentOut, treatment)


@router.post("/{case_id}/assignment", response_model=CommandOut, responses=written())
def assign_case_manager(
    case_id: UUID, body: AssignmentIn, write: SupervisedWriteDep
) -> JSONResponse:
    """Transfer the case to another case manager (supervisors; a reason is required)."""
    command = partial(write.records.assign_case_manager, write.actor, case_id, **body.values())
    return write.run(body, command)


@router.post("/{case_id}/service-start", response_model=CommandOut, responses=written())
def start_service(case_id: UUID, body: LifecycleIn, write: WriteDep) -> JSONResponse:
    """Start service on a waitlisted case: it becomes open."""
    command = partial(write.records.start_service, write.actor, case_id)
    return write.run(body, command)


@router.post("/{case_id}/hold", response_model=CommandOut, responses=written())
def put_case_on_hold(case_id: UUID, body: HoldIn, write: WriteDep) -> JSONResponse:
    """Put an open case on hold (a reason is required; `until` is when it should end)."""
    command = partial(write.records.put_case_on_hold, write.actor, case_id, **body.values())
    return write.run(body, command)


@router.post("/{case_id}/resumption", response_model=CommandOut, responses=written())
def resume_case(case_id: UUID, body: LifecycleIn, write: WriteDep) -> JSONResponse:
    """Resume a case on hold: it is open again."""
    command = partial(write.records.resume_case, write.actor, case_id)
    return write.run(body, command)


@router.post("/{case_id}/closure", response_model=CommandOut, responses=written())
def close_case(case_id: UUID, body: ClosureIn, write: SupervisedWriteDep) -> JSONResponse:
    """Supervisors: close the case with its outcome and a reason. Open tasks are cancelled;
    open referrals are settled as `referrals` says, else 409 `open_items_on_closing` names them."""
    command = partial(write.records.close_case, write.actor, case_id, **body.values())
    return write.run(body, command)


@router.post("/{case_id}/reopening", response_model=CommandOut, responses=written())
def reopen_case(case_id: UUID, body: ReopenIn, write: SupervisedWriteDep) -> JSONResponse:
    """Supervisors: reopen a closed case (a reason is required)."""
    command = partial(write.records.reopen_case, write.actor, case_id)
    return write.run(body, command)


@router.post("/{case_id}/entries-in-error", response_model=CommandOut, responses=written())
def mark_entry_in_error(case_id: UUID, body: CorrectionIn, write: WriteDep) -> JSONResponse:
    """Mark an earlier entry (a case version) as entered in error; nothing is erased."""
    command = partial(write.records.mark_entry_in_error, write.actor, case_id, **body.values())
    return write.run(body, command)


@router.post("/{case_id}/relabellings", response_model=CommandOut, responses=written())
def relabel_entry(case_id: UUID, body: RelabelIn, write: WriteDep) -> JSONResponse:
    """Set the sensitivity labels of the entry a case version recorded (a reason is
    required): they decide what a disclosure of it contains."""
    command = partial(write.records.relabel_entry, write.actor, case_id, **body.values())
    return write.run(body, command)


@router.post("/{case_id}/break-glass", response_model=CommandOut, responses=written())
def break_glass_to_read(case_id: UUID, body: BreakGlassIn, write: WriteDep) -> JSONResponse:
    """Break the glass: read a case you have no need to know for `minutes` from now, with
    its labelled entries (not psychotherapy notes). A reason is required; the roles that
    may are configured (`CASERECORD_BREAK_GLASS_READ_ROLES`). Recorded on the case, listed
    by `GET /v1/break-glass/reads`, and each read in the window is logged with the reason."""
    command = partial(write.records.open_break_glass, write.actor, case_id, **body.values())
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
