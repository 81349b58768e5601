"""Benefits applications: what a case's client applied for, to whom, and where it stands.

An application is live structure of the case (a client applies for a handful of programs),
so the case keeps each one whole.  Its lifecycle:

    started -> submitted -> approved (renewed, in place)
                         -> denied -> appealed -> submitted (reversed: decided again)
                                               -> denied (upheld)
    started, submitted, appealed -> withdrawn

Documents requested and appointments run beside the status while a decision is awaited.

Any step but a renewal can be marked in error (``corrections.locate_benefit``): it stays in
the application, flagged, and the application stands as if it had not been taken.  The
trailing ``in_error`` fields default to False, so parts stored before they existed read as
standing (ADR 0002).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from caserecord.domain.entities import Change, current
from caserecord.domain.errors import (
    BenefitApplicationNotFoundError,
    InvalidTransitionError,
    InvalidValueError,
)
from caserecord.domain.values import check_date, check_number, parse


class BenefitProgram(StrEnum):
    SNAP = "snap"
    MEDICAID = "medicaid"
    SSI = "ssi"
    SSDI = "ssdi"
    TANF = "tanf"
    HOUSING_ASSISTANCE = "housing_assistance"
    WIC = "wic"
    LIHEAP = "liheap"
    OTHER = "other"


PROGRAM_LABELS: dict[str, str] = {
    "snap": "SNAP",
    "medicaid": "Medicaid",
    "ssi": "SSI",
    "ssdi": "SSDI",
    "tanf": "TANF",
    "housing_assistance": "Housing assistance",
    "wic": "WIC",
    "liheap": "LIHEAP",
    "other": "Other",
}


class BenefitStatus(StrEnum):
    STARTED = "started"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    DENIED = "denied"
    APPEALED = "appealed"
    WITHDRAWN = "withdrawn"


class AwardFrequency(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    YEARLY = "yearly"
    ONE_TIME = "one_time"


class AppointmentKind(StrEnum):
    INTERVIEW = "interview"
    MEDICAL_EXAM = "medical_exam"
    HOME_VISIT = "home_visit"
    OTHER = "other"


class AppointmentOutcome(StrEnum):
    ATTENDED = "attended"
    MISSED = "missed"
    CANCELLED = "cancelled"


class AppealOutcome(StrEnum):
    REVERSED = "reversed"  # the denial is set aside: the agency decides again
    UPHELD = "upheld"  # the denial stands


BENEFIT_TRANSITIONS: dict[BenefitStatus, frozenset[BenefitStatus]] = {
    BenefitStatus.STARTED: frozenset({BenefitStatus.SUBMITTED, BenefitStatus.WITHDRAWN}),
    BenefitStatus.SUBMITTED: frozenset(
        {BenefitStatus.APPROVED, BenefitStatus.DENIED, BenefitStatus.WITHDRAWN}
    ),
    BenefitStatus.DENIED: frozenset({BenefitStatus.APPEALED}),
    BenefitStatus.APPEALED: frozenset(
        {BenefitStatus.SUBMITTED, BenefitStatus.DENIED, BenefitStatus.WITHDRAWN}
    ),
    BenefitStatus.APPROVED: frozenset(),
    BenefitStatus.WITHDRAWN: frozenset(),
}

AWAITING = (BenefitStatus.SUBMITTED, BenefitStatus.APPEALED)
"""Where documents and appointments belong: a decision (or a hearing) is awaited."""

DECISION_DAYS: dict[BenefitProgram, int] = {
    # The processing standards the programs set (SNAP 30 days, 7 CFR 273.2(g); Medicaid
    # 45, 42 CFR 435.912); the others are typical waits, overridden per application.
    BenefitProgram.SNAP: 30,
    BenefitProgram.MEDICAID: 45,
    BenefitProgram.SSI: 180,
    BenefitProgram.SSDI: 180,
    BenefitProgram.TANF: 45,
    BenefitProgram.HOUSING_ASSISTANCE: 90,
    BenefitProgram.WIC: 20,
    BenefitProgram.LIHEAP: 30,
    BenefitProgram.OTHER: 30,
}


@dataclass
class DocumentRequest:
    request_id: str
    version: int
    documents: list[str]
    due_on: date | None
    provided_in: int | None = None
    provided_on: date | None = None
    in_error: bool = False


@dataclass
class Appointment:
    appointment_id: str
    version: int
    kind: str
    on: date
    location: str
    outcome: str = ""
    outcome_in: int | None = None
    in_error: bool = False


@dataclass
class BenefitApplication:
    """``statuses``: each change, its details what the step said (the award of an
    approval, the reason of a denial, the hearing of an appeal)."""

    application_id: str
    version: int
    program: str
    agency_name: str
    statuses: list[Change]
    submitted_on: date | None = None
    expected_decision_on: date | None = None
    renews_on: date | None = None
    hearing_on: date | None = None
    documents: list[DocumentRequest] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    in_error: bool = False

    @property
    def status(self) -> str:
        return current(self.statuses).value

    def settle(self) -> None:
        """What the status steps set, again from those standing (after one is marked in
        error): the submission's days while a submission stands, a renewal day only while
        approved, a hearing day only while appealed."""
        standing = current(self.statuses)
        if not any(c.value == BenefitStatus.SUBMITTED and not c.in_error for c in self.statuses):
            self.submitted_on = self.expected_decision_on = None
        if standing.value != BenefitStatus.APPROVED:
            self.renews_on = None
        appealed = standing.value == BenefitStatus.APPEALED
        self.hearing_on = standing.details.get("hearing_on") if appealed else None

    def move(self, version: int, status: BenefitStatus, details: dict[str, Any]) -> None:
        if status not in BENEFIT_TRANSITIONS[BenefitStatus(self.status)]:
            raise InvalidTransitionError(
                f"a benefits application cannot go from {self.status} to {status}"
            )
        self.statuses.append(Change(version, status.value, details))

    def step_versions(self) -> set[int]:
        """The case versions that recorded a step of this application."""
        found = {self.version, *(c.version for c in self.statuses)}
        for r in self.documents:
            found |= {r.version, *([r.provided_in] if r.provided_in else [])}
        for a in self.appointments:
            found |= {a.version, *([a.outcome_in] if a.outcome_in else [])}
        return found

    def check_awaiting(self, what: str) -> None:
        if self.status not in AWAITING:
            raise InvalidTransitionError(
                f"the application is {self.status}: {what} while a decision is awaited"
            )

    def outstanding(self) -> list[DocumentRequest]:
        return [r for r in self.documents if r.provided_in is None and not r.in_error]

    def request(self, request_id: str) -> DocumentRequest:
        for r in self.documents:
            if r.request_id == request_id and not r.in_error:
                return r
        raise BenefitApplicationNotFoundError(f"no documents request {request_id} on it")

    def upcoming(self) -> list[Appointment]:
        return [a for a in self.appointments if not a.outcome and not a.in_error]

    def appointment(self, appointment_id: str) -> Appointment:
        for a in self.appointments:
            if a.appointment_id == appointment_id and not a.in_error:
                return a
        raise BenefitApplicationNotFoundError(f"no appointment {appointment_id} on it")


def check_start(program: str, agency_name: str) -> None:
    parse(BenefitProgram, program, "program")
    if not agency_name.strip():
        raise InvalidValueError("an application names the agency applied to (agency_name)")


def expected_decision(program: str, submitted_on: date, expected_on: date | None) -> date:
    """The day a decision is due: as given, else the program's standard from submission."""
    check_date(submitted_on, "submitted_on")
    check_date(expected_on, "expected_decision_on")
    if expected_on is not None:
        if expected_on < submitted_on:
            raise InvalidValueError("a decision cannot be expected before the submission")
        return expected_on
    try:
        return submitted_on + timedelta(days=DECISION_DAYS[BenefitProgram(program)])
    except OverflowError:
        raise InvalidValueError("submitted_on is too late to expect a decision after it") from None


