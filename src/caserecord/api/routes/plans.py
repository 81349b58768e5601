"""The plan of a case: draft, revise, and its status moves; goals on the current plan."""

from functools import partial
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Path
from fastapi.responses import JSONResponse

from caserecord.access import Subject
from caserecord.api.deps import (
    AtQuery,
    ReaderDep,
    RuntimeDep,
    VersionPath,
    ViewsDep,
    etag,
    part_of_case,
    reveal,
    reveal_case,
)
from caserecord.api.openapi import created, read, written
from caserecord.api.pages import Version, case_page
from caserecord.api.paging import PagingDep
from caserecord.api.routing import Router
from caserecord.api.schemas.common import CommandOut
from caserecord.api.schemas.plans import (
    CurrentPlanOut,
    GoalIn,
    GoalLifecycleIn,
    GoalPageOut,
    GoalProgressIn,
    GoalRevisionIn,
    GoalSettlementIn,
    PlanIn,
    PlanOut,
    PlanReasonIn,
    PlanReviewIn,
    PlanRevisionIn,
    PlanStatusIn,
    PlanVersionOut,
    ProgressOut,
    ProgressPage,
)
from caserecord.api.writes import Write, WriteDep

router = Router(prefix="/v1/cases/{case_id}", tags=["plans and goals"])
# Suspending and revoking need a reason: they have routes of their own, whose schema says so.
PlanAction = Literal["activate", "resume", "complete"]
PlanNumber = Annotated[int, Path(ge=1, le=2**53, description="The plan version's number")]


@router.get("/plan", response_model=CurrentPlanOut, responses=read("The plan", versioned=True))
def current_plan(
    case_id: UUID, caller: ReaderDep, views: ViewsDep, runtime: RuntimeDep
) -> JSONResponse:
    """The current plan from the read model (goals, routines, next review). While there is
    one, its ETag is the case version the plan is shown as of (`plan.case_version`): a
    later write anywhere on the case makes it stale for If-Match, as the view cannot tell
    whether that write changed the plan before it has applied it."""
    client_id = runtime.records.client_of_case(caller.actor, case_id)  # 404 if not theirs
    runtime.records.refuse_quarantined(case_id)  # the view's row stops before the damage
    found = views.current_plan(caller.agency_id, case_id)
    plan = runtime.records.readable_current_plan(caller.actor, case_id, found)
    reveal(runtime, caller, "read_plan", [Subject(client_id, case_id)])
    body = CurrentPlanOut(case_id=case_id, plan=plan).model_dump(mode="json")
    return JSONResponse(body, headers=etag(plan["case_version"]) if plan else None)


@router.post(
    "/plans", status_code=201, response_model=CommandOut, responses=created("Drafted", within=True)
)
def draft_plan(case_id: UUID, body: PlanIn, write: WriteDep) -> JSONResponse:
    """Draft a service plan; it takes effect once activated (`.../plans/{plan_id}/activate`)."""
    command = partial(write.records.draft_plan, write.actor, case_id, **body.values())
    location = f"/v1/cases/{case_id}/plans/{{entity_id}}"
    return write.run(body, command, status=201, location=location)


@router.get("/plans/{plan_id}", response_model=PlanOut, responses=read("The plan", versioned=True))
def read_plan(case_id: UUID, plan_id: str, caller: ReaderDep, runtime: RuntimeDep) -> JSONResponse:
    """The plan (current or former) with its versions, status history and goals."""
    plan = runtime.records.get_plan(caller.actor, case_id, plan_id)
    reveal_case(runtime, caller, "read_plan", case_id)
    return part_of_case(PlanOut, plan)


