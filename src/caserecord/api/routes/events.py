"""The event feed, so API clients can build their own views of their agency's records."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from caserecord.access import Subject
from caserecord.api.deps import MAX_POSITION, Caller, LimitDep, ReaderDep, RuntimeDep, reveal
from caserecord.api.feed import agency_events
from caserecord.api.openapi import LIST
from caserecord.api.schemas import EventPage
from caserecord.application import CaseRecords

router = APIRouter(tags=["events"])


@router.get("/v1/events", response_model=EventPage, responses=LIST)
def event_feed(
    caller: ReaderDep,
    runtime: RuntimeDep,
    limit: LimitDep,
    after: Annotated[
        int, Query(ge=0, le=MAX_POSITION, description="Position to continue after")
    ] = 0,
) -> dict[str, Any]:
    """Events of the caller's agency in recording order; pass `next_after` to go on."""
    records = runtime.records
    events, cursor, has_more = agency_events(records, caller.agency_id, after=after, limit=limit)
    reveal(runtime, caller, "read_events", subjects(records, caller, events))
    return {"events": events, "next_after": cursor, "has_more": has_more}


def subjects(records: CaseRecords, caller: Caller, events: list[dict[str, Any]]) -> list[Subject]:
    """One access-log subject per client or case whose events the page reveals."""
    found: dict[UUID, Subject] = {}
    for e in events:
        stream = UUID(str(e["stream_id"]))
        if stream in found:
            continue
        if e["topic"].startswith("caserecord.domain.client:"):
            found[stream] = Subject(stream)
        else:
            found[stream] = Subject(records.client_of_case(caller.actor, stream), stream)
    return list(found.values())
