"""Bodies of the referral routes: a referral, its steps, and the referral lists."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from caserecord.api.schemas.common import (
    AsOfOut,
    ChangeOut,
    CommandOut,
    IsoDate,
    Page,
    ReasonedWrite,
    Redactable,
    WriteOptions,
    rule_broken,
)
from caserecord.api.schemas.consents import (
    BASIS_DESCRIPTION,
    DisclosureOut,
    Exception_,
    Label,
)
from caserecord.api.schemas.notes import NoteOut
from caserecord.domain.consent import Purpose
from caserecord.domain.values import (
    DeclinedBy,
    DeclineReason,
    ReferralNeed,
    ReferralOutcome,
    ResourceKind,
    Urgency,
)


class ReferralIn(WriteOptions):
    resource_kind: ResourceKind
    organisation: str = Field(
        default="",
        max_length=200,
        description="Required unless `service_id` names a service of the agency's directory "
        "(its organisation then): without `service_id`, blank is 422 `validation_failed`",
    )
    service_name: str = Field(
        default="",
        max_length=200,
        description="Required unless `service_id` names a service of the agency's directory: "
        "without `service_id`, blank is 422 `validation_failed`",
    )
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
    organization_id: str = Field(
        default="",
        max_length=100,
        description="The directory organisation it is sent to: its provider tokens see "
        "it in their inbox and answer it",
    )
    service_id: str = Field(
        default="",
        max_length=100,
        description="The directory service: once the agency's directory lists a service, an "
        "active one of it (422 `directory_service_not_found`, 409 `directory_service_inactive`), "
        "whose organisation, name and response standard fill in what is not given",
    )
    need: ReferralNeed | Literal[""] = Field(default="", description="The need it serves")
    goal_id: str = Field(default="", max_length=100, description="The goal it serves")
    rerouted_from: str = Field(
        default="",
        max_length=100,
        description="A declined or expired referral of the case this one takes the place of",
    )
    share_contact: list[Literal["phone", "email"]] = Field(
        default=[],
        max_length=2,
        description="The client's contact details the provider is given (none unless "
        "chosen): as the client's record holds them now; one it does not hold is refused",
    )
    preferred_contact: str = Field(
        default="",
        max_length=200,
        description="How and when the client prefers to be reached, given to the provider",
    )

    @model_validator(mode="after")
    def named(self) -> "ReferralIn":
        if self.service_id:
            return self
        blank = [f for f in ("organisation", "service_name") if not getattr(self, f).strip()]
        if blank:
            raise rule_broken(
                "organisation and service_name are required without a service_id", *blank
            )
        return self


class ReferralMadeOut(CommandOut):
    disclosure: DisclosureOut | None = Field(
        description="What the referral disclosed, on what basis, and the notice to send "
        "with it (null for an internal referral)"
    )


class ReferralStepIn(WriteOptions):
    pass


class ReferralDeclineIn(ReasonedWrite):
    declined_by: DeclinedBy
    reason_code: DeclineReason = DeclineReason.OTHER


class ReferralWithdrawalIn(ReasonedWrite):
    pass


class ReferralCompletionIn(WriteOptions):
    outcome: ReferralOutcome
    note: str = Field(default="", max_length=2_000)


class ReferralOut(BaseModel):
    referral_id: str
    status: str = Field(description="As written, or `expired` (derived from `respond_by`)")
    resource_kind: str
    organisation: str
    service_name: str
    referral_reason: str
    urgency: str
    respond_by: date | None
    made_in_version: int
    effective_at: datetime
    recorded_at: datetime
    organization_id: str
    service_id: str
    need: str
    goal_id: str
    rerouted_from: str
    rerouted_to: str
    outcome: str
    declined_by: str
    reason_code: str
    contact: dict[str, str] = Field(
        default={},
        description="The client's contact details shared with the provider (phone, email, "
        "preferred_contact), as chosen when it was made",
    )
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


class ReferralRow(Redactable):
    referral_id: str
    case_id: UUID
    client_id: UUID
    agency_id: str
    organisation: str
    service_name: str
    organization_id: str
    service_id: str
    need: str
    goal_id: str
    resource_kind: str
    urgency: str
    status: str = Field(description="As written, or `expired` (derived from `respond_by`)")
    made_at: datetime
    respond_by: date | None
    accepted_at: datetime | None
    closed_at: datetime | None
    outcome: str
    declined_by: str
    reason_code: str
    rerouted_from: str
    rerouted_to: str
    days_open: int
    overdue: bool = Field(description="Expired: awaiting an answer past `respond_by`")
    case_version: int


class ReferralRowPage(Page[ReferralRow]):
    """Referrals in the order they were made."""


class OutcomeRow(BaseModel):
    """Referrals of one organisation and resource kind, counted by status."""

    organisation: str
    resource_kind: str
    total: int
    sent: int
    received: int
    accepted: int
    waitlisted: int
    declined: int
    in_progress: int
    completed: int
    withdrawn: int
    pending: int = Field(description="The same as `sent` (its former name)")


class OutcomePage(Page[OutcomeRow]):
    """By organisation, then resource kind."""


class OutcomeCounts(BaseModel):
    need_met: int
    partly_met: int
    not_met: int
    client_did_not_attend: int
    not_coded: int = Field(description="Completions recorded before outcomes were coded")


class ReferralStats(BaseModel):
    referrals: int
    accepted: int = Field(description="Referrals ever accepted (the move not marked in error)")
    completed: int
    median_days_to_accept: float | None = Field(
        description="From made to accepted, in days, over effective times; null if none"
    )
    median_days_to_complete: float | None
    outcomes: OutcomeCounts


class ServiceStats(ReferralStats):
    organization_id: str
    organisation: str
    service_id: str
    service_name: str


class NeedStats(ReferralStats):
    need: str


class ServiceStatsOut(Page[ServiceStats]):
    """One row per organisation and service the agency referred to, by organisation id,
    organisation, service id, service name."""


class NeedStatsOut(Page[NeedStats]):
    """One row per need served, by need."""
