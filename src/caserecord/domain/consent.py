"""Consent and disclosure rules: which classes of data need the client's consent to leave
the agency, what a consent covers and when it is in force, and on what legal basis a
disclosure rests.  No I/O; the client aggregate (``client.py``) records the events."""

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from caserecord.domain.errors import InvalidValueError
from caserecord.domain.values import Specialty, parse, text_list


class DataClass(StrEnum):
    """Sensitivity labels: the classes of protected information an entry may hold."""

    SUBSTANCE_USE = "substance_use"  # 42 CFR Part 2
    MENTAL_HEALTH = "mental_health"
    HIV = "hiv"
    PSYCHOTHERAPY_NOTES = "psychotherapy_notes"
    DOMESTIC_VIOLENCE = "domestic_violence"
    REPRODUCTIVE_HEALTH = "reproductive_health"
    EDUCATION = "education"
    MINOR_CONSENT = "minor_consent"


ALL_DATA = "all"
PART2 = DataClass.SUBSTANCE_USE

NEEDS_CONSENT: frozenset[str] = frozenset(DataClass)
"""Classes that may leave the agency only under a consent in force or a legal exception.
Every label is one: each names information that federal or state law protects beyond
HIPAA's treatment, payment and operations uses."""

SPECIALTY_LABELS: dict[str, tuple[str, ...]] = {
    Specialty.SUBSTANCE_ABUSE: (DataClass.SUBSTANCE_USE,),
    Specialty.MENTAL_HEALTH: (DataClass.MENTAL_HEALTH,),
}
"""The labels every entry of a case of that specialty carries unless relabelled: the
records of a substance-use program are Part 2 records, whatever they say."""


class ExpiryEvent(StrEnum):
    """Events a consent can expire on, each of a named case. The record knows a case's life
    from its closure: closing the case is its discharge and the end of its treatment, so
    each of these ends the consent from the closure's effective time. Reopening the case
    does not bring the consent back: the client signs a new one."""

    CASE_CLOSED = "case_closed"
    DISCHARGE = "discharge"
    END_OF_TREATMENT = "end_of_treatment"


class RecipientKind(StrEnum):
    ORGANISATION = "organisation"
    PERSON = "person"
    GENERAL_DESIGNATION = "general_designation"  # Part 2 §2.31: "my treating providers"


class Purpose(StrEnum):
    TREATMENT = "treatment"
    PAYMENT = "payment"
    HEALTH_CARE_OPERATIONS = "health_care_operations"
    CARE_COORDINATION = "care_coordination"
    HOUSING = "housing"
    BENEFITS = "benefits"
    EMPLOYMENT = "employment"
    LEGAL = "legal"
    EDUCATION = "education"
    COURT = "court"
    CHILD_PROTECTION = "child_protection"
    AUDIT = "audit"
    CLIENT_REQUEST = "client_request"
    OTHER = "other"


class LegalBasis(StrEnum):
    CONSENT = "consent"
    NOT_REQUIRED = "not_required"  # nothing disclosed that needs consent
    MEDICAL_EMERGENCY = "medical_emergency"  # the break-glass override
    COURT_ORDER = "court_order"
    MANDATED_CHILD_ABUSE_REPORT = "mandated_child_abuse_report"
    AUDIT = "audit"


EXCEPTIONS = frozenset(
    {
        LegalBasis.MEDICAL_EMERGENCY,
        LegalBasis.COURT_ORDER,
        LegalBasis.MANDATED_CHILD_ABUSE_REPORT,
        LegalBasis.AUDIT,
    }
)
"""Bases the law permits without consent; each needs a reason, a court order its reference."""


class Channel(StrEnum):
    REFERRAL = "referral"
    EXPORT = "export"
    PHONE = "phone"
    LETTER = "letter"
    IN_PERSON = "in_person"
    FAX = "fax"
    EMAIL = "email"
    OTHER = "other"


REDISCLOSURE_NOTICE = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
"""The short form of the notice 42 CFR 2.32 requires with each disclosure of Part 2 data."""

SHA256 = re.compile(r"[0-9a-f]{64}")

NO_ENDS: Mapping[str, datetime] = MappingProxyType({})


