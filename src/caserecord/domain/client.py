"""The client: the person served. One client can have several cases over time."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from eventsourcing.domain import event

from caserecord.domain.base import RecordAggregate, require_reason
from caserecord.domain.errors import (
    DuplicateIdError,
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


class Client(RecordAggregate):
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
