"""Bodies of the caseload route."""

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel

from caserecord.api.schemas.common import Page


class CaseloadRow(BaseModel):
    case_id: UUID
    client_id: UUID
    agency_id: str
    client_name: str
    given_name: str
    family_name: str
    specialty: str
    case_manager_id: str
    status: str
    opened_at: datetime
    last_contact_at: datetime | None
    plan_status: str | None
    next_review_on: date | None
    review_overdue: bool
    open_referrals: int
    case_version: int


class CaseloadPage(Page[CaseloadRow]):
    """Open cases in the order of `sort`."""