@dataclass
class Consent:
    """A consent as it stands: ``version`` counts its events (1 when granted, 2 once
    revoked), so a disclosure can cite the consent at the version it relied on."""

    consent_id: str
    recipient_kind: str
    recipient: str
    purpose: str
    data: list[str]
    effective_from: datetime
    expires_on: date | None
    expires_on_event: str
    form_sha256: str
    obtained_by: str
    granted_in: int
    version: int = 1
    revoked_from: datetime | None = None
    revoked_by: str = ""
    revoked_in: int | None = None
    disclosed_to: list[list[Any]] = field(default_factory=list)
    """[disclosure id, recipient, when] of each disclosure made under it."""
    expires_with_case: str = ""
    """The case whose ``expires_on_event`` ends it ("": a date, or an event in words)."""

    def in_force(self, at: datetime, ends: Mapping[str, datetime] = NO_ENDS) -> bool:
        """Expiry is derived, never recorded: a consent that expires on a date is in force
        through that day (UTC); one that expires on an event of a named case until that
        event's effective time (``ends``: when each case's event happened, found by the
        service); one that names its event only in words until it is revoked."""
        return self.status(at, ends) == "active"

    def status(self, at: datetime, ends: Mapping[str, datetime] = NO_ENDS) -> str:
        if self.revoked_from is not None and at >= self.revoked_from:
            return "revoked"
        if self.expires_on is not None and at.date() > self.expires_on:
            return "expired"
        ended = self.ended_at(ends)
        if ended is not None and at >= ended:
            return "expired"
        return "active" if at >= self.effective_from else "not_yet_effective"

    def ended_at(self, ends: Mapping[str, datetime]) -> datetime | None:
        """When the event it expires on happened, if it has."""
        return ends.get(self.expires_with_case) if self.expires_with_case else None

    def names(self, recipient: str) -> bool:
        return same_name(self.recipient, recipient)

    def uncovered(self, recipient: str, purpose: str, classes: list[str], cited: bool) -> list[str]:
        """What this consent does not cover of a disclosure, in words; [] if it covers it.
        A general designation covers a recipient only when the disclosure cites it: the
        person disclosing says the recipient falls under it."""
        missing = []
        general = self.recipient_kind == RecipientKind.GENERAL_DESIGNATION
        if not (self.names(recipient) or (general and cited)):
            missing.append(f"recipient {recipient!r}")
        if self.purpose != purpose:
            missing.append(f"purpose {purpose}")
        if ALL_DATA not in self.data:
            missing += [f"class {c}" for c in classes if c not in self.data]
        return missing


def same_name(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def data_classes(values: object, field_name: str, *, allow_all: bool = False) -> list[str]:
    """A list of labels (or ``["all"]`` where allowed), each once, in the order given."""
    found: list[str] = []
    for value in text_list(values, field_name):
        if not (allow_all and value == ALL_DATA):
            parse(DataClass, value, field_name)
        if value not in found:
            found.append(value)
    if ALL_DATA in found and len(found) > 1:
        raise InvalidValueError(f"{field_name}: 'all' stands alone")
    return found


def needing_consent(classes: list[str]) -> list[str]:
    return [c for c in classes if c in NEEDS_CONSENT]


def check_grant(
    recipient_kind: str,
    recipient: str,
    purpose: str,
    data: list[str],
    expires_on: date | None,
    expires_on_event: str,
    form_sha256: str,
    obtained_by: str,
    effective_from: datetime,
    expires_with_case: str = "",
) -> None:
    """The elements 42 CFR 2.31 asks of a written consent, as far as a record can hold them."""
    kind = parse(RecipientKind, recipient_kind, "recipient_kind")
    parse(Purpose, purpose, "purpose")
    if not recipient.strip():
        raise InvalidValueError("a consent names its recipient")
    if not data:
        raise InvalidValueError("a consent names the data it covers: 'all' or classes")
    if kind == RecipientKind.GENERAL_DESIGNATION and not ({ALL_DATA, PART2} & set(data)):
        raise InvalidValueError("a general designation of recipients is for Part 2 consents")
    if expires_on is None and not expires_on_event.strip():
        raise InvalidValueError("a consent expires on a date or on an event")
    if expires_on_event:
        parse(ExpiryEvent, expires_on_event, "expires_on_event")
        if not expires_with_case:
            raise InvalidValueError(
                "a consent that expires on an event names the case it happens to "
                "(expires_with_case)"
            )
    elif expires_with_case:
        raise InvalidValueError("expires_with_case goes with expires_on_event")
    if expires_on is not None and expires_on < effective_from.date():
        raise InvalidValueError("a consent cannot expire before it takes effect")
    if not SHA256.fullmatch(form_sha256):
        raise InvalidValueError("form_sha256 is the signed form's SHA-256, 64 lowercase hex")
    if not obtained_by.strip():
        raise InvalidValueError("a consent says who obtained it")


def form_hash(content: bytes) -> str:
    """The SHA-256 a consent records of its signed form."""
    return hashlib.sha256(content).hexdigest()


def consent_to_dict(
    consent: Consent, at: datetime, ends: Mapping[str, datetime] = NO_ENDS
) -> dict[str, Any]:
    """The consent as plain data, with its status at ``at``."""
    return {
        "consent_id": consent.consent_id,
        "version": consent.version,
        "status": consent.status(at, ends),
        "recipient_kind": consent.recipient_kind,
        "recipient": consent.recipient,
        "purpose": consent.purpose,
        "data": list(consent.data),
        "effective_from": consent.effective_from,
        "expires_on": consent.expires_on,
        "expires_on_event": consent.expires_on_event,
        "expires_with_case": consent.expires_with_case or None,
        "expired_by_event_at": consent.ended_at(ends),
        "form_sha256": consent.form_sha256,
        "obtained_by": consent.obtained_by,
        "granted_in": consent.granted_in,
        "revoked_from": consent.revoked_from,
        "revoked_by": consent.revoked_by,
        "revoked_in": consent.revoked_in,
    }
