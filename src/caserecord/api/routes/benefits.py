"""Benefits applications on a case: start one, follow each step to a decision, appeal and
renewal; the agency's applications by status and program."""

from functools import partial
from typing import Any
from uuid import UUID

from fastapi.responses import JSONResponse

from caserecord.access import listed_subjects
from caserecord.api.deps import (
    AtQuery,
    ReaderDep,
    RuntimeDep,
    ViewsDep,
    part_of_case,
    reveal,
    reveal_case,
)
from caserecord.api.openapi import LIST, created, read, written
from caserecord.api.pages import Version, case_page
from caserecord.api.paging import PagingDep
from caserecord.api.routing import Router
from caserecord.api.schemas.benefits import (
    AppealDecisionIn,
    AppealIn,
    AppointmentIn,
    AppointmentOut,
    AppointmentOutcomeIn,
    BenefitApplicationIn,
    BenefitApplicationOut,
    BenefitApplicationPage,
    BenefitRowPage,
    DecisionIn,
    DocumentRequestOut,
    DocumentsProvidedIn,
    DocumentsRequestIn,
    RenewalIn,
    StepInErrorIn,
    SubmissionIn,
    WithdrawalIn,
)
from caserecord.api.schemas.common import CommandOut
from caserecord.api.writes import WriteDep
from caserecord.domain.benefits import BenefitProgram, BenefitStatus
from caserecord.domain.errors import BenefitApplicationNotFoundError
from caserecord.projections.benefits import benefit_key

router = Router(tags=["benefits"])
CASE = "/v1/cases/{case_id}/benefit-applications"
ONE = CASE + "/{application_id}"


@router.get(
    CASE,
    response_model=BenefitApplicationPage,
    responses=read("A page of applications", versioned=True),
)
def list_benefit_applications(
    case_id: UUID,
    caller: ReaderDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    as_of: AtQuery = None,
    effective_at: AtQuery = None,
) -> dict[str, Any]:
    """The case's benefits applications, latest started first. `as_of` and `effective_at`
    ask for them as they stood then, as for the case itself (`/as-of`)."""
    records, limit, before = runtime.records, paging.limit, paging.after(Version)
    return case_page(
        runtime, caller, case_id, "read_benefit_applications", paging,
        now=partial(
            records.case_benefit_applications, caller.actor, case_id, limit=limit, before=before
        ),
        then=partial(records.benefit_page, limit=limit, before=before),
        as_of=as_of, effective_at=effective_at,
    )  # fmt: skip


@router.post(
    CASE, status_code=201, response_model=CommandOut, responses=created("Started", within=True)
)
def start_benefit_application(
    case_id: UUID, body: BenefitApplicationIn, write: WriteDep
) -> JSONResponse:
    """An application for a program to an agency; with `submitted_on`, submitted too."""
    command = partial(
        write.records.start_benefit_application, write.actor, case_id, **body.values()
    )
    location = f"{CASE.format(case_id=case_id)}/{{entity_id}}"
    return write.run(body, command, status=201, location=location)


@router.get(
    ONE, response_model=BenefitApplicationOut, responses=read("The application", versioned=True)
)
def read_benefit_application(
    case_id: UUID, application_id: str, caller: ReaderDep, runtime: RuntimeDep
) -> JSONResponse:
    """One benefits application with every step taken on it."""
    application = runtime.records.get_benefit_application(caller.actor, case_id, application_id)
    reveal_case(runtime, caller, "read_benefit_application", case_id)
    return part_of_case(BenefitApplicationOut, application)


def step(name: str, write: WriteDep, case_id: UUID, application_id: str, body: Any) -> JSONResponse:
    command = partial(
        getattr(write.records, name),
        write.actor,
        case_id,
        application_id=application_id,
        **body.values(),
    )
    return write.run(body, command)


