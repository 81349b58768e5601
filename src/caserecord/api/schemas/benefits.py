"""Bodies of the benefits application routes."""

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field

from caserecord.api.schemas.common import (
    AsOfOut,
    ChangeOut,
    IsoDate,
    Page,
    ReasonedWrite,
    Redactable,
    Text,
    WriteOptions,
)
from caserecord.domain.benefits import (
    AppealOutcome,
    AppointmentKind,
    AppointmentOutcome,
    AwardFrequency,
    BenefitProgram,
)

Document = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]


class BenefitApplicationIn(WriteOptions):
    program: BenefitProgram
    agency_name: str = Field(
        min_length=1, max_length=200, pattern=r"\S", description="The agency applied to"
    )
    submitted_on: IsoDate | None = Field(
        default=None, description="Submitted already (the day): recorded as submitted too"
    )
    expected_decision_on: IsoDate | None = Field(
        default=None,
        description="When a decision is due; by default the program's processing standard "
        "from submitted_on",
    )


class SubmissionIn(WriteOptions):
    submitted_on: IsoDate
    expected_decision_on: IsoDate | None = None


class DocumentsRequestIn(WriteOptions):
    documents: list[Document] = Field(min_length=1, max_length=50)
    due_on: IsoDate | None = None


class DocumentsProvidedIn(WriteOptions):
    provided_on: IsoDate


class AppointmentIn(WriteOptions):
    kind: AppointmentKind
    on: IsoDate
    location: str = Field(default="", max_length=200)


class AppointmentOutcomeIn(WriteOptions):
    outcome: AppointmentOutcome


class DecisionIn(WriteOptions):
    """`approved` with the award (amount, frequency, starts_on; ends_on and renews_on if
    known), or `denied` with the agency's `reason` (and `appeal_by`, the appeal deadline)."""

    decision: Literal["approved", "denied"]
    amount: float | None = Field(default=None, ge=0, le=1_000_000_000)
    frequency: AwardFrequency | None = None
    starts_on: IsoDate | None = None
    ends_on: IsoDate | None = None
    renews_on: IsoDate | None = None
    appeal_by: IsoDate | None = None

    def values(self) -> dict[str, Any]:
        values = super().values()
        values["frequency"] = values["frequency"] or ""
        return values


class AppealIn(WriteOptions):
    hearing_on: IsoDate | None = None


class AppealDecisionIn(WriteOptions):
    outcome: AppealOutcome = Field(
        description="reversed: the denial is set aside and the agency decides again "
        "(the application is submitted once more); upheld: the denial stands"
    )
    note: str = Text


class RenewalIn(WriteOptions):
    ends_on: IsoDate | None = Field(default=None, description="The renewed period's last day")
    renews_on: IsoDate | None = Field(default=None, description="The next renewal")


class WithdrawalIn(ReasonedWrite):
    pass


class StepInErrorIn(ReasonedWrite):
    target_version: int = Field(
        ge=1,
        description="The case version that recorded the step (its `version`, "
        "`provided_in`, `outcome_in` or a status change's `version`)",
    )


class DocumentRequestOut(Redactable):
    request_id: str
    version: int
    documents: list[str]
    due_on: date | None
    provided_in: int | None
    provided_on: date | None
    in_error: bool = Field(description="The request was marked entered in error")


class AppointmentOut(Redactable):
    appointment_id: str
    version: int
    kind: str
    on: date
    location: str
    outcome: str
    outcome_in: int | None
    in_error: bool = Field(description="The appointment was marked entered in error")


class BenefitApplicationOut(Redactable):
    application_id: str
    case_id: UUID
    program: str
    agency_name: str
    status: str = Field(description="started, submitted, approved, denied, appealed, withdrawn")
    submitted_on: date | None
    expected_decision_on: date | None
    decision: dict[str, Any] | None = Field(
        description="The latest decision: approved with amount, frequency and period, or "
        "denied with reason"
    )
    renews_on: date | None
    hearing_on: date | None
    documents: list[DocumentRequestOut]
    appointments: list[AppointmentOut]
    started_in_version: int
    status_history: list[ChangeOut]


class BenefitApplicationPage(Page[BenefitApplicationOut]):
    case_id: UUID
    application_count: int
    as_of: AsOfOut | None = None


class BenefitRowOut(Redactable):
    application_id: str
    case_id: UUID
    client_id: UUID
    program: str
    agency_name: str
    status: str
    started_at: str = Field(description="When it was started (effective time, UTC)")
    submitted_on: date | None
    expected_decision_on: date | None
    renews_on: date | None
    decision_overdue: bool = Field(description="Submitted and past its expected decision day")
    case_version: int


class BenefitRowPage(Page[BenefitRowOut]):
    pass
