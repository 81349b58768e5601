"""Closed vocabularies of the case record, kept as string enums so events stay plain JSON."""

import math
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Literal, TypeVar, get_args

from caserecord.domain.errors import InvalidValueError


class Role(StrEnum):
    CASEWORKER = "caseworker"
    SUPERVISOR = "supervisor"
    COMPLIANCE_REVIEWER = "compliance_reviewer"
    ADMIN = "admin"
    PROVIDER = "provider"
    """An outside organisation's intake desk: answers the referrals sent to it, nothing else."""


class StaffRole(StrEnum):
    """What a staff member does in the agency (a token's role says what it may do)."""

    CASE_MANAGER = "case_manager"
    SUPERVISOR = "supervisor"
    NURSE = "nurse"
    PSYCHIATRIST = "psychiatrist"
    PSYCHOLOGIST = "psychologist"
    SOCIAL_WORKER = "social_worker"
    PEER_SUPPORT = "peer_support"
    COMPLIANCE = "compliance"
    ADMINISTRATOR = "administrator"
    OTHER = "other"


class CareTeamRole(StrEnum):
    """A member's part on a case's care team: staff of the agency or people outside it."""

    CO_CASE_MANAGER = "co_case_manager"
    NURSE = "nurse"
    PSYCHIATRIST = "psychiatrist"
    PSYCHOLOGIST = "psychologist"
    THERAPIST = "therapist"
    SUPERVISOR = "supervisor"
    PEER_SUPPORT = "peer_support"
    PROBATION_OFFICER = "probation_officer"
    SCHOOL_COUNSELLOR = "school_counsellor"
    CAREGIVER = "caregiver"
    GUARDIAN = "guardian"
    PHYSICIAN = "physician"
    OTHER = "other"


