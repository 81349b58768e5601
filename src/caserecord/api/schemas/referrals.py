"""Bodies of the referral routes: a referral, its steps, and the referral lists."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from caserecord.api.schemas.common import (
    AsOfOut,
    ChangeOut,
    CommandOut,
    IsoDate,
    Name,
    Page,
    ReasonedWrite,
    WriteOptions,
)
from caserecord.api.schemas.consents import (
    BASIS_DESCRIPTION,
    DisclosureOut,
    Exception_,
    Label,
)
from caserecord.api.schemas.notes import NoteOut
from caserecord.domain.consent import Purpose
from caserecord.domain.values import DeclinedBy, ResourceKind, Urgency


class ReferralIn(WriteOptions):
    resource_kind: ResourceKind
    organisation: str = Name
    service_name: str = Name
    referral_reason: str = Field(default="", max_length=2_000)
    urgency: Urgency = Urgency.ROUTINE
    respond_by: IsoDate | None = None
    internal: bool = Field(
        default=False,
        description="The organisation is part of the agency: nothing leaves, nothing is "
        "disclosed. Otherwise the referral discloses the case and records it on the client",
    )
    purpose: Purpose | None = Field(
        default=None, description="Why it is disclosed; from `resource_kind` if absent"
    )
    shares: list[Label] | None = Field(
        default=None,
        max_length=10,
        description="The classes it shares; the case's labelled classes if absent (the "
        "case's own labels, from its specialty, always)",
    )
    basis: Literal["consent"] | Exception_ | None = Field(
        default=None, description=BASIS_DESCRIPTION
    )
    consent_id: str = Field(default="", max_length=100)
    order_reference: str = Field(default="", max_length=200)


class ReferralMadeOut(CommandOut):
    disclosure: DisclosureOut | None = Field(
        description="What the referral disclosed, on what basis, and the notice to send "
        "with it (null for an internal referral)"
    )


class ReferralStepIn(WriteOptions):
    pass


class ReferralDeclineIn(ReasonedWrite):
    declined_by: DeclinedBy


class ReferralWithdrawalIn(ReasonedWrite):
    pass


class ReferralCompletionIn(WriteOptions):
    outcome: str = Field(min_length=1, max_length=2_000)


class ReferralOut(BaseModel):
    referral_id: str
    status: str
    resource_kind: str
    organisation: str
    service_name: str
    referral_reason: str
    urgency: str
    respond_by: date | None
    made_in_version: int
    effective_at: datetime
    recorded_at: datetime
    outcome: str
    declined_by: str
    status_history: list[ChangeOut]
    labels: list[str] = Field(default=[], description="Its sensitivity labels")
    restricted: bool = Field(
        default=False,
        description="A placeholder: the entry exists but the reader may not read it (need to know)",
    )


class ReferralPageOut(ReferralOut):
    notes: list[NoteOut] = Field(
        description="The latest 20 notes standing that concern it (`goal_ids` / "
        "`referral_ids` of a note), newest first"
    )


class ReferralPage(Page[ReferralOut]):
    case_id: UUID
    referral_count: int = Field(description="Referrals standing (not marked in error)")
    as_of: AsOfOut | None = None


class ReferralRow(BaseModel):
    referral_id: str
    case_id: UUID
    client_id: UUID
    agency_id: str
    organisation: str
    service_name: str
    resource_kind: str
    urgency: str
    status: str
    made_at: datetime
    respond_by: date | None
    closed_at: datetime | None
    outcome: str
    declined_by: str
    days_open: int
    overdue: bool
    case_version: int


class ReferralRowPage(Page[ReferralRow]):
    """Referrals in the order they were made."""


class OutcomeRow(BaseModel):
    """Referrals of one organisation and resource kind, counted by status."""

    organisation: str
    resource_kind: str
    total: int
    pending: int
    accepted: int
    declined: int
    completed: int
    withdrawn: int


class OutcomePage(Page[OutcomeRow]):
    """By organisation, then resource kind."""
