"""The client: the person served. One client can have several cases over time."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from eventsourcing.domain import event

from caserecord.domain.base import RecordAggregate, require_reason
from caserecord.domain.consent import (
    EXCEPTIONS,
    NO_ENDS,
    PART2,
    REDISCLOSURE_NOTICE,
    Channel,
    Consent,
    LegalBasis,
    Purpose,
    RecipientKind,
    check_grant,
    data_classes,
    needing_consent,
)
from caserecord.domain.errors import (
    ConsentNotFoundError,
    ConsentRequiredError,
    DuplicateIdError,
    InvalidTransitionError,
    InvalidValueError,
    NothingToCorrectError,
    SupportContactNotFoundError,
)
from caserecord.domain.values import Relationship, check_birth_date, parse

CORRECTABLE_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "client_number",
    "preferred_language",
    "phone",
    "email",
    "address",
)


@dataclass
class SupportContact:
    contact_id: str
    name: str
    relationship: str
    phone: str
    email: str
    may_contact: bool
    added_in: int
    removed_in: int | None = None
    removal_reason: str = ""


@dataclass(frozen=True)
class Basis:
    """What a disclosure rests on, as decided when it is recorded."""

    basis: str
    consent_id: str = ""
    consent_version: int = 0
    notice: str = ""


def upcast_v1_v2(state: dict[str, Any]) -> None:
    """Snapshots taken before clients held consents."""
    state["consents"] = {}
    state["disclosures_recorded"] = 0


class Client(RecordAggregate):
    class_version = 2
    upcast_v1_v2 = staticmethod(upcast_v1_v2)

    class Registered(RecordAggregate.Created):
        agency_id: str
        given_name: str
        family_name: str
        date_of_birth: date | None
        client_number: str
        preferred_language: str
        phone: str
        email: str
        address: str

    @event(Registered)
    def __init__(
        self,
        agency_id: str,
        given_name: str,
        family_name: str,
        date_of_birth: date | None,
        client_number: str,
        preferred_language: str,
        phone: str,
        email: str,
        address: str,
    ) -> None:
        if not given_name.strip() or not family_name.strip():
            raise InvalidValueError("given_name and family_name are required")
        self.agency_id = agency_id
        self.given_name = given_name
        self.family_name = family_name
        self.date_of_birth = date_of_birth
        self.client_number = client_number
        self.preferred_language = preferred_language
        self.phone = phone
        self.email = email
        self.address = address
        self.support_contacts: dict[str, SupportContact] = {}
        self.consents: dict[str, Consent] = {}
        self.disclosures_recorded = 0

    @classmethod
    def register(cls, **values: Any) -> "Client":
        """Register a client, with the checks that depend on the day of recording (kept out
        of ``__init__``, which every replay runs again)."""
        check_birth_date(values.get("date_of_birth"))
        return cls(**values)

    class DetailsCorrected(RecordAggregate.Event):
        changes: list[dict[str, Any]]
        reason: str

    def correct_details(self, new_values: dict[str, Any], reason: str) -> None:
        require_reason(reason, "correct client details")
        unknown = sorted(set(new_values) - set(CORRECTABLE_FIELDS))
        if unknown:
            raise InvalidValueError(f"fields cannot be corrected: {', '.join(unknown)}")
        checked = {name: checked_value(name, value) for name, value in new_values.items()}
        changes = [
            {"field": name, "old": getattr(self, name), "new": value}
            for name, value in checked.items()
            if getattr(self, name) != value
        ]
        if not changes:
            raise NothingToCorrectError("the new values equal the recorded ones")
        self._record_correction(changes=changes, reason=reason)

    @event(DetailsCorrected)
    def _record_correction(self, changes: list[dict[str, Any]], reason: str) -> None:
        for change in changes:
            setattr(self, change["field"], change["new"])

    class SupportContactAdded(RecordAggregate.Event):
        contact_id: str
        name: str
        relationship: str
        phone: str
        email: str
        may_contact: bool

    @event(SupportContactAdded)
    def add_support_contact(
        self,
        contact_id: str,
        name: str,
        relationship: str,
        phone: str,
        email: str,
        may_contact: bool,
    ) -> None:
        parse(Relationship, relationship, "relationship")
        if not name.strip():
            raise InvalidValueError("a support contact needs a name")
        if contact_id in self.support_contacts:
            raise DuplicateIdError(f"support contact {contact_id} already exists")
        self.support_contacts[contact_id] = SupportContact(
            contact_id, name, relationship, phone, email, may_contact, self.version + 1
        )

    class SupportContactRemoved(RecordAggregate.Event):
        contact_id: str
        reason: str

    @event(SupportContactRemoved)
    def remove_support_contact(self, contact_id: str, reason: str) -> None:
        contact = self.support_contacts.get(contact_id)
        if contact is None or contact.removed_in is not None:
            raise SupportContactNotFoundError(f"no current support contact {contact_id}")
        require_reason(reason, "remove a support contact")
        contact.removed_in = self.version + 1
        contact.removal_reason = reason

    # ---- consent -------------------------------------------------------------------
    class ConsentGranted(RecordAggregate.Event):
        """Version 2: an event it expires on is one of :class:`ExpiryEvent`, of the case
        ``expires_with_case`` names; a version 1 grant named its event only in words."""

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
        expires_with_case: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["expires_with_case"] = ""

    def grant_consent(
        self,
        consent_id: str,
        recipient_kind: str,
        recipient: str,
        purpose: str,
        data: list[str],
        effective_from: datetime,
        expires_on: date | None,
        expires_on_event: str,
        form_sha256: str,
        obtained_by: str,
        expires_with_case: str = "",
    ) -> None:
        if consent_id in self.consents:
            raise DuplicateIdError(f"consent {consent_id} already exists")
        data = data_classes(data, "data", allow_all=True)
        check_grant(
            recipient_kind,
            recipient,
            purpose,
            data,
            expires_on,
            expires_on_event,
            form_sha256,
            obtained_by,
            effective_from,
            expires_with_case,
        )
        self._grant_consent(
            consent_id,
            recipient_kind,
            recipient.strip(),
            purpose,
            data,
            effective_from,
            expires_on,
            expires_on_event,
            form_sha256,
            obtained_by,
            expires_with_case,
        )

    @event(ConsentGranted)
    def _grant_consent(
        self,
        consent_id: str,
        recipient_kind: str,
        recipient: str,
        purpose: str,
        data: list[str],
        effective_from: datetime,
        expires_on: date | None,
        expires_on_event: str,
        form_sha256: str,
        obtained_by: str,
        expires_with_case: str,
    ) -> None:
        self.consents[consent_id] = Consent(
            consent_id,
            recipient_kind,
            recipient,
            purpose,
            list(data),
            effective_from,
            expires_on,
            expires_on_event,
            form_sha256,
            obtained_by,
            self.version + 1,
            expires_with_case=expires_with_case,
        )

    class ConsentRevoked(RecordAggregate.Event):
        consent_id: str
        revoked_from: datetime
        revoked_by: str

    def revoke_consent(self, consent_id: str, revoked_from: datetime, revoked_by: str) -> None:
        if self.consent(consent_id).revoked_from is not None:
            raise InvalidTransitionError(f"consent {consent_id} is already revoked")
        self._revoke_consent(consent_id, revoked_from, revoked_by)

    @event(ConsentRevoked)
    def _revoke_consent(self, consent_id: str, revoked_from: datetime, revoked_by: str) -> None:
        consent = self.consents[consent_id]
        consent.version += 1
        consent.revoked_from = revoked_from
        consent.revoked_by = revoked_by
        consent.revoked_in = self.version + 1

    def consent(self, consent_id: str) -> Consent:
        found = self.consents.get(consent_id)
        if found is None:
            raise ConsentNotFoundError(f"no consent {consent_id} for this client")
        return found

    # ---- disclosures ---------------------------------------------------------------
    class DisclosureRecorded(RecordAggregate.Event):
        """Client information left the agency (``basis``: the legal basis it rested on)."""

        disclosure_id: str
        recipient_kind: str
        recipient: str
        purpose: str
        channel: str
        data_classes: list[str]
        entries: list[dict[str, Any]]
        basis: str
        consent_id: str
        consent_version: int
        order_reference: str
        notice: str
        disclosed_at: datetime
        case_id: str
        referral_id: str

    class EmergencyDisclosureRecorded(RecordAggregate.Event):
        """A disclosure without consent in a medical emergency: the glass was broken.
        The same fields as ``DisclosureRecorded``, a type of its own so that compliance
        review finds every one by its type."""

        disclosure_id: str
        recipient_kind: str
        recipient: str
        purpose: str
        channel: str
        data_classes: list[str]
        entries: list[dict[str, Any]]
        basis: str
        consent_id: str
        consent_version: int
        order_reference: str
        notice: str
        disclosed_at: datetime
        case_id: str
        referral_id: str

    def decide_basis(
        self,
        recipient: str,
        purpose: str,
        classes: list[str],
        at: datetime,
        basis: str | None,
        consent_id: str,
        order_reference: str,
        reason: str,
        ends: Mapping[str, datetime] = NO_ENDS,
    ) -> Basis:
        """The legal basis a disclosure rests on, or :class:`ConsentRequiredError` naming
        what no consent in force covers.  Part 2 data carries the redisclosure notice.
        ``ends``: when the named cases' events that consents expire on happened."""
        notice = REDISCLOSURE_NOTICE if PART2 in classes else ""
        if basis is not None and basis != LegalBasis.CONSENT:
            exception = parse(LegalBasis, basis, "basis")
            if exception not in EXCEPTIONS:
                raise InvalidValueError(f"{basis} is not a legal exception to consent")
            require_reason(reason, f"disclose under the {basis} exception")
            if exception == LegalBasis.COURT_ORDER and not order_reference.strip():
                raise InvalidValueError("a disclosure under a court order names the order")
            return Basis(exception, notice=notice)
        cited = [self.consent(consent_id)] if consent_id else list(self.consents.values())
        considered = []
        for consent in sorted(cited, key=lambda c: -c.granted_in):
            gaps = consent.uncovered(recipient, purpose, classes, bool(consent_id))
            if not consent.in_force(at, ends):
                gaps.insert(0, f"in force at {at.isoformat()} ({consent.status(at, ends)})")
            if not gaps:
                return Basis(LegalBasis.CONSENT, consent.consent_id, consent.version, notice)
            considered.append({"consent_id": consent.consent_id, "not_covered": gaps})
        needed = needing_consent(classes)
        if not needed and not consent_id and basis is None:
            return Basis(LegalBasis.NOT_REQUIRED, notice=notice)
        raise ConsentRequiredError(
            f"no consent in force covers disclosing {', '.join(needed) or 'this'} to "
            f"{recipient!r} for {purpose}: nothing was recorded or sent",
            recipient=recipient,
            purpose=purpose,
            classes_needing_consent=needed,
            consents_considered=considered,
        )

    def record_disclosure(
        self,
        disclosure_id: str,
        recipient_kind: str,
        recipient: str,
        purpose: str,
        channel: str,
        classes: list[str],
        entries: list[dict[str, Any]],
        basis: Basis,
        order_reference: str,
        disclosed_at: datetime,
        case_id: str = "",
        referral_id: str = "",
    ) -> None:
        """Record a disclosure on the basis :meth:`decide_basis` gave for it."""
        parse(RecipientKind, recipient_kind, "recipient_kind")
        parse(Purpose, purpose, "purpose")
        parse(Channel, channel, "channel")
        if not recipient.strip():
            raise InvalidValueError("a disclosure names its recipient")
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise InvalidValueError("entries must be a list of objects")
        record = (
            self._record_emergency_disclosure
            if basis.basis == LegalBasis.MEDICAL_EMERGENCY
            else self._record_disclosure
        )
        record(
            disclosure_id,
            recipient_kind,
            recipient.strip(),
            purpose,
            channel,
            data_classes(classes, "data_classes"),
            entries,
            basis.basis,
            basis.consent_id,
            basis.consent_version,
            order_reference,
            basis.notice,
            disclosed_at,
            case_id,
            referral_id,
        )

    @event(DisclosureRecorded)
    def _record_disclosure(
        self,
        disclosure_id: str,
        recipient_kind: str,
        recipient: str,
        purpose: str,
        channel: str,
        data_classes: list[str],
        entries: list[dict[str, Any]],
        basis: str,
        consent_id: str,
        consent_version: int,
        order_reference: str,
        notice: str,
        disclosed_at: datetime,
        case_id: str,
        referral_id: str,
    ) -> None:
        self.disclosures_recorded += 1
        consent = self.consents.get(consent_id)
        if consent is not None:
            consent.disclosed_to.append([disclosure_id, recipient, disclosed_at])

    @event(EmergencyDisclosureRecorded)
    def _record_emergency_disclosure(
        self,
        disclosure_id: str,
        recipient_kind: str,
        recipient: str,
        purpose: str,
        channel: str,
        data_classes: list[str],
        entries: list[dict[str, Any]],
        basis: str,
        consent_id: str,
        consent_version: int,
        order_reference: str,
        notice: str,
        disclosed_at: datetime,
        case_id: str,
        referral_id: str,
    ) -> None:
        self.disclosures_recorded += 1

    class AccountingRequested(RecordAggregate.Event):
        """The client (or someone on their behalf) asked for the accounting of disclosures."""

        since: datetime
        part2: bool

    @event(AccountingRequested)
    def request_accounting(self, since: datetime, part2: bool) -> None:
        pass


DISCLOSURES = (Client.DisclosureRecorded, Client.EmergencyDisclosureRecorded)
"""Every event that records a disclosure (a tuple, for isinstance)."""
Disclosure = Client.DisclosureRecorded | Client.EmergencyDisclosureRecorded


def checked_value(name: str, value: Any) -> Any:
    """A corrected value of the type the field holds: text, or a date for date_of_birth."""
    if name == "date_of_birth":
        if value is not None and not (isinstance(value, date) and not isinstance(value, datetime)):
            try:
                value = date.fromisoformat(str(value))
            except ValueError:
                raise InvalidValueError(
                    f"date_of_birth must be a date (YYYY-MM-DD), got {value!r}"
                ) from None
        check_birth_date(value)
        return value
    if not isinstance(value, str):
        raise InvalidValueError(f"{name} must be text, got {value!r}")
    if name in ("given_name", "family_name") and not value.strip():
        raise InvalidValueError(f"{name} cannot be blank")
    return value
