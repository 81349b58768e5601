"""A case's history: its timeline, the case "as of" a moment, and what changed between two."""

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Query

from caserecord.access import Subject
from caserecord.api.deps import AtQuery, Caller, ReaderDep, RuntimeDep, reveal
from caserecord.api.openapi import read
from caserecord.api.paging import PagingDep
from caserecord.api.routing import Router
from caserecord.api.runtime import Runtime
from caserecord.api.schemas.common import Moment
from caserecord.api.schemas.history import CaseAsOfOut, CaseDiffOut, TimelinePage
from caserecord.history import Key, case_as_of, case_diff, checked_timeline, timeline_key

router = Router(prefix="/v1/cases/{case_id}", tags=["history"])


@router.get("/timeline", response_model=TimelinePage, responses=read("The timeline"))
def timeline(
    case_id: UUID, caller: ReaderDep, runtime: RuntimeDep, paging: PagingDep
) -> dict[str, Any]:
    """Every event of the case and its client in recording order, with a one-line summary;
    entries marked in error, late entries and addenda are flagged. A long case comes in
    pages. `integrity` names versions of either stream missing around the page: events
    deleted in the database behind the service."""
    found = checked_timeline(runtime.records, caller.actor, case_id)
    rows, integrity = found.page(paging.after(Key), paging.limit)
    reveal(runtime, caller, "read_timeline", [subject(runtime, caller, case_id)])
    total = len(found.entries)
    return paging.page(rows, timeline_key, case_id=case_id, total=total, integrity=integrity)


@router.get("/as-of", response_model=CaseAsOfOut, responses=read("The case at that moment"))
def as_of(
    case_id: UUID,
    caller: ReaderDep,
    runtime: RuntimeDep,
    as_of: AtQuery = None,
    effective_at: AtQuery = None,
) -> dict[str, Any]:
    """`as_of`: what the agency knew then (events recorded up to it). `effective_at`: what
    was in effect then, as known now. Both: what was known at `as_of` about `effective_at`."""
    case = case_as_of(
        runtime.records, caller.actor, case_id, recorded_at=as_of, effective_at=effective_at
    )
    reveal(runtime, caller, "read_case_as_of", [Subject(case["client_id"], case_id)])
    return case


@router.get("/diff", response_model=CaseDiffOut, responses=read("What changed"))
def diff(
    case_id: UUID,
    caller: ReaderDep,
    runtime: RuntimeDep,
    t1: Annotated[Moment, Query(description="From (ISO 8601 with an offset)")],
    t2: Annotated[Moment, Query(description="To (ISO 8601 with an offset)")],
    axis: Literal["recorded", "effective"] = "recorded",
) -> dict[str, Any]:
    """Each field that changed between `t1` and `t2` and the events in between."""
    changes = case_diff(runtime.records, caller.actor, case_id, t1=t1, t2=t2, axis=axis)
    reveal(runtime, caller, "read_case_diff", [subject(runtime, caller, case_id)])
    return changes


def subject(runtime: Runtime, caller: Caller, case_id: UUID) -> Subject:
    return Subject(runtime.records.client_of_case(caller.actor, case_id), case_id)