@router.post(ONE + "/submission", response_model=CommandOut, responses=written())
def submit_benefit_application(
    case_id: UUID, application_id: str, body: SubmissionIn, write: WriteDep
) -> JSONResponse:
    """Submitted to the agency on a day; a decision is due by `expected_decision_on` (by
    default the program's processing standard)."""
    return step("submit_benefit_application", write, case_id, application_id, body)


@router.post(
    ONE + "/documents-requests",
    status_code=201,
    response_model=CommandOut,
    responses=created("Requested", within=True),
)
def request_benefit_documents(
    case_id: UUID, application_id: str, body: DocumentsRequestIn, write: WriteDep
) -> JSONResponse:
    """The agency asks for documents, due on a day: a worklist item until provided."""
    command = partial(
        write.records.request_benefit_documents,
        write.actor,
        case_id,
        application_id=application_id,
        **body.values(),
    )
    location = f"{ONE.format(case_id=case_id, application_id=application_id)}/documents-requests"
    return write.run(body, command, status=201, location=location + "/{entity_id}")


def part(
    runtime: RuntimeDep, caller: ReaderDep, case_id: UUID, application_id: str, kind: str, id: str
) -> dict[str, Any]:
    """One documents request or appointment of an application, as the application shows it."""
    application = runtime.records.get_benefit_application(caller.actor, case_id, application_id)
    key, name = PARTS[kind]
    found = next((p for p in application[kind] if p[key] == id), None)
    if found is None:
        raise BenefitApplicationNotFoundError(f"no {name} {id} on this benefits application")
    reveal_case(runtime, caller, "read_benefit_application", case_id)
    return dict(found) | {"case_version": application["case_version"]}


PARTS = {
    "documents": ("request_id", "documents request"),
    "appointments": ("appointment_id", "appointment"),
}


@router.get(
    ONE + "/documents-requests/{request_id}",
    response_model=DocumentRequestOut,
    responses=read("The documents request", versioned=True),
)
def read_benefit_documents_request(
    case_id: UUID, application_id: str, request_id: str, caller: ReaderDep, runtime: RuntimeDep
) -> JSONResponse:
    """One request of the benefits agency for documents."""
    found = part(runtime, caller, case_id, application_id, "documents", request_id)
    return part_of_case(DocumentRequestOut, found)


@router.post(
    ONE + "/documents-requests/{request_id}/provided",
    response_model=CommandOut,
    responses=written(),
)
def provide_benefit_documents(
    case_id: UUID, application_id: str, request_id: str, body: DocumentsProvidedIn, write: WriteDep
) -> JSONResponse:
    """Record the day the requested documents were provided."""
    command = partial(
        write.records.provide_benefit_documents,
        write.actor,
        case_id,
        application_id=application_id,
        request_id=request_id,
        **body.values(),
    )
    return write.run(body, command)


@router.post(
    ONE + "/appointments",
    status_code=201,
    response_model=CommandOut,
    responses=created("Scheduled", within=True),
)
def schedule_benefit_appointment(
    case_id: UUID, application_id: str, body: AppointmentIn, write: WriteDep
) -> JSONResponse:
    """An interview, exam or visit the application needs: a worklist item on its day."""
    command = partial(
        write.records.schedule_benefit_appointment,
        write.actor,
        case_id,
        application_id=application_id,
        **body.values(),
    )
    location = f"{ONE.format(case_id=case_id, application_id=application_id)}/appointments"
    return write.run(body, command, status=201, location=location + "/{entity_id}")


@router.get(
    ONE + "/appointments/{appointment_id}",
    response_model=AppointmentOut,
    responses=read("The appointment", versioned=True),
)
def read_benefit_appointment(
    case_id: UUID, application_id: str, appointment_id: str, caller: ReaderDep, runtime: RuntimeDep
) -> JSONResponse:
    """One appointment of a benefits application."""
    found = part(runtime, caller, case_id, application_id, "appointments", appointment_id)
    return part_of_case(AppointmentOut, found)


