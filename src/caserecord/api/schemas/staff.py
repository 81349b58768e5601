"""Bodies of the staff directory and of ``GET /v1/me``."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from caserecord.api.schemas.common import Name, Page, ReasonedWrite, WriteOptions
from caserecord.domain.values import StaffRole

StaffId = Field(
    min_length=1,
    max_length=100,
    pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$",
    description='Chosen by the admin, e.g. "cm-alice"; letters, digits and . _ @ -',
)
CaseloadLimit = Field(default=None, ge=0, le=100_000, description="Open cases at most; none")


class StaffIn(WriteOptions):
    staff_id: str = StaffId
    name: str = Name
    role: StaffRole
    caseload_limit: int | None = CaseloadLimit


class StaffUpdateIn(WriteOptions):
    """The member's details as they are now (all three, as a form holds them)."""

    name: str = Name
    role: StaffRole
    caseload_limit: int | None = CaseloadLimit


class StaffStatusIn(ReasonedWrite):
    pass


STAFF_EXAMPLE: dict[str, Any] = {
    "staff_id": "cm-alice",
    "agency_id": "agency-a",
    "name": "Alice Moreno",
    "role": "case_manager",
    "active": True,
    "caseload_limit": 25,
    "version": 1,
    "added_at": "2026-11-27T09:00:00Z",
    "updated_at": "2026-11-27T09:00:00Z",
}


class StaffOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [STAFF_EXAMPLE]})

    staff_id: str
    agency_id: str
    name: str
    role: str
    active: bool
    caseload_limit: int | None
    version: int
    added_at: datetime
    updated_at: datetime


class StaffPage(Page[StaffOut]):
    """In the order they were added."""


class MeOut(BaseModel):
    """Who the caller is: the token, and the staff member it acts for."""

    actor_id: str = Field(description="What events and the access log record as the actor")
    role: str = Field(description="The token's role: what the caller may do")
    agency_id: str
    token_id: str
    token_name: str
    service_account: bool
    staff: StaffOut | None = Field(
        description="The staff member acted for; null for a token that names none (an "
        "admin's, or any token before its agency has a staff directory)"
    )
