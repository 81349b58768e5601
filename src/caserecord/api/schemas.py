"""Request and response bodies of the HTTP API, kept apart from the domain events."""

import math
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from caserecord.domain.errors import InvalidValueError
from caserecord.domain.values import (
    EARLIEST_BIRTH,
    Achievement,
    ContactKind,
    ContactMode,
    DeclinedBy,
    GoalLifecycle,
    NeedDomain,
    NeedLevel,
    Relationship,
    ResourceKind,
    Role,
    Specialty,
    Urgency,
    check_birth_date,
)

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})"
)


def iso_date(value: Any) -> Any:
    # pydantic would also take 0 or "0" as 1970-01-01: callers must say which day they mean.
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


def iso_moment(value: Any) -> Any:
    if isinstance(value, str) and ISO_MOMENT.fullmatch(value):
        return value
    if isinstance(value, datetime):
        return value
    raise ValueError("must be an ISO 8601 date and time with an offset, e.g. 2026-03-01T09:30Z")


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def in_range(value: datetime) -> datetime:
    """In UTC, and within years any record can mean (nearer the ends of the calendar an
    offset cannot even be converted, which would poison every later reader of the event)."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None
    if not EARLIEST <= utc < LATEST:
        raise ValueError("must be between 1900-01-01 and 2999-12-31 (UTC)")
    return utc


def finite_or_none(value: float | None) -> float | None:
    # A non-finite number stored by an older version is shown as unknown: JSON has no NaN.
    return value if value is None or math.isfinite(value) else None


def born(value: date) -> date:
    try:
        check_birth_date(value)
    except InvalidValueError:
        raise ValueError(
            f"must be from {EARLIEST_BIRTH.isoformat()} and not in the future"
        ) from None
    return value


# The limits are also declared as patterns on the years, so a client generated from the
# document (or a fuzzer) knows them; the validators say the exact bounds.
MOMENT_PATTERN = r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}"
BIRTH_PATTERN = r"^(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}$"

IsoDate = Annotated[date, BeforeValidator(iso_date)]
BirthDate = Annotated[
    date,
    BeforeValidator(iso_date),
    AfterValidator(born),
    Field(
        description="YYYY-MM-DD, from 1900-01-01 and not in the future",
        json_schema_extra={"pattern": BIRTH_PATTERN},
    ),
]
Moment = Annotated[
    AwareDatetime,
    BeforeValidator(iso_moment),
    AfterValidator(in_range),
    Field(
        description="ISO 8601 with an offset, from 1900-01-01 to 2999-12-31 (UTC)",
        json_schema_extra={"pattern": MOMENT_PATTERN},
    ),
]

Text = Field(default="", max_length=10_000)
Name = Field(min_length=1, max_length=200, pattern=r"\S")
Cadence = Literal["daily", "weekly", "fortnightly", "monthly", "as_needed"]


class Body(BaseModel):
    # Python's json reads NaN, Infinity and 1e400 (as infinity): none is a value a record
    # can hold, and JSON cannot carry it back out.
    model_config = ConfigDict(extra="forbid", use_enum_values=True, allow_inf_nan=False)

    @field_validator("*")
    @classmethod
    def no_nul_character(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL: one such event would stall every read model.
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("must not contain the NUL character (\\u0000)")
        return value


class WriteOptions(Body):
    """What every write accepts: when it happened (if not now) and why."""

    effective_at: Moment | None = Field(
        default=None,
        description="When it happened, if earlier than now (a late entry); with a UTC offset.",
    )
    reason: str = Field(default="", max_length=2_000, description="Why; required by some writes.")
    correlation_id: str | None = Field(default=None, max_length=200)

    def values(self) -> dict[str, Any]:
        """The command's own values, without the options every write shares."""
        return self.model_dump(exclude=OPTIONS)


OPTIONS = {"effective_at", "reason", "correlation_id"}


Reason = Field(min_length=1, max_length=2_000, pattern=r"\S", description="Why; required.")


class ReasonedWrite(WriteOptions):
    """A write that must say why: `reason` is required and not blank."""

    reason: str = Reason


class Revision(WriteOptions):
    """A revision names only what changes: a field left out keeps its value, and a field
    sent as `null` (where allowed) is cleared."""

    def values(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude=OPTIONS)

    @model_validator(mode="after")
    def _something_to_revise(self) -> "Revision":
        if not self.model_fields_set - OPTIONS:
            raise ValueError("a revision must name at least one field to change")
        return self


