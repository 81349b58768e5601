"""The worklist: what is due or overdue for a staff member, and each one's workload."""

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import Query

from caserecord.access import listed_subjects
from caserecord.api.deps import (
    Caller,
    ReaderDep,
    RuntimeDep,
    SupervisorDep,
    ViewsDep,
    reveal,
    staff_id_of,
)
from caserecord.api.errors import forbidden
from caserecord.api.openapi import LIST
from caserecord.api.paging import PagingDep
from caserecord.api.routing import Router
from caserecord.api.schemas.common import IsoDate
from caserecord.api.schemas.tasks import WorklistPage, WorklistSummaryPage
from caserecord.domain.errors import InvalidValueError
from caserecord.domain.values import Role
from caserecord.projections.base import today
from caserecord.projections.worklist import Window, item_key

router = Router(prefix="/v1/worklist", tags=["worklist"])
Kind = Literal[
    "task",
    "goal_due",
    "plan_review",
    "plan_revision",
    "referral_response",
    "referral_reroute",
    "client_contact",
    "left_open",
    "safety_flag",
    "benefit_decision",
    "benefit_documents",
    "benefit_appointment",
    "benefit_hearing",
    "benefit_renewal",
]


@router.get("", response_model=WorklistPage, responses=LIST)
def worklist(
    caller: ReaderDep,
    views: ViewsDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    staff_id: Annotated[
        str | None,
        Query(max_length=200, description="Another staff member's worklist (supervisors)"),
    ] = None,
    kind: Annotated[list[Kind] | None, Query(description="Only items of these kinds")] = None,
    due_before: Annotated[IsoDate | None, Query(description="Due on or before")] = None,
    due_after: Annotated[IsoDate | None, Query(description="Due on or after")] = None,
    within_days: Annotated[
        int | None, Query(ge=0, le=3650, description="Due within this many days of today")
    ] = None,
) -> dict[str, Any]:
    """What is due for the caller (or, for a supervisor, `staff_id`), by due date: tasks
    and what the record makes due. `overdue` is worked out against today when asked."""
    owner = whose(caller, staff_id)
    window = Window(tuple(kind or ()), latest_due(due_before, within_days), due_after)
    rows = views.worklist(
        caller.agency_id,
        owner_id=owner,
        standards=runtime.contact_standards,
        window=window,
        after=paging.after(tuple[str, str]),
        limit=paging.fetch,
    )
    items = runtime.records.worklist_items(caller.actor, rows)
    page = paging.page(items, item_key, staff_id=owner)
    reveal(runtime, caller, "list_worklist", listed_subjects(page["items"]))
    return page


@router.get("/summary", response_model=WorklistSummaryPage, responses=LIST)
def worklist_summary(
    caller: SupervisorDep, views: ViewsDep, runtime: RuntimeDep, paging: PagingDep
) -> dict[str, Any]:
    """Each staff member's open cases, items, and items overdue and due today (no client
    data)."""
    rows = views.worklist_summary(
        caller.agency_id,
        standards=runtime.contact_standards,
        after=paging.after(str),
        limit=paging.fetch,
    )
    return paging.page(rows, lambda r: r["staff_id"])


def whose(caller: Caller, staff_id: str | None) -> str:
    """The caller's own worklist; another's only for a supervisor."""
    own = staff_id_of(caller)
    if staff_id is None or staff_id == own:
        return own
    if caller.actor.role != Role.SUPERVISOR:
        raise forbidden(caller.actor.role)
    return staff_id


def latest_due(due_before: date | None, within_days: int | None) -> date | None:
    if within_days is None:
        return due_before
    window_end = today() + timedelta(days=within_days)
    if due_before is not None:
        raise InvalidValueError("give due_before or within_days, not both")
    return window_end
