"""The plan of a case: draft, revise, and its status moves; goals on the current plan."""

from functools import partial
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from caserecord.access import Subject
from caserecord.api.commands import WriteDep
from caserecord.api.deps import AtQuery, ReaderDep, RuntimeDep, ViewsDep, reveal
from caserecord.api.openapi import READ, read, written
from caserecord.api.pages import Version, case_page
from caserecord.api.paging import PagingDep
from caserecord.api.schemas import (
    CommandOut,
    CurrentPlanOut,
    GoalIn,
    GoalLifecycleIn,
    GoalProgressIn,
    GoalRevisionIn,
    PlanIn,
    PlanStatusIn,
    ProgressPage,
)

router = APIRouter(prefix="/v1/cases/{case_id}", tags=["plans and goals"])
PlanAction = Literal["activate", "suspend", "resume", "complete", "revoke"]


@router.get("/plan", response_model=CurrentPlanOut, responses=READ)
def current_plan(
    case_id: UUID, caller: ReaderDep, views: ViewsDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """The current plan from the read model (goals, routines, next review)."""
    client_id = runtime.records.client_of_case(caller.actor, case_id)  # 404 if not theirs
    plan = views.current_plan(caller.agency_id, case_id)
    reveal(runtime, caller, "read_plan", [Subject(client_id, case_id)])
    return {"case_id": case_id, "plan": plan}


@router.post("/plans", response_model=CommandOut, responses=written())
def draft_plan(case_id: UUID, body: PlanIn, write: WriteDep) -> JSONResponse:
    command = partial(write.records.draft_plan, write.actor, case_id, **body.values())
    return write.run(body, command)


@router.post("/plans/{plan_id}/revisions", response_model=CommandOut, responses=written())
def revise_plan(case_id: UUID, plan_id: str, body: PlanIn, write: WriteDep) -> JSONResponse:
    """A new version of the plan; `reason` is the rationale and is required."""
    command = partial(
        write.records.revise_plan, write.actor, case_id, plan_id=plan_id, **body.values()
    )
    return write.run(body, command)


@router.post("/plans/{plan_id}/{action}", response_model=CommandOut, responses=written())
def change_plan_status(
    case_id: UUID, plan_id: str, action: PlanAction, body: PlanStatusIn, write: WriteDep
) -> JSONResponse:
    """Activate, suspend (reason), resume, complete or revoke (reason) the plan."""
    command = partial(
        write.records.change_plan_status, write.actor, case_id, plan_id=plan_id, action=action
    )
    return write.run(body, command)


@router.post("/goals", response_model=CommandOut, responses=written())
def add_goal(case_id: UUID, body: GoalIn, write: WriteDep) -> JSONResponse:
    command = partial(write.records.add_goal, write.actor, case_id, **body.values())
    return write.run(body, command)


@router.post("/goals/{goal_id}/revisions", response_model=CommandOut, responses=written())
def revise_goal(case_id: UUID, goal_id: str, body: GoalRevisionIn, write: WriteDep) -> JSONResponse:
    command = partial(
        write.records.revise_goal, write.actor, case_id, goal_id=goal_id, **body.values()
    )
    return write.run(body, command)


@router.post("/goals/{goal_id}/lifecycle", response_model=CommandOut, responses=written())
def change_goal_lifecycle(
    case_id: UUID, goal_id: str, body: GoalLifecycleIn, write: WriteDep
) -> JSONResponse:
    command = partial(
        write.records.change_goal_lifecycle, write.actor, case_id, goal_id=goal_id, **body.values()
    )
    return write.run(body, command)


@router.get(
    "/goals/{goal_id}/progress",
    response_model=ProgressPage,
    responses=read("A page of progress"),
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


@router.post("/goals/{goal_id}/progress", response_model=CommandOut, responses=written())
def record_goal_progress(
    case_id: UUID, goal_id: str, body: GoalProgressIn, write: WriteDep
) -> JSONResponse:
    command = partial(
        write.records.record_goal_progress, write.actor, case_id, goal_id=goal_id, **body.values()
    )
    return write.run(body, command)
