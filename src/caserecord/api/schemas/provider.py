"""Bodies of the provider's routes: its referral inbox and its answers."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from caserecord.api.schemas.common import Page, WriteOptions
from caserecord.domain.values import DeclineReason, ReferralOutcome


class ProviderReferralOut(BaseModel):
    """What the referral shares with the provider it is sent to: never the case, the
    client's record or notes (minimum necessary)."""

    referral_id: str
    organization_id: str
    organisation: str
    service_id: str
    service_name: str
    resource_kind: str
    need: str
    urgency: str
    status: str = Field(description="As written, or `expired` (derived from `respond_by`)")
    made_at: datetime
    respond_by: date | None
    accepted_at: datetime | None
    closed_at: datetime | None
    outcome: str
    reason_code: str
    contact: dict[str, str] = Field(
        description="The client's contact details the case manager chose to share (phone, "
        "email, preferred_contact); empty if none"
    )


class ProviderReferralPage(Page[ProviderReferralOut]):
    """The referrals sent to the provider's organisation, in the order they were made."""


class ProviderStatusIn(WriteOptions):
    status: Literal["received", "accepted", "waitlisted", "declined", "in_progress", "completed"]
    outcome: ReferralOutcome | None = Field(default=None, description="With `completed` only")
    reason_code: DeclineReason | None = Field(default=None, description="With `declined` only")
    note: str = Field(
        default="",
        max_length=2_000,
        description="A word with the answer (the reason of a decline for `other`)",
    )