@router.post(
    "/plans/{plan_id}/revisions",
    status_code=201,
    response_model=CommandOut,
    responses=created("A new version of the plan", within=True),
)
def revise_plan(case_id: UUID, plan_id: str, body: PlanRevisionIn, write: WriteDep) -> JSONResponse:
    """A new version of the plan, naming only what changes: a field left out is carried
    over from the current version, `null` clears it. `reason` is the rationale (required).
    `entity_id` is the new version's number."""
    command = partial(
        write.records.revise_plan, write.actor, case_id, plan_id=plan_id, **body.values()
    )
    location = f"/v1/cases/{case_id}/plans/{plan_id}/versions/{{entity_id}}"
    return write.run(body, command, status=201, location=location)


@router.get(
    "/plans/{plan_id}/versions/{number}",
    response_model=PlanVersionOut,
    responses=read("One version of the plan", versioned=True),
)
def read_plan_version(
    case_id: UUID, plan_id: str, number: PlanNumber, caller: ReaderDep, runtime: RuntimeDep
) -> JSONResponse:
    """One version of a plan, by its number (`entity_id` of the revision that made it)."""
    version = runtime.records.get_plan_version(caller.actor, case_id, plan_id, number)
    reveal_case(runtime, caller, "read_plan", case_id)
    return part_of_case(PlanVersionOut, version)


@router.post("/plans/{plan_id}/suspend", response_model=CommandOut, responses=written())
def suspend_plan(case_id: UUID, plan_id: str, body: PlanReasonIn, write: WriteDep) -> JSONResponse:
    """Suspend the plan; a reason is required."""
    return change_plan(case_id, plan_id, "suspend", body, write)


@router.post("/plans/{plan_id}/revoke", response_model=CommandOut, responses=written())
def revoke_plan(case_id: UUID, plan_id: str, body: PlanReasonIn, write: WriteDep) -> JSONResponse:
    """Revoke the plan; a reason is required."""
    return change_plan(case_id, plan_id, "revoke", body, write)


@router.post("/plans/{plan_id}/reviews", response_model=CommandOut, responses=written())
def review_plan(case_id: UUID, plan_id: str, body: PlanReviewIn, write: WriteDep) -> JSONResponse:
    """A review meeting of the plan: its outcome, who attended, whether the client took
    part and agreed, and the next review."""
    command = partial(
        write.records.review_plan, write.actor, case_id, plan_id=plan_id, **body.values()
    )
    return write.run(body, command)


@router.post("/plans/{plan_id}/{action}", response_model=CommandOut, responses=written())
def change_plan_status(
    case_id: UUID, plan_id: str, action: PlanAction, body: PlanStatusIn, write: WriteDep
) -> JSONResponse:
    """Activate, resume or complete the plan (suspend and revoke: their own routes)."""
    return change_plan(case_id, plan_id, action, body, write)


def change_plan(
    case_id: UUID, plan_id: str, action: str, body: PlanStatusIn | PlanReasonIn, write: Write
) -> JSONResponse:
    command = partial(
        write.records.change_plan_status,
        write.actor,
        case_id,
        plan_id=plan_id,
        action=action,
        goals={k: str(v) for k, v in body.goals.items()},
    )
    return write.run(body, command)


@router.post(
    "/goals", status_code=201, response_model=CommandOut, responses=created("Added", within=True)
)
def add_goal(case_id: UUID, body: GoalIn, write: WriteDep) -> JSONResponse:
    """Add a goal to a plan of the case. A goal starts `proposed`: make it `active` with
    `.../goals/{goal_id}/lifecycle` before recording progress on it."""
    command = partial(write.records.add_goal, write.actor, case_id, **body.values())
    location = f"/v1/cases/{case_id}/goals/{{entity_id}}"
    return write.run(body, command, status=201, location=location)


@router.get(
    "/goals/{goal_id}", response_model=GoalPageOut, responses=read("The goal", versioned=True)
)
def read_goal(case_id: UUID, goal_id: str, caller: ReaderDep, runtime: RuntimeDep) -> JSONResponse:
    """The goal with its revisions, its latest progress (all of it: `/progress`) and the
    latest notes that concern it."""
    goal = runtime.records.get_goal(caller.actor, case_id, goal_id)
    reveal_case(runtime, caller, "read_goal", case_id)
    return part_of_case(GoalPageOut, goal)


