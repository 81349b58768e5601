"""Caseloads: open cases by manager or specialty, with review and contact dates."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from caserecord.access import listed_subjects
from caserecord.api.deps import LimitDep, OffsetDep, ReaderDep, RuntimeDep, ViewsDep, reveal
from caserecord.api.openapi import LIST
from caserecord.api.schemas import Rows
from caserecord.domain.values import Specialty

router = APIRouter(tags=["caseloads"])
Sort = Literal["last_contact", "next_review", "opened_at", "client_name", "case_manager"]


@router.get("/v1/caseloads", response_model=Rows, responses=LIST)
def caseload(
    caller: ReaderDep,
    views: ViewsDep,
    runtime: RuntimeDep,
    limit: LimitDep,
    offset: OffsetDep = 0,
    case_manager_id: Annotated[str | None, Query(max_length=200)] = None,
    specialty: Specialty | None = None,
    review_overdue: bool | None = None,
    sort: Sort = "last_contact",
) -> dict[str, Any]:
    items = views.caseload(
        caller.agency_id,
        case_manager_id=case_manager_id,
        specialty=None if specialty is None else specialty.value,
        review_overdue=review_overdue,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    reveal(runtime, caller, "list_caseload", listed_subjects(items))
    return {"items": items, "limit": limit, "offset": offset}