# ---- requests: clients -------------------------------------------------------------
class ClientRegistration(WriteOptions):
    given_name: str = Name
    family_name: str = Name
    date_of_birth: BirthDate | None = None
    client_number: str = Field(default="", max_length=100)
    preferred_language: str = Field(default="", max_length=50)
    phone: str = Field(default="", max_length=50)
    email: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=500)
    confirmed_distinct: bool = Field(
        default=False,
        description=(
            "A registration with the name (case and spacing aside) and date of birth of an "
            "existing client of the agency is refused with 409 possible_duplicate, listing "
            "the candidates; true says this is another person. A client number already "
            "taken is refused (409 client_number_taken) regardless."
        ),
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "given_name": "Maria",
                    "family_name": "Lopez",
                    "date_of_birth": "1984-05-17",
                    "client_number": "C-1001",
                    "preferred_language": "es",
                    "phone": "555-0100",
                }
            ]
        },
    )


class ClientChanges(Body):
    given_name: str | None = Field(default=None, min_length=1, max_length=200)
    family_name: str | None = Field(default=None, min_length=1, max_length=200)
    date_of_birth: BirthDate | None = None
    client_number: str | None = Field(default=None, max_length=100)
    preferred_language: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=50)
    email: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)


class ClientCorrection(ReasonedWrite):
    changes: ClientChanges = Field(description="Only the fields to correct")

    @model_validator(mode="after")
    def _something_to_correct(self) -> "ClientCorrection":
        if not self.changes.model_fields_set:
            raise ValueError("changes must name at least one field to correct")
        return self


class SupportContactIn(WriteOptions):
    name: str = Name
    relationship: Relationship
    phone: str = Field(default="", max_length=50)
    email: str = Field(default="", max_length=200)
    may_contact: bool = True


class SupportContactRemoval(ReasonedWrite):
    pass


# ---- requests: cases ---------------------------------------------------------------
class CaseIntake(WriteOptions):
    client_id: UUID
    specialty: Specialty
    referral_source: str = Field(default="", max_length=500)
    presenting_needs: list[str] = Field(default_factory=list, max_length=50)
    interview_summary: str = Text
    case_manager_id: str = Name

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


class ClosureIn(ReasonedWrite):
    outcome: str = Field(min_length=1, max_length=2_000)


class ReopenIn(ReasonedWrite):
    pass


class CorrectionIn(ReasonedWrite):
    target_version: int = Field(ge=1, description="The case version (event) recorded in error")


# ---- requests: plan and goals ------------------------------------------------------
class Activity(Body):
    activity: str = Name
    cadence: Cadence
    time: str = Field(default="", max_length=50)
    notes: str = Field(default="", max_length=1_000)


class PlanIn(WriteOptions):
    title: str = Name
    activities: list[Activity] = Field(default_factory=list, max_length=100)
    next_review_on: IsoDate | None = None


class PlanRevisionIn(Revision):
    """`reason` is the rationale of the new version. A field left out is carried over from
    the current version; `activities: null` (or `[]`) clears the activities and
    `next_review_on: null` the review date."""

    # Left out: None, never validated, so kept; sent as null: refused (the type has no None).
    reason: str = Reason
    title: str = Field(default=None, min_length=1, max_length=200, pattern=r"\S")  # type: ignore[assignment]
    activities: list[Activity] | None = Field(default=None, max_length=100)
    next_review_on: IsoDate | None = None


class PlanStatusIn(WriteOptions):
    pass


class PlanReasonIn(ReasonedWrite):
    pass


class GoalIn(WriteOptions):
    plan_id: str = Name
    description: str = Field(min_length=1, max_length=2_000)
    need_domain: NeedDomain
    target_measure: str = Field(default="", max_length=500)
    due_on: IsoDate | None = None


class GoalRevisionIn(Revision):
    """A field left out keeps its value; `target_measure: null` and `due_on: null` clear
    them. `reason` says why the goal changes."""

    # Left out: None, never validated, so kept; sent as null: refused (the type has no None).
    description: str = Field(default=None, min_length=1, max_length=2_000)  # type: ignore[assignment]
    need_domain: NeedDomain = Field(default=None)  # type: ignore[assignment]
    target_measure: str | None = Field(default=None, max_length=500)
    due_on: IsoDate | None = None


class GoalLifecycleIn(WriteOptions):
    lifecycle: GoalLifecycle


class GoalProgressIn(WriteOptions):
    achievement: Achievement
    measured_value: str = Field(default="", max_length=200)
    note: str = Text


# ---- requests: referrals and notes -------------------------------------------------
class ReferralIn(WriteOptions):
    resource_kind: ResourceKind
    organisation: str = Name
    service_name: str = Name
    referral_reason: str = Field(default="", max_length=2_000)
    urgency: Urgency = Urgency.ROUTINE
    respond_by: IsoDate | None = None


class ReferralStepIn(WriteOptions):
    pass


class ReferralDeclineIn(ReasonedWrite):
    declined_by: DeclinedBy