class TransferStatus(StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class Specialty(StrEnum):
    CORRECTIONAL = "correctional"
    FORENSIC = "forensic"
    GERIATRIC = "geriatric"
    JUVENILE = "juvenile"
    CHILD = "child"
    REHABILITATION = "rehabilitation"
    LEGAL = "legal"
    SUBSTANCE_ABUSE = "substance_abuse"
    CLINICAL = "clinical"
    MENTAL_HEALTH = "mental_health"
    SOCIAL_WORK = "social_work"
    MEDICAL = "medical"
    NURSE = "nurse"


class NeedDomain(StrEnum):
    THERAPEUTIC = "therapeutic"
    MEDICAL = "medical"
    PSYCHO_SOCIAL = "psycho_social"
    PSYCHIATRIC = "psychiatric"


class NeedLevel(StrEnum):
    NONE = "none"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    CRITICAL = "critical"


class Relationship(StrEnum):
    FAMILY = "family"
    FRIEND = "friend"
    SPONSOR = "sponsor"
    GUARDIAN = "guardian"
    PROVIDER = "provider"
    OTHER = "other"


class CaseStatus(StrEnum):
    WAITLISTED = "waitlisted"
    OPEN = "open"
    ON_HOLD = "on_hold"
    CLOSED = "closed"


class DischargeReason(StrEnum):
    GOALS_MET = "goals_met"
    MOVED = "moved"
    DECLINED_SERVICES = "declined_services"
    TRANSFERRED = "transferred_to_another_agency"
    INCARCERATED = "incarcerated"
    DECEASED = "deceased"
    OTHER = "other"


class PlanStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    REVOKED = "revoked"
    DISCONTINUED = "discontinued"


ENDED_PLAN: frozenset[str] = frozenset(
    {PlanStatus.COMPLETED, PlanStatus.REVOKED, PlanStatus.DISCONTINUED}
)


class PlanReviewOutcome(StrEnum):
    """What a plan review meeting decided: keep the plan as it is (a new review date),
    change it (a revision follows), or end it."""

    CONTINUE = "continue"
    MODIFY = "modify"
    DISCONTINUE = "discontinue"


class GoalLifecycle(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


OPEN_GOAL: frozenset[str] = frozenset(
    {GoalLifecycle.PROPOSED, GoalLifecycle.ACTIVE, GoalLifecycle.ON_HOLD}
)


class GoalSettlement(StrEnum):
    """How an open goal is settled when its plan ends: closed with a status, or carried
    over to the case's next plan (it moves there when that plan is drafted)."""

    ACHIEVED = "achieved"
    NOT_ACHIEVED = "not-achieved"
    NO_LONGER_RELEVANT = "no-longer-relevant"
    CARRIED_OVER = "carried-over"


class GoalPriority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ScoreDirection(StrEnum):
    """Whether an instrument's target score is reached from below or from above."""

    AT_LEAST = "at_least"
    AT_MOST = "at_most"


class TaskStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TaskConcerns(StrEnum):
    """The part of a case a task is about (``case``: the case as a whole)."""

    CASE = "case"
    PLAN = "plan"
    GOAL = "goal"
    REFERRAL = "referral"
    NOTE = "note"


class ReferralSettlement(StrEnum):
    """What closing a case does with a referral still pending or accepted."""

    WITHDRAW = "withdraw"
    LEAVE_OPEN = "leave_open"


class Achievement(StrEnum):
    IN_PROGRESS = "in-progress"
    IMPROVING = "improving"
    WORSENING = "worsening"
    NO_CHANGE = "no-change"
    ACHIEVED = "achieved"
    NOT_ACHIEVED = "not-achieved"


class ResourceKind(StrEnum):
    GOVERNMENT_BENEFIT = "government_benefit"
    SUPPORT_GROUP = "support_group"
    COMMUNITY_RESOURCE = "community_resource"
    MEDICAL = "medical"
    HOUSING = "housing"
    LEGAL = "legal"
    EMPLOYMENT = "employment"
    OTHER = "other"


class Respondent(StrEnum):
    """Who answered an instrument's items."""

    CLIENT = "client"
    PARENT = "parent"
    GUARDIAN = "guardian"
    CAREGIVER = "caregiver"
    CLINICIAN = "clinician"
    CASE_MANAGER = "case_manager"
    OTHER = "other"


class TargetSide(StrEnum):
    """Which side of its target score a goal is met on."""

    BELOW = "below"
    ABOVE = "above"


class Urgency(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class ReferralStatus(StrEnum):
    """Written statuses, as closed-loop referral networks model them.  ``expired`` is not
    one: it is derived from the response deadline (``referral_expired``).  Referrals
    recorded before these statuses were ``pending`` where they are now ``sent``."""

    SENT = "sent"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    WAITLISTED = "waitlisted"
    DECLINED = "declined"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


EXPIRED = "expired"
"""A referral still awaiting an answer past its ``respond_by``: derived, never written."""

LEGACY_PENDING = "pending"


class DeclineReason(StrEnum):
    NO_CAPACITY = "no_capacity"
    NOT_ELIGIBLE = "not_eligible"
    SERVICE_NOT_OFFERED = "service_not_offered"
    CLIENT_DECLINED = "client_declined"
    UNABLE_TO_CONTACT = "unable_to_contact"
    DUPLICATE = "duplicate"
    OTHER = "other"


class ReferralOutcome(StrEnum):
    NEED_MET = "need_met"
    PARTLY_MET = "partly_met"
    NOT_MET = "not_met"
    CLIENT_DID_NOT_ATTEND = "client_did_not_attend"


class ReferralNeed(StrEnum):
    """The need a referral serves."""

    FOOD = "food"
    HOUSING = "housing"
    INCOME = "income"
    EMPLOYMENT = "employment"
    HEALTH_CARE = "health_care"
    MENTAL_HEALTH = "mental_health"
    SUBSTANCE_USE = "substance_use"
    TRANSPORTATION = "transportation"
    LEGAL = "legal"
    CHILDCARE = "childcare"
    EDUCATION = "education"
    UTILITIES = "utilities"
    SAFETY = "safety"
    SOCIAL_SUPPORT = "social_support"
    OTHER = "other"


class DeclinedBy(StrEnum):
    PROVIDER = "provider"
    CLIENT = "client"


class ContactKind(StrEnum):
    CLIENT = "client"
    SUPPORT_NETWORK = "support_network"
    PROVIDER = "provider"
    INTERNAL = "internal"


class ContactMode(StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"
    MESSAGE = "message"
    TEXT = "text"
    EMAIL = "email"
    LETTER = "letter"


class ContactStatus(StrEnum):
    """Whether the contact a note records took place."""

    HAPPENED = "happened"
    ATTEMPTED = "attempted"
    NO_SHOW = "no_show"


# Minutes a contact can last: a day, more is a typing mistake.
LONGEST_CONTACT = 24 * 60


CASE_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.WAITLISTED: frozenset({CaseStatus.OPEN, CaseStatus.CLOSED}),
    CaseStatus.OPEN: frozenset({CaseStatus.ON_HOLD, CaseStatus.CLOSED}),
    CaseStatus.ON_HOLD: frozenset({CaseStatus.OPEN, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset({CaseStatus.OPEN}),
}

ACTIVE_STATUSES = (CaseStatus.WAITLISTED, CaseStatus.OPEN, CaseStatus.ON_HOLD)
"""A case in any of these is on someone's caseload."""

# What a case that is not in service refuses.  Service has not started on a waitlisted
# case and is paused on one on hold: no plan is put into effect and no progress is measured,
# and no new referral is made while on hold (a waitlisted client may be linked to interim
# services).  Everything else (notes of attempted contacts, assessments, drafting a plan,
# corrections, closure) is recorded in any status but closed.
NOT_IN_SERVICE: dict[str, frozenset[CaseStatus]] = {
    "activate a plan": frozenset({CaseStatus.WAITLISTED, CaseStatus.ON_HOLD}),
    "resume a plan": frozenset({CaseStatus.WAITLISTED, CaseStatus.ON_HOLD}),
    "record goal progress": frozenset({CaseStatus.WAITLISTED, CaseStatus.ON_HOLD}),
    "make a referral": frozenset({CaseStatus.ON_HOLD}),
}

PLAN_TRANSITIONS: dict[PlanStatus, frozenset[PlanStatus]] = {
    PlanStatus.DRAFT: frozenset({PlanStatus.ACTIVE, PlanStatus.REVOKED}),
    PlanStatus.ACTIVE: frozenset(
        {
            PlanStatus.SUSPENDED,
            PlanStatus.COMPLETED,
            PlanStatus.REVOKED,
            PlanStatus.DISCONTINUED,
        }
    ),
    PlanStatus.SUSPENDED: frozenset(
        {PlanStatus.ACTIVE, PlanStatus.REVOKED, PlanStatus.DISCONTINUED}
    ),
    PlanStatus.COMPLETED: frozenset(),
    PlanStatus.REVOKED: frozenset(),
    PlanStatus.DISCONTINUED: frozenset(),
}

# A settled goal (``GoalSettlement``) moves no further by a lifecycle change.
GOAL_TRANSITIONS: dict[str, frozenset[str]] = {
    GoalLifecycle.PROPOSED: frozenset({GoalLifecycle.ACTIVE, GoalLifecycle.CANCELLED}),
    GoalLifecycle.ACTIVE: frozenset(
        {GoalLifecycle.ON_HOLD, GoalLifecycle.COMPLETED, GoalLifecycle.CANCELLED}
    ),
    GoalLifecycle.ON_HOLD: frozenset({GoalLifecycle.ACTIVE, GoalLifecycle.CANCELLED}),
    GoalLifecycle.COMPLETED: frozenset(),
    GoalLifecycle.CANCELLED: frozenset(),
    **{settled: frozenset() for settled in GoalSettlement},
}

_RS = ReferralStatus
REFERRAL_TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    _RS.SENT: frozenset({_RS.RECEIVED, _RS.ACCEPTED, _RS.WAITLISTED, _RS.DECLINED, _RS.WITHDRAWN}),
    _RS.RECEIVED: frozenset({_RS.ACCEPTED, _RS.WAITLISTED, _RS.DECLINED, _RS.WITHDRAWN}),
    _RS.WAITLISTED: frozenset({_RS.ACCEPTED, _RS.DECLINED, _RS.WITHDRAWN}),
    _RS.ACCEPTED: frozenset({_RS.IN_PROGRESS, _RS.COMPLETED, _RS.DECLINED, _RS.WITHDRAWN}),
    _RS.IN_PROGRESS: frozenset({_RS.COMPLETED, _RS.WITHDRAWN}),
    # The case manager closes the need a declined referral served without re-routing it.
    _RS.DECLINED: frozenset({_RS.WITHDRAWN}),
    _RS.COMPLETED: frozenset(),
    _RS.WITHDRAWN: frozenset(),
}

AWAITING_ANSWER = frozenset({_RS.SENT, _RS.RECEIVED})
"""Statuses in which a referral past its ``respond_by`` has expired."""

FINAL_REFERRAL = frozenset({_RS.DECLINED, _RS.COMPLETED, _RS.WITHDRAWN})


def referral_expired(status: str, respond_by: date | None, today: date) -> bool:
    return status in AWAITING_ANSWER and respond_by is not None and respond_by < today


E = TypeVar("E", bound=StrEnum)


def parse(enum: type[E], value: str, field: str) -> E:
    """Turn a plain string into a vocabulary member, or raise a clear domain error."""
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise InvalidValueError(f"{field} must be one of: {allowed} (got {value!r})") from None


def text_list(values: object, field: str) -> list[str]:
    """A list of short texts (a bare string is refused: it would split into characters)."""
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise InvalidValueError(f"{field} must be a list of text")
    if not all(isinstance(v, str) for v in values):
        raise InvalidValueError(f"{field} must contain only text")
    return list(values)


def check_date(value: object, field: str) -> None:
    """A calendar date or nothing; a datetime is refused so dates compare cleanly."""
    if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
        raise InvalidValueError(f"{field} must be a date (got {value!r})")


def check_number(value: object, field: str) -> None:
    """A finite number or nothing: NaN or an infinity would be stored, and JSON cannot
    carry it back out to the readers of the record."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValueError(f"{field} must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValueError(f"{field} must be a finite number (got {value!r})")


# How often a plan activity recurs: a Literal, not an enum, as activities are stored as plain
# dicts and the API lists the values in place.
Cadence = Literal["daily", "weekly", "fortnightly", "monthly", "as_needed"]
CADENCES: tuple[str, ...] = get_args(Cadence)

# No one served was born before this day; an earlier date is a typing mistake.
EARLIEST_BIRTH = date(1900, 1, 1)
# No case record concerns events before this year; earlier ones are typing mistakes.
EARLIEST_EFFECTIVE = 1900


def check_birth_date(value: object, field: str = "date_of_birth") -> None:
    """A date of birth or nothing: from 1900 and not after today (UTC)."""
    check_date(value, field)
    if isinstance(value, date) and not EARLIEST_BIRTH <= value <= datetime.now(UTC).date():
        raise InvalidValueError(
            f"{field} must be from {EARLIEST_BIRTH.isoformat()} and not in the future "
            f"(got {value.isoformat()})"
        )
