"""Bodies of the case routes: intake, assessments, prior treatment, assignment, closure,
reopening, corrections, and the case itself."""

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from caserecord.api.schemas.benefits import BenefitApplicationOut
from caserecord.api.schemas.common import (
    Body,
    ChangeOut,
    CommandOut,
    IsoDate,
    Name,
    ReasonedWrite,
    Text,
    WriteOptions,
    finite_or_none,
)
from caserecord.api.schemas.consents import DisclosureOut
from caserecord.api.schemas.notes import NoteOut
from caserecord.api.schemas.plans import PlanOut
from caserecord.api.schemas.referrals import ReferralOut
from caserecord.api.schemas.tasks import TaskOut
from caserecord.api.schemas.team import CareTeamMemberOut, TransferOut
from caserecord.domain.values import (
    DischargeReason,
    NeedDomain,
    NeedLevel,
    ReferralSettlement,
    Specialty,
)


class CaseIntake(WriteOptions):
    client_id: UUID
    specialty: Specialty
    referral_source: str = Field(default="", max_length=500)
    presenting_needs: list[str] = Field(default_factory=list, max_length=50)
    interview_summary: str = Text
    case_manager_id: str = Name
    waitlisted: bool = Field(
        default=False,
        description="The intake is done but service cannot start yet: the case opens "
        "waitlisted (`POST /v1/cases/{id}/service-start` starts it)",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "client_id": "9b2f7f0e-7d4a-4a4b-9a55-2f3f6a1c0b11",
                    "specialty": "substance_abuse",
                    "referral_source": "county court",
                    "presenting_needs": ["alcohol use", "housing instability"],
                    "interview_summary": "Client requests help with sobriety and housing.",
                    "case_manager_id": "worker-1",
                }
            ]
        },
    )


class NeedRating(Body):
    domain: NeedDomain
    level: NeedLevel
    notes: str = Text
    instrument: str = Field(default="", max_length=200)
    score: float | None = None


class AssessmentIn(WriteOptions):
    assessments: list[NeedRating] = Field(min_length=1, max_length=20)


class PriorTreatmentIn(WriteOptions):
    treatment: str = Name
    provider: str = Field(default="", max_length=200)
    started_on: IsoDate | None = None
    ended_on: IsoDate | None = None
    outcome: str = Text
    effectiveness: int = Field(ge=1, le=5, description="1 (none) to 5 (high)")
    notes: str = Text


class AssignmentIn(ReasonedWrite):
    case_manager_id: str = Name


class ReferralSettlementIn(Body):
    settlement: ReferralSettlement
    reason: str = Field(
        default="", max_length=2_000, description="Why; the closing's reason if left out"
    )


class ClosureIn(ReasonedWrite):
    """Closing settles the case's open items: each open referral as `referrals` says
    (withdrawn, or left open with a reason), and each open task is cancelled. A pending or
    accepted referral not named refuses the closing (409 `open_items_on_closing`)."""

    outcome: str = Field(min_length=1, max_length=2_000)
    discharge_reason: DischargeReason | None = Field(
        default=None,
        description="Why the client is discharged (`other` needs `discharge_detail`); "
        "left out, the closure does not say",
    )
    discharge_detail: str = Field(default="", max_length=2_000)
    aftercare_plan: str = Field(default="", max_length=10_000)
    follow_up_on: IsoDate | None = Field(
        default=None, description="When aftercare is followed up (needs `aftercare_plan`)"
    )
    referrals: dict[str, ReferralSettlementIn] = Field(
        default_factory=dict, max_length=500, description="Referral id -> its settlement"
    )

    def values(self) -> dict[str, Any]:
        found = super().values()
        found["discharge_reason"] = found["discharge_reason"] or ""
        return found


class HoldIn(ReasonedWrite):
    until: IsoDate | None = Field(default=None, description="When the hold is expected to end")


class BreakGlassIn(ReasonedWrite):
    minutes: int = Field(
        default=30, ge=1, le=240, description="How long the read lasts, from now (1 to 240)"
    )


class LifecycleIn(WriteOptions):
    pass


class ReopenIn(ReasonedWrite):
    pass


class CorrectionIn(ReasonedWrite):
    target_version: int = Field(ge=1, description="The case version (event) recorded in error")


class AssessmentOut(BaseModel):
    version: int
    domain: str
    level: str
    notes: str
    instrument: str
    score: Annotated[float | None, AfterValidator(finite_or_none)] = Field(
        description="null also for a stored value that is not a finite number"
    )
    labels: list[str] = Field(default=[], description="Its sensitivity labels")
    restricted: bool = Field(
        default=False,
        description="A placeholder: the entry exists but the reader may not read it (need to know)",
    )