class ReferralWithdrawalIn(ReasonedWrite):
    pass


class ReferralCompletionIn(WriteOptions):
    outcome: str = Field(min_length=1, max_length=2_000)


class NoteIn(WriteOptions):
    text: str = Field(min_length=1, max_length=20_000)
    contact_kind: ContactKind
    contact_mode: ContactMode
    present: list[str] = Field(default_factory=list, max_length=50)


class AddendumIn(WriteOptions):
    text: str = Field(min_length=1, max_length=20_000)


# ---- requests: tokens --------------------------------------------------------------
class TokenIn(Body):
    name: str = Name
    role: Role


# ---- responses ---------------------------------------------------------------------
class CommandOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f2c1a9e-8d7b-4c6a-9e5f-1b2a3c4d5e6f",
                    "version": 7,
                    "entity_id": "5b0c7c1e-2f4d-4c8e-9a1b-7d6e5f4a3b2c",
                }
            ]
        }
    )

    """What a write returns: the record it changed, its new version and any new part's id."""

    id: UUID
    version: int
    entity_id: str | None = Field(
        default=None,
        description="Id of the part created (the last segment of `Location`): a plan, goal, "
        "referral, note or support contact id; the plan version's number; the case version "
        "of an assessment, prior treatment, progress entry or addendum",
    )


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, Any]] | None = None


class SupportContactOut(BaseModel):
    contact_id: str
    name: str
    relationship: str
    phone: str
    email: str
    may_contact: bool
    added_in: int


class ClientOut(BaseModel):
    id: UUID
    version: int
    agency_id: str
    given_name: str
    family_name: str
    date_of_birth: date | None
    client_number: str
    preferred_language: str
    phone: str
    email: str
    address: str
    support_contacts: list[SupportContactOut]
    registered_at: datetime
    modified_at: datetime


class ChangeOut(BaseModel):
    version: int
    value: str
    details: dict[str, Any]
    in_error: bool


class AssessmentOut(BaseModel):
    version: int
    domain: str
    level: str
    notes: str
    instrument: str
    score: Annotated[float | None, AfterValidator(finite_or_none)] = Field(
        description="null also for a stored value that is not a finite number"
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


class AssessmentEntryOut(BaseModel):
    version: int = Field(description="The case version that recorded the assessment")
    assessments: list[AssessmentOut]


class PlanVersionOut(BaseModel):
    number: int
    version: int
    title: str
    activities: list[dict[str, Any]]
    next_review_on: date | None
    rationale: str


class ProgressOut(BaseModel):
    version: int
    achievement: str
    measured_value: str
    note: str
    effective_at: datetime
    recorded_at: datetime


class GoalRevisionOut(BaseModel):
    version: int
    description: str
    need_domain: str
    target_measure: str
    due_on: date | None


class GoalOut(BaseModel):
    goal_id: str
    plan_id: str
    description: str
    need_domain: str
    target_measure: str
    due_on: date | None
    lifecycle: str
    achievement: str | None
    latest_progress: ProgressOut | None
    progress: list[ProgressOut] = Field(
        description="The latest 20 standing, oldest first; all of them: "
        "GET /v1/cases/{id}/goals/{goal_id}/progress"
    )
    progress_count: int = Field(description="Progress entries standing (not marked in error)")
    revisions: list[GoalRevisionOut]


class PlanOut(BaseModel):
    plan_id: str
    status: str
    version_number: int
    title: str
    activities: list[dict[str, Any]]
    next_review_on: date | None
    rationale: str
    versions: list[PlanVersionOut]
    status_history: list[ChangeOut] = Field(
        description="The latest 20 status changes, oldest first, including those marked in "
        "error (flagged); the case timeline holds every one"
    )
    status_change_count: int = Field(description="Status changes in all, marked in error or not")
    goals: list[GoalOut]


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


class AddendumOut(BaseModel):
    version: int
    text: str
    effective_at: datetime
    recorded_at: datetime


class NoteOut(BaseModel):
    note_id: str
    version: int
    text: str
    contact_kind: str
    contact_mode: str
    present: list[str]
    effective_at: datetime
    recorded_at: datetime
    addenda: list[AddendumOut] = Field(description="Addenda still standing, oldest first")


class CaseOut(BaseModel):
    id: UUID
    version: int
    client_id: UUID
    agency_id: str
    specialty: str
    status: str
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
    entries_in_error: dict[int, int] = Field(
        description="Case version marked in error -> the version that marked it"
    )


class AsOfOut(BaseModel):
    recorded_at: datetime | None
    effective_at: datetime | None
    known_version: int
    events_applied: int
    events_excluded: int
    set_aside_versions: list[int]


class CaseAsOfOut(CaseOut):
    as_of: AsOfOut


ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of a list: every list answers this shape (and a `Link: <...>; rel="next"`
    header while there is more)."""

    items: list[ItemT]
    next: str | None = Field(
        description="Pass as `cursor` for the next page (same other parameters); null on the "
        "last page"
    )


class NotePage(Page[NoteOut]):
    case_id: UUID
    note_count: int = Field(description="Notes standing (not marked in error)")
    as_of: AsOfOut | None = None


class ReferralPage(Page[ReferralOut]):
    case_id: UUID
    referral_count: int = Field(description="Referrals standing (not marked in error)")
    as_of: AsOfOut | None = None


class ProgressPage(Page[ProgressOut]):
    case_id: UUID
    goal_id: str
    progress_count: int = Field(description="Progress entries standing (not marked in error)")
    as_of: AsOfOut | None = None


class ActorOut(BaseModel):
    """Who recorded an event or made a request."""

    id: str | None
    role: str | None
    agency_id: str | None


StreamKind = Literal["case", "client"]


class AddendumRef(BaseModel):
    note_id: str
    note_version: int | None


class TimelineEntry(BaseModel):
    """One event of a case or its client, with the audit trail's field names."""

    stream_id: UUID
    stream_kind: StreamKind
    version: int
    event_type: str
    topic: str
    recorded_at: datetime
    effective_at: datetime
    actor: ActorOut
    reason: str
    correlation_id: str
    summary: str
    late: bool = Field(description="Took effect before it was recorded")
    in_error: bool
    marked_in_error_by: int | None = Field(
        description="Version of the entry that marked this one in error (same stream)"
    )
    addendum_to: AddendumRef | None
    data: dict[str, Any]


class FieldChange(BaseModel):
    path: str = Field(description="Dotted path; list items by id in brackets")
    before: Any
    after: Any


class CaseDiffOut(BaseModel):
    case_id: UUID
    axis: str
    t1: datetime
    t2: datetime
    from_version: int
    to_version: int
    changes: list[FieldChange]
    events: list[TimelineEntry]


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


class EventPage(Page[EventOut]):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [], "next": None, "resume": "MTIwMA"}]}
    )

    resume: str = Field(
        description="Pass as `cursor` later to follow events recorded after this page"
    )