@router.post("/goals/{goal_id}/revisions", response_model=CommandOut, responses=written())
def revise_goal(case_id: UUID, goal_id: str, body: GoalRevisionIn, write: WriteDep) -> JSONResponse:
    """Revise the goal, naming only what changes: a field left out keeps its value (a new
    description keeps the due date); `target_measure: null` or `due_on: null` clears it."""
    command = partial(
        write.records.revise_goal, write.actor, case_id, goal_id=goal_id, **body.values()
    )
    return write.run(body, command)


@router.post("/goals/{goal_id}/settlement", response_model=CommandOut, responses=written())
def settle_goal(
    case_id: UUID, goal_id: str, body: GoalSettlementIn, write: WriteDep
) -> JSONResponse:
    """Settle an open goal: achieved, not achieved, no longer relevant, or carried over to
    the next plan (it joins that plan when it is drafted)."""
    command = partial(
        write.records.settle_goal, write.actor, case_id, goal_id=goal_id, **body.values()
    )
    return write.run(body, command)


@router.post("/goals/{goal_id}/lifecycle", response_model=CommandOut, responses=written())
def change_goal_lifecycle(
    case_id: UUID, goal_id: str, body: GoalLifecycleIn, write: WriteDep
) -> JSONResponse:
    """Move a goal through its lifecycle (proposed, active, on-hold, completed, cancelled);
    a move the goal does not allow is 409 `invalid_transition`."""
    command = partial(
        write.records.change_goal_lifecycle, write.actor, case_id, goal_id=goal_id, **body.values()
    )
    return write.run(body, command)


@router.get(
    "/goals/{goal_id}/progress",
    response_model=ProgressPage,
    responses=read("A page of progress", versioned=True),
)
def list_goal_progress(
    case_id: UUID,
    goal_id: str,
    caller: ReaderDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    as_of: AtQuery = None,
    effective_at: AtQuery = None,
) -> dict[str, Any]:
    """The progress recorded on a goal, newest first. `as_of` and `effective_at` ask for
    the progress standing then, as for the case itself (`/as-of`)."""
    records, limit, before = runtime.records, paging.limit, paging.after(Version)
    now = partial(records.goal_progress, caller.actor, case_id, goal_id, limit=limit, before=before)
    return case_page(
        runtime, caller, case_id, "read_goal_progress", paging,
        now=now,
        then=partial(records.progress_page, goal_id=goal_id, limit=limit, before=before),
        as_of=as_of, effective_at=effective_at,
    )  # fmt: skip


@router.post(
    "/goals/{goal_id}/progress",
    status_code=201,
    response_model=CommandOut,
    responses=created("Recorded", within=True),
)
def record_goal_progress(
    case_id: UUID, goal_id: str, body: GoalProgressIn, write: WriteDep
) -> JSONResponse:
    """The entry is known by the case version that recorded it (`entity_id`)."""
    command = partial(
        write.records.record_goal_progress, write.actor, case_id, goal_id=goal_id, **body.values()
    )
    location = f"/v1/cases/{case_id}/goals/{goal_id}/progress/{{entity_id}}"
    return write.run(body, command, status=201, location=location)


@router.get(
    "/goals/{goal_id}/progress/{progress_id}",
    response_model=ProgressOut,
    responses=read("One progress entry", versioned=True),
)
def read_goal_progress(
    case_id: UUID, goal_id: str, progress_id: VersionPath, caller: ReaderDep, runtime: RuntimeDep
) -> JSONResponse:
    """A progress entry of a goal, known by the case version that recorded it."""
    entry = runtime.records.get_progress(caller.actor, case_id, goal_id, progress_id)
    reveal_case(runtime, caller, "read_goal_progress", case_id)
    return part_of_case(ProgressOut, entry)
