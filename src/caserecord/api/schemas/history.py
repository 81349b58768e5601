"""Bodies of the history routes: the timeline, a case "as of" a moment, and a diff."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from caserecord.api.schemas.cases import CaseOut
from caserecord.api.schemas.common import ActorOut, AsOfOut, Page, StreamKind


class CaseAsOfOut(CaseOut):
    as_of: AsOfOut


class AddendumRef(BaseModel):
    note_id: str
    note_version: int | None


class TimelineEntry(BaseModel):
    """One event of a case or its client, with the audit trail's field names."""

    stream_id: UUID
    stream_kind: StreamKind
    version: int
    event_type: str
    topic: str
    recorded_at: datetime
    effective_at: datetime
    actor: ActorOut
    reason: str
    correlation_id: str
    summary: str
    late: bool = Field(description="Took effect before it was recorded")
    in_error: bool
    marked_in_error_by: int | None = Field(
        description="Version of the entry that marked this one in error (same stream)"
    )
    addendum_to: AddendumRef | None
    data: dict[str, Any]
    labels: list[str] = Field(default=[], description="Its sensitivity labels")
    restricted: bool = Field(
        default=False,
        description="A placeholder: what it recorded is not for this reader (need to know)",
    )


class FieldChange(BaseModel):
    path: str = Field(description="Dotted path; list items by id in brackets")
    before: Any
    after: Any


class CaseDiffOut(BaseModel):
    case_id: UUID
    axis: str
    t1: datetime
    t2: datetime
    from_version: int
    to_version: int
    changes: list[FieldChange]
    events: list[TimelineEntry]


class TimelineGapOut(BaseModel):
    stream_id: UUID
    stream_kind: StreamKind
    first: int = Field(description="The first of the stream's versions missing here")
    last: int = Field(description="The last of them")


class TimelineIntegrityOut(BaseModel):
    intact: bool = Field(
        description="False when versions of the case's or its client's stream that no stored "
        "event holds fall between the entry before this page and the entry after it: events "
        "deleted in the database behind the service. Versions deleted from the end of a "
        "stream are named while its hash chain or Merkle tree leaves still name them; "
        "`caserecord verify --all` finds a tail cut with its leaves too"
    )
    missing: list[TimelineGapOut] = Field(
        default=[], description="Runs of versions of a stream that no stored event holds"
    )


class TimelinePage(Page[TimelineEntry]):
    case_id: UUID
    total: int = Field(description="Entries in the whole timeline")
    integrity: TimelineIntegrityOut = Field(
        description="Whether the case's and its client's streams are whole around this "
        "page's entries"
    )