class ClientRow(BaseModel):
    client_id: UUID
    agency_id: str
    given_name: str
    family_name: str
    date_of_birth: date | None
    client_number: str
    registered_at: datetime
    client_version: int


class ClientPage(Page[ClientRow]):
    """Clients by family name, given name."""


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


class AuditPage(Page[AuditRow]):
    """In recording order (position)."""


class CurrentPlanOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"case_id": "3f2c1a9e-8d7b-4c6a-9e5f-1b2a3c4d5e6f", "plan": None}]
        }
    )

    case_id: UUID
    plan: dict[str, Any] | None = Field(description="None while the case has no plan")


class TimelinePage(Page[TimelineEntry]):
    case_id: UUID
    total: int = Field(description="Entries in the whole timeline")


class VerificationOut(BaseModel):
    stream_id: str
    ok: bool
    versions_checked: int
    head_hash: str
    first_bad_version: int | None
    problem: str


class CaseVerificationOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"case_id": "3f2c1a9e-8d7b-4c6a-9e5f-1b2a3c4d5e6f", "ok": True, "streams": []}
            ]
        }
    )

    case_id: UUID
    ok: bool
    streams: list[VerificationOut]


class SubjectOut(BaseModel):
    client_id: UUID | None
    case_id: UUID | None


class AccessLogRow(BaseModel):
    """One read request: who, why, and every client and case its answer named."""

    entry_id: int
    request_id: str | None = Field(description="The request's X-Request-ID")
    action: str
    purpose: str
    actor: ActorOut
    token_id: str
    accessed_at: datetime
    subjects: list[SubjectOut]


class AccessLogPage(Page[AccessLogRow]):
    """Oldest first."""

    client_id: UUID


TOKEN_EXAMPLE: dict[str, Any] = {
    "token_id": "9f1c2b3a4d5e6f70",
    "name": "j.smith",
    "agency_id": "agency-a",
    "role": "caseworker",
    "created_at": "2026-11-27T09:00:00Z",
    "revoked_at": None,
}


class TokenOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [TOKEN_EXAMPLE]})

    token_id: str
    name: str
    agency_id: str
    role: str
    created_at: datetime
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    model_config = ConfigDict(json_schema_extra={"examples": [TOKEN_EXAMPLE | {"token": "crt_…"}]})

    token: str = Field(description="The bearer token; shown only this once")


class TokenPage(Page[TokenOut]):
    """In the order they were created."""
