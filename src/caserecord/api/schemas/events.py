"""Bodies of the event feed."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, computed_field

from caserecord.api.schemas.common import ActorOut, Page


class EventOut(BaseModel):
    position: int | None = None
    stream_id: UUID
    version: int
    type: str
    topic: str
    recorded_at: datetime
    effective_at: datetime
    actor: ActorOut
    reason: str
    correlation_id: str
    data: dict[str, Any]
    labels: list[str] = Field(default=[], description="Its sensitivity labels")
    restricted: bool = Field(
        default=False,
        description="A placeholder: what it recorded is not for this reader (need to know)",
    )

    # The audit trail and the timeline call it event_type; `type` stays for existing readers.
    @computed_field(description="The event's type, as the audit trail and timeline name it")  # type: ignore[prop-decorator]
    @property
    def event_type(self) -> str:
        return self.type


class FeedGapOut(BaseModel):
    first: int = Field(description="The first of the agency's feed numbers missing here")
    last: int = Field(description="The last of them")
    after_position: int | None = Field(
        description="The log position of the feed row before them (null: the feed's start)"
    )
    before_position: int = Field(description="The log position of the feed row after them")


class FeedIntegrityOut(BaseModel):
    intact: bool = Field(
        description="False when the agency's feed index lacks rows (numbers missing) or "
        "holds rows failing their MAC between the row before this page and the row after it: "
        "events of the agency may be missing from the page"
    )
    missing: list[FeedGapOut] = Field(
        default=[], description="Runs of the agency's feed numbers that no row holds"
    )
    left_out: int = Field(
        default=0, description="Feed-index rows left out because they fail their MAC"
    )


class EventPage(Page[EventOut]):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [],
                    "next": None,
                    "resume": "MTIwMA",
                    "integrity": {"intact": True, "missing": [], "left_out": 0},
                }
            ]
        }
    )

    resume: str = Field(
        description="Pass as `cursor` later to follow events recorded after this page"
    )
    integrity: FeedIntegrityOut = Field(
        description="Whether the agency's feed index is whole around this page's events"
    )
