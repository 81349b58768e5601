"""Compliance: hash-chain verification of a case, the audit trail and the quarantine."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import Query

from caserecord.access import listed_subjects
from caserecord.api.deps import AuditorDep, EventTypeQuery, RuntimeDep, ViewsDep, reveal
from caserecord.api.openapi import LIST, read
from caserecord.api.paging import PagingDep
from caserecord.api.routing import Router
from caserecord.api.schemas.audit import AuditPage, CaseVerificationOut, QuarantinePage
from caserecord.api.schemas.common import Moment

router = Router(tags=["compliance"])


@router.get(
    "/v1/cases/{case_id}/verification",
    response_model=CaseVerificationOut,
    responses=read("The hash-chain check of the case's and its client's streams"),
)
def verify_case(case_id: UUID, caller: AuditorDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Recompute the hash chains from the stored records: any edit, deletion or swap shows.

    The case is never loaded, so a tampered case answers 200 with `ok` false, naming the
    stream, the first bad version and the problem.  Whose case it is comes from its first
    stored event while that event matches its chain link; see docs/tamper-evidence.md.
    `checkpoint` names the newest signed checkpoint that covers the case, if configured."""
    streams = runtime.records.verify_case(caller.actor, case_id)
    settings = runtime.settings
    covered = runtime.records.checkpoint_coverage(
        streams, settings.checkpoint_dir, settings.checkpoint_public_key
    )
    return {
        "case_id": case_id,
        "ok": all(s.ok for s in streams) and covered["ok"],
        "streams": [vars(s) for s in streams],
        "checkpoint": covered,
    }


@router.get("/v1/audit-trail", response_model=AuditPage, responses=LIST)
def audit_trail(
    caller: AuditorDep,
    views: ViewsDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    case_id: UUID | None = None,
    client_id: UUID | None = None,
    actor_id: Annotated[str | None, Query(max_length=200, description="`actor.id`")] = None,
    event_type: EventTypeQuery = None,
    recorded_since: Annotated[Moment | None, Query(description="`recorded_at` from")] = None,
    recorded_until: Annotated[Moment | None, Query(description="`recorded_at` up to")] = None,
) -> dict[str, Any]:
    """Who recorded what and when, one row per event in recording order, with its chain
    hash."""
    rows = views.audit_trail(
        caller.agency_id,
        case_id=case_id,
        client_id=client_id,
        actor_id=actor_id,
        event_type=event_type,
        since=recorded_since,
        until=recorded_until,
        after=paging.after(int),
        limit=paging.fetch,
    )
    page = paging.page(runtime.records.audit_rows(caller.actor, rows), lambda r: r["position"])
    reveal(runtime, caller, "read_audit_trail", listed_subjects(page["items"]))
    return page


@router.get("/v1/quarantine", response_model=QuarantinePage, responses=LIST)
def quarantine(caller: AuditorDep, runtime: RuntimeDep, paging: PagingDep) -> dict[str, Any]:
    """The agency's streams the read models stopped applying at an event they could not
    apply (damaged or missing from the store), one row per view and stream."""
    after = paging.after(tuple[int, str])
    found = [
        vars(q)
        for q in runtime.records.quarantined_streams(caller.agency_id)
        if after is None or (q.position, q.view) > tuple(after)
    ]
    # Stream ids and where they broke, no client's data: nothing for the access log.
    return paging.page(found[: paging.fetch], lambda q: (q["position"], q["view"]))