def check_documents(documents: list[str], due_on: date | None) -> None:
    if not isinstance(documents, list) or not documents:
        raise InvalidValueError("a documents request names at least one document")
    for i, d in enumerate(documents):
        if not isinstance(d, str) or not d.strip():
            raise InvalidValueError(f"documents[{i}] must name a document")
    check_date(due_on, "due_on")


def check_award(
    amount: float | None,
    frequency: str,
    starts_on: date | None,
    ends_on: date | None,
    renews_on: date | None,
) -> dict[str, Any]:
    """What an approval grants, as its status change's details."""
    check_number(amount, "amount")
    if amount is None or amount < 0:
        raise InvalidValueError("an approval grants an amount of zero or more")
    parse(AwardFrequency, frequency, "frequency")
    for value, name in ((starts_on, "starts_on"), (ends_on, "ends_on"), (renews_on, "renews_on")):
        check_date(value, name)
    if starts_on is None:
        raise InvalidValueError("an approval's benefit period has a first day (starts_on)")
    if ends_on is not None and ends_on < starts_on:
        raise InvalidValueError("a benefit period cannot end before it starts")
    if renews_on is not None and renews_on < starts_on:
        raise InvalidValueError("a renewal cannot fall before the benefit period starts")
    return {"amount": amount, "frequency": frequency, "starts_on": starts_on, "ends_on": ends_on}
