"""Caseloads: open cases by manager or specialty, with review and contact dates."""

from typing import Annotated, Any, Literal

from fastapi import Query

from caserecord.access import listed_subjects
from caserecord.api.deps import ReaderDep, RuntimeDep, ViewsDep, reveal
from caserecord.api.openapi import LIST
from caserecord.api.paging import PagingDep, bad_cursor
from caserecord.api.routing import Router
from caserecord.api.schemas.caseloads import CaseloadPage
from caserecord.domain.values import Specialty
from caserecord.projections.caseload import SORTS, caseload_key

router = Router(tags=["caseloads"])
Sort = Literal["last_contact", "next_review", "opened_at", "client_name", "case_manager"]
Status = Literal["waitlisted", "open", "on_hold"]


@router.get("/v1/caseloads", response_model=CaseloadPage, responses=LIST)
def caseload(
    caller: ReaderDep,
    views: ViewsDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    case_manager_id: Annotated[str | None, Query(max_length=200)] = None,
    specialty: Specialty | None = None,
    review_overdue: bool | None = None,
    status: Status | None = None,
    sort: Sort = "last_contact",
) -> dict[str, Any]:
    """Cases of the agency on a caseload: waitlisted, open and on hold (`status`: one of
    them). `last_contact_at` is the latest contact the client took part in that happened.
    A cursor continues the `sort` it was made with."""
    rows = views.caseload(
        caller.agency_id,
        case_manager_id=case_manager_id,
        specialty=None if specialty is None else specialty.value,
        review_overdue=review_overdue,
        status=status,
        sort=sort,
        after=continued(paging.after(tuple[str, ...]), sort),
        limit=paging.fetch,
    )
    page = paging.page(rows, lambda r: (sort, *caseload_key(r, sort)))
    reveal(runtime, caller, "list_caseload", listed_subjects(page["items"]))
    return page


def continued(after: tuple[str, ...] | None, sort: str) -> tuple[str, ...] | None:
    """The cursor names its sort: one made for another sort cannot continue this one."""
    if after is None:
        return None
    if len(after) != len(SORTS[sort]) + 1 or after[0] != sort:
        raise bad_cursor()
    return after[1:]