@router.post(
    ONE + "/appointments/{appointment_id}/outcome", response_model=CommandOut, responses=written()
)
def record_benefit_appointment_outcome(
    case_id: UUID,
    application_id: str,
    appointment_id: str,
    body: AppointmentOutcomeIn,
    write: WriteDep,
) -> JSONResponse:
    """Record how an appointment went: attended, missed or cancelled."""
    command = partial(
        write.records.record_benefit_appointment,
        write.actor,
        case_id,
        application_id=application_id,
        appointment_id=appointment_id,
        **body.values(),
    )
    return write.run(body, command)


@router.post(ONE + "/decision", response_model=CommandOut, responses=written())
def decide_benefit_application(
    case_id: UUID, application_id: str, body: DecisionIn, write: WriteDep
) -> JSONResponse:
    """The agency's decision: approved with the award, or denied with its reason."""
    return step("decide_benefit_application", write, case_id, application_id, body)


@router.post(ONE + "/appeal", response_model=CommandOut, responses=written())
def file_benefit_appeal(
    case_id: UUID, application_id: str, body: AppealIn, write: WriteDep
) -> JSONResponse:
    """An appeal of a denial, with its hearing day if set: a worklist item on that day."""
    return step("file_benefit_appeal", write, case_id, application_id, body)


@router.post(ONE + "/appeal-decision", response_model=CommandOut, responses=written())
def decide_benefit_appeal(
    case_id: UUID, application_id: str, body: AppealDecisionIn, write: WriteDep
) -> JSONResponse:
    """Record the decision on an appeal: the denial `reversed` or `upheld`."""
    return step("decide_benefit_appeal", write, case_id, application_id, body)


@router.post(ONE + "/renewal", response_model=CommandOut, responses=written())
def renew_benefit(
    case_id: UUID, application_id: str, body: RenewalIn, write: WriteDep
) -> JSONResponse:
    """An approved benefit renewed for another period; `renews_on`: the next renewal."""
    return step("renew_benefit", write, case_id, application_id, body)


@router.post(ONE + "/withdrawal", response_model=CommandOut, responses=written())
def withdraw_benefit_application(
    case_id: UUID, application_id: str, body: WithdrawalIn, write: WriteDep
) -> JSONResponse:
    """Withdrawn by the client (before a decision, or during an appeal); a reason is required."""
    return step("withdraw_benefit_application", write, case_id, application_id, body)


@router.post(ONE + "/steps-in-error", response_model=CommandOut, responses=written())
def mark_benefit_step_in_error(
    case_id: UUID, application_id: str, body: StepInErrorIn, write: WriteDep
) -> JSONResponse:
    """Mark a step of the application (the case version that recorded it) as entered in
    error, with a reason; nothing is erased: the step stays in the application and on the
    timeline, flagged, and the application stands as if it had not been taken. A renewal
    and any status step but the latest standing are refused (409)."""
    return step("mark_benefit_step_in_error", write, case_id, application_id, body)


@router.get("/v1/benefit-applications", response_model=BenefitRowPage, responses=LIST)
def benefit_tracker(
    caller: ReaderDep,
    views: ViewsDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    status: BenefitStatus | None = None,
    program: BenefitProgram | None = None,
) -> dict[str, Any]:
    """The agency's benefits applications in the order they were started, by status and
    program; `decision_overdue` is worked out against today when asked."""
    rows = views.benefit_applications(
        caller.agency_id,
        status=None if status is None else status.value,
        program=None if program is None else program.value,
        after=paging.after(tuple[str, str]),
        limit=paging.fetch,
    )
    page = paging.page(rows, benefit_key)
    reveal(runtime, caller, "list_benefit_applications", listed_subjects(page["items"]))
    items = runtime.records.readable_rows(caller.actor, "benefit_application", page["items"])
    return page | {"items": items}