class PriorTreatmentOut(BaseModel):
    version: int
    treatment: str
    provider: str
    started_on: date | None
    ended_on: date | None
    outcome: str
    effectiveness: int
    notes: str
    labels: list[str] = Field(default=[], description="Its sensitivity labels")
    restricted: bool = Field(
        default=False,
        description="A placeholder: the entry exists but the reader may not read it (need to know)",
    )


class AssessmentEntryOut(BaseModel):
    version: int = Field(description="The case version that recorded the assessment")
    assessments: list[AssessmentOut]


class SafetyFlagOut(BaseModel):
    """A safety flag an administration raised, due for the case manager until reviewed."""

    version: int = Field(description="The administration's case version")
    instrument: str
    flags: list[str]
    reviewed_in: int | None
    in_error: bool
    labels: list[str] = Field(default=[], description="Its sensitivity labels")
    restricted: bool = Field(
        default=False,
        description="A placeholder: the entry exists but the reader may not read it (need to know)",
    )


class CaseOut(BaseModel):
    id: UUID
    version: int
    client_id: UUID
    agency_id: str
    specialty: str
    status: str = Field(description="waitlisted, open, on_hold or closed")
    status_details: dict[str, Any] = Field(
        description="What the latest status change recorded: a hold's reason and `until`, "
        "a closure's outcome, discharge reason and aftercare plan"
    )
    case_manager_id: str
    referral_source: str
    presenting_needs: list[str]
    interview_summary: str
    opened_at: datetime
    modified_at: datetime
    status_history: list[ChangeOut]
    assignments: list[ChangeOut]
    assessments: list[AssessmentOut]
    prior_treatments: list[PriorTreatmentOut]
    current_plan: PlanOut | None
    plans: list[PlanOut]
    referrals: list[ReferralOut] = Field(
        description="The latest 20 standing, oldest first; all of them: "
        "GET /v1/cases/{id}/referrals"
    )
    referral_count: int = Field(
        description="Referrals standing (not marked in error); all of them: "
        "GET /v1/cases/{id}/referrals"
    )
    notes: list[NoteOut] = Field(
        description="The latest notes, oldest first; all of them: GET /v1/cases/{id}/notes"
    )
    note_count: int = Field(description="Notes standing (not marked in error)")
    tasks: list[TaskOut] = Field(
        default_factory=list,
        description="The latest 20 tasks, oldest first; all of them: GET /v1/cases/{id}/tasks",
    )
    task_count: int = Field(default=0, description="Tasks standing (not marked in error)")
    benefit_applications: list[BenefitApplicationOut] = Field(
        default=[], description="Every benefits application, in the order they were started"
    )
    care_team: list[CareTeamMemberOut] = Field(
        default=[], description="Every member, ended ones too, in the order they were added"
    )
    transfers: list[TransferOut] = Field(default=[], description="Oldest first")
    pending_transfer: TransferOut | None = Field(
        default=None, description="A transfer awaiting the receiver's answer"
    )
    entries_in_error: dict[int, int] = Field(
        description="Case version marked in error -> the version that marked it"
    )
    labels: list[str] = Field(
        default=[],
        description="Sensitivity labels of the case's standing entries: what it discloses",
    )
    default_labels: list[str] = Field(
        default=[], description="What every entry carries unless relabelled (the specialty's)"
    )
    entry_labels: dict[int, list[str]] = Field(
        default={},
        description="Case version -> its labels, for entries labelled otherwise than the "
        "default (a note's own labels, `EntryRelabelled`)",
    )
    restricted: bool = Field(
        default=False, description="Some of it is shown as placeholders (need to know)"
    )
    read_basis: str | None = Field(
        default=None,
        description="Why the reader may read it: own_case, care_team, supervisor, reviewer, "
        "break_glass or other (labelled entries as placeholders)",
    )
    safety_flags: list[SafetyFlagOut] = Field(
        default_factory=list,
        description="Safety flags not yet reviewed (PHQ-9 item 9): due for the case manager; "
        "POST /v1/cases/{id}/safety-flags/{flag_version}/review",
    )


class CaseExportOut(CommandOut):
    """`id` and `version`: the client record that holds the disclosure; `entity_id`: the
    disclosure."""

    disclosure: DisclosureOut
    case: CaseOut = Field(
        description="The case as disclosed: at the version the disclosure names, without "
        "the entries it withheld"
    )
    withheld: list[int] = Field(
        default=[],
        description="Case versions withheld (labelled outside `shares`, or not read in full "
        "by the exporting user); the disclosure lists the others",
    )
