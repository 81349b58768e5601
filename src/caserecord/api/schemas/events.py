"""Bodies of the event feed."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

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


class EventPage(Page[EventOut]):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [], "next": None, "resume": "MTIwMA"}]}
    )

    resume: str = Field(
        description="Pass as `cursor` later to follow events recorded after this page"
    )
