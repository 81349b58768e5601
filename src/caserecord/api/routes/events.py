"""The event feed, so API clients can build their own views of their agency's records."""

from typing import Annotated, Any
from uuid import UUID

from pydantic import Field

from caserecord.access import Subject
from caserecord.api.deps import Caller, ReaderDep, RuntimeDep, reveal
from caserecord.api.feed import agency_events
from caserecord.api.openapi import LIST
from caserecord.api.paging import PagingDep, encode
from caserecord.api.routing import Router
from caserecord.api.schemas.events import EventPage
from caserecord.application import CaseRecords

router = Router(tags=["events"])


@router.get("/v1/events", response_model=EventPage, responses=LIST)
def event_feed(caller: ReaderDep, runtime: RuntimeDep, paging: PagingDep) -> dict[str, Any]:
    """Events of the caller's agency in recording order. `next` is null once the page
    holds all there are; `resume` is where to continue later, when more were recorded.
    `integrity.intact` is false when rows of the agency's feed index are missing or altered
    around the page's events (see docs/tamper-evidence.md)."""
    records = runtime.records
    after = paging.after(Annotated[int, Field(ge=0)]) or 0
    events, position, has_more, integrity = agency_events(
        records, caller.agency_id, after=after, limit=paging.limit
    )
    events = records.events_as_read(caller.actor, events)
    reveal(runtime, caller, "read_events", subjects(records, caller, events))
    cursor = encode(position)
    return paging.answer(
        events, cursor if has_more else None, resume=cursor, integrity=integrity.as_dict()
    )


def subjects(records: CaseRecords, caller: Caller, events: list[dict[str, Any]]) -> list[Subject]:
    """One access-log subject per client or case whose events the page reveals."""
    found: dict[UUID, Subject] = {}
    for e in events:
        stream = UUID(str(e["stream_id"]))
        if stream in found:
            continue
        if e["topic"].startswith("caserecord.domain.client:"):
            found[stream] = Subject(stream)
        elif e["topic"].startswith("caserecord.domain.case:"):
            found[stream] = Subject(records.client_of_case(caller.actor, stream), stream)
        # Other streams (the agency's instrument registry) are about no client.
    return list(found.values())
