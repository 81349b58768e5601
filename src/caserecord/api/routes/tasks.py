"""Explicit tasks on a case: create, complete, reassign, cancel, read."""

from functools import partial
from typing import Any
from uuid import UUID

from fastapi.responses import JSONResponse

from caserecord.api.deps import AtQuery, ReaderDep, RuntimeDep, part_of_case, reveal_case
from caserecord.api.openapi import created, read, written
from caserecord.api.pages import Version, case_page
from caserecord.api.paging import PagingDep
from caserecord.api.routing import Router
from caserecord.api.schemas.common import CommandOut
from caserecord.api.schemas.tasks import (
    TaskCancellationIn,
    TaskCompletionIn,
    TaskIn,
    TaskOut,
    TaskPage,
    TaskReassignmentIn,
)
from caserecord.api.writes import WriteDep

router = Router(prefix="/v1/cases/{case_id}/tasks", tags=["tasks"])


@router.get("", response_model=TaskPage, responses=read("A page of tasks", versioned=True))
def list_tasks(
    case_id: UUID,
    caller: ReaderDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    as_of: AtQuery = None,
    effective_at: AtQuery = None,
) -> dict[str, Any]:
    """The case's tasks, latest created first. `as_of` and `effective_at` ask for the
    tasks standing then, as for the case itself (`/as-of`)."""
    records, limit, before = runtime.records, paging.limit, paging.after(Version)
    return case_page(
        runtime, caller, case_id, "read_tasks", paging,
        now=partial(records.case_tasks, caller.actor, case_id, limit=limit, before=before),
        then=partial(records.task_page, limit=limit, before=before),
        as_of=as_of, effective_at=effective_at,
    )  # fmt: skip


@router.post(
    "", status_code=201, response_model=CommandOut, responses=created("Created", within=True)
)
def create_task(case_id: UUID, body: TaskIn, write: WriteDep) -> JSONResponse:
    """A task owned by a staff member, due on a day, about the case or a part of it."""
    command = partial(write.records.create_task, write.actor, case_id, **body.values())
    location = f"/v1/cases/{case_id}/tasks/{{entity_id}}"
    return write.run(body, command, status=201, location=location)


@router.get("/{task_id}", response_model=TaskOut, responses=read("The task", versioned=True))
def read_task(case_id: UUID, task_id: str, caller: ReaderDep, runtime: RuntimeDep) -> JSONResponse:
    """One task of the case: owner, due date, what it concerns and its status."""
    task = runtime.records.get_task(caller.actor, case_id, task_id)
    reveal_case(runtime, caller, "read_task", case_id)
    return part_of_case(TaskOut, task)


@router.post("/{task_id}/completion", response_model=CommandOut, responses=written())
def complete_task(
    case_id: UUID, task_id: str, body: TaskCompletionIn, write: WriteDep
) -> JSONResponse:
    """Complete an open task, with its outcome."""
    command = partial(
        write.records.complete_task, write.actor, case_id, task_id=task_id, **body.values()
    )
    return write.run(body, command)


@router.post("/{task_id}/reassignment", response_model=CommandOut, responses=written())
def reassign_task(
    case_id: UUID, task_id: str, body: TaskReassignmentIn, write: WriteDep
) -> JSONResponse:
    """Give an open task to another owner (once the agency has a staff directory, an active
    member of it)."""
    command = partial(
        write.records.reassign_task, write.actor, case_id, task_id=task_id, **body.values()
    )
    return write.run(body, command)


@router.post("/{task_id}/cancellation", response_model=CommandOut, responses=written())
def cancel_task(
    case_id: UUID, task_id: str, body: TaskCancellationIn, write: WriteDep
) -> JSONResponse:
    """Cancel the task; a reason is required."""
    command = partial(write.records.cancel_task, write.actor, case_id, task_id=task_id)
    return write.run(body, command)
