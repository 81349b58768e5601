"""Bodies of the compliance routes: the audit trail and the hash-chain verification."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from caserecord.api.schemas.common import ActorOut, Page, StreamKind


class AuditRow(BaseModel):
    """One recorded event, with the timeline's field names."""

    position: int
    stream_id: UUID
    stream_kind: StreamKind
    version: int
    case_id: UUID | None
    client_id: UUID | None
    agency_id: str
    event_type: str
    recorded_at: datetime
    effective_at: datetime
    actor: ActorOut
    summary: str
    reason: str
    correlation_id: str
    late: bool = Field(description="Took effect before it was recorded")
    in_error: bool
    marked_in_error_by: int | None = Field(
        description="Version of the entry that marked this one in error (same stream)"
    )
    target_version: int | None = Field(description="The version an in-error marking names")
    hash: str | None
    labels: list[str] = Field(
        description="Sensitivity labels of the entry now, with those of the entry it is about"
    )
    restricted: bool = Field(
        description="The reader may not read the entry: its summary is the event type, "
        "its reason blank"
    )


class AuditPage(Page[AuditRow]):
    """In recording order (position)."""


class VerificationOut(BaseModel):
    stream_id: str
    ok: bool
    versions_checked: int
    head_hash: str
    first_bad_version: int | None
    problem: str


class StreamCoverageOut(BaseModel):
    stream_id: str
    signed_version: int | None = Field(description="The stream's head in the checkpoint")
    versions: int = Field(description="Versions stored now")
    ok: bool = Field(description="The stream checks against the checkpoint as `chain check`")
    message: str


class CheckpointCoverageOut(BaseModel):
    """Which signed tree head covers the case: the newest checkpoint in
    CASERECORD_CHECKPOINT_DIR that verifies with CASERECORD_CHECKPOINT_PUBLIC_KEY."""

    status: Literal[
        "covered",
        "partly_covered",
        "not_covered",
        "mismatch",
        "none",
        "not_configured",
        "unavailable",
    ]
    ok: bool = Field(description="False only when the records contradict the checkpoint")
    message: str
    checkpoint: str | None = Field(description="The checkpoint's file name")
    issued_at: str | None
    tree_size: int | None = Field(description="Events in the log's tree it signed")
    rejected: int = Field(description="Checkpoint files whose signature does not verify")
    streams: list[StreamCoverageOut]


class CaseVerificationOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "3f2c1a9e-8d7b-4c6a-9e5f-1b2a3c4d5e6f",
                    "ok": True,
                    "streams": [],
                    "checkpoint": {
                        "status": "not_configured",
                        "ok": True,
                        "message": "No checkpoints are configured",
                        "checkpoint": None,
                        "issued_at": None,
                        "tree_size": None,
                        "rejected": 0,
                        "streams": [],
                    },
                }
            ]
        }
    )

    case_id: UUID
    ok: bool
    streams: list[VerificationOut]
    checkpoint: CheckpointCoverageOut


class QuarantinedOut(BaseModel):
    """A stream one read model stopped applying at a damaged event: the view keeps the
    record's rows as they stood before it, and the case answers 500 `record_incomplete`."""

    stream_id: str
    view: str = Field(description="The read model that stopped applying the stream")
    version: int = Field(description="The first event of the stream it could not apply")
    position: int = Field(description="That event's position in the log")
    problem: str
    quarantined_at: datetime


class QuarantinePage(Page[QuarantinedOut]):
    """In log order (position, then view)."""
