"""The resource directory: the services of organisations a case manager refers clients to.

A directory belongs to one agency, or to a network of agencies that share it; its id names
which (``agency:...`` or ``network:...``).  Each service is a record whose id is derived
from the directory and the service's own id (an HSDS id, kept as given), so importing the
same file twice finds the same records, and two writers listing one id conflict in the
store.  ``DirectoryIndex``, one per directory, lists the service ids and is saved with each
new service in the same transaction (as the staff roster is, docs/decisions/0014)."""

import re
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from caserecord.domain.base import RecordAggregate, require_reason
from caserecord.domain.errors import (
    DuplicateIdError,
    InvalidTransitionError,
    InvalidValueError,
    NothingToCorrectError,
)

SERVICE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
"""A service id: an HSDS id (usually a UUID) or short text an admin chooses."""
CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")
"""A taxonomy code of a need or a service kind ("food-insecurity", "food-pantry")."""
MAX_RESPONSE_DAYS = 365
TEXT_FIELDS = (
    "organization_id",
    "organization_name",
    "name",
    "description",
    "url",
    "email",
    "phone",
    "eligibility",
)
LIST_FIELDS = ("needs", "kinds", "areas")
LOCATION_FIELDS = ("id", "name", "address", "city", "region", "postal_code")
FIELDS = (*TEXT_FIELDS, *LIST_FIELDS, "locations", "response_days")
"""What a service records, in the order the directory shows it."""

DIRECTORY_NAMESPACE = uuid5(NAMESPACE_URL, "urn:caserecord:directory")


def directory_service_id(directory_id: str, service_id: str) -> UUID:
    """The record id of the directory's service with this id."""
    return uuid5(DIRECTORY_NAMESPACE, f"{directory_id}\x1f{service_id}")


def directory_index_id(directory_id: str) -> UUID:
    """The record id of the directory's index of services."""
    return uuid5(DIRECTORY_NAMESPACE, f"{directory_id}\x1f")


def check_service_id(service_id: object) -> str:
    if not isinstance(service_id, str) or not SERVICE_ID.fullmatch(service_id):
        raise InvalidValueError(
            "service_id must be 1-100 letters, digits or . _ : - starting with a letter or "
            f"digit (got {service_id!r})"
        )
    return service_id


def checked_details(details: dict[str, Any]) -> dict[str, Any]:
    """A service's details as recorded: every field, texts stripped, codes and areas in a
    stable order (so an import that lists them in another order changes nothing)."""
    unknown = sorted(set(details) - set(FIELDS))
    if unknown:
        raise InvalidValueError(f"a directory service has no field {unknown[0]}")
    out: dict[str, Any] = {}
    for field in TEXT_FIELDS:
        value = details.get(field) or ""
        if not isinstance(value, str):
            raise InvalidValueError(f"{field} must be text")
        out[field] = value.strip()
    for field in ("name", "organization_name"):
        if not out[field]:
            raise InvalidValueError(f"a directory service needs {field.replace('_', ' ')}")
    # Ids made from what names the thing, so an export read back in names it the same.
    out["organization_id"] = out["organization_id"] or derived_id("org", out["organization_name"])
    for field in ("needs", "kinds"):
        out[field] = sorted(set(check_codes(details.get(field) or [], field)))
    out["areas"] = sorted({check_text(a, "areas") for a in details.get("areas") or []})
    out["locations"] = [
        check_location(loc, i) for i, loc in enumerate(details.get("locations") or [])
    ]
    out["response_days"] = check_response_days(details.get("response_days"))
    return out


def check_codes(codes: object, field: str) -> list[str]:
    if not isinstance(codes, list):
        raise InvalidValueError(f"{field} must be a list of codes")
    for code in codes:
        if not isinstance(code, str) or not CODE.fullmatch(code):
            raise InvalidValueError(
                f"{field}: {code!r} is not a code (lower-case letters, digits, - and _)"
            )
    return codes


def check_text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError(f"{field} must hold non-empty texts")
    return value.strip()


def check_location(location: object, index: int) -> dict[str, str]:
    where = f"locations[{index}]"
    if not isinstance(location, dict):
        raise InvalidValueError(f"{where} must be an object")
    unknown = sorted(set(location) - set(LOCATION_FIELDS))
    if unknown:
        raise InvalidValueError(f"{where} has no field {unknown[0]}")
    out = {}
    for field in LOCATION_FIELDS:
        value = location.get(field) or ""
        if not isinstance(value, str):
            raise InvalidValueError(f"{where}.{field} must be text")
        out[field] = value.strip()
    if not out["name"] and not out["address"]:
        raise InvalidValueError(f"{where} needs a name or an address")
    out["id"] = out["id"] or derived_id("loc", out["name"], out["address"], out["postal_code"])
    return out


def derived_id(*parts: str) -> str:
    return str(uuid5(DIRECTORY_NAMESPACE, "\x1f".join(parts)))


def check_response_days(days: object) -> int | None:
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_RESPONSE_DAYS:
        raise InvalidValueError(
            f"response_days must be a whole number of days from 1 to {MAX_RESPONSE_DAYS}"
        )
    return days


class DirectoryService(RecordAggregate):
    """One service of an organisation, where it is offered, whom it serves and how soon it
    answers a referral."""

    @staticmethod
    def create_id(directory_id: str, service_id: str) -> UUID:
        return directory_service_id(directory_id, service_id)

    @classmethod
    def listed(
        cls, directory_id: str, service_id: str, details: dict[str, Any]
    ) -> "DirectoryService":
        """A new service, its details recorded as checked (texts stripped, codes sorted)."""
        check_service_id(service_id)
        return cls(
            directory_id=directory_id, service_id=service_id, details=checked_details(details)
        )

    class Listed(RecordAggregate.Created):
        directory_id: str
        service_id: str
        details: dict[str, Any]

    @event(Listed)
    def __init__(self, directory_id: str, service_id: str, details: dict[str, Any]) -> None:
        check_service_id(service_id)
        self.directory_id = directory_id
        self.service_id = service_id
        self.details = checked_details(details)
        self.active = True

    class Updated(RecordAggregate.Event):
        """``changes``: the new value of each field that changed, and only those."""

        changes: dict[str, Any]

    def changes_to(self, details: dict[str, Any]) -> dict[str, Any]:
        """The fields ``details`` would change, with their new values (none: nothing)."""
        new = checked_details(details)
        return {f: v for f, v in new.items() if v != self.details.get(f)}

    def update(self, details: dict[str, Any]) -> None:
        changes = self.changes_to(details)
        if not changes:
            raise NothingToCorrectError("the new values equal the recorded ones")
        self._update(changes=changes)

    @event(Updated)
    def _update(self, changes: dict[str, Any]) -> None:
        self.details = self.details | changes

    class Deactivated(RecordAggregate.Event):
        reason: str

    @event(Deactivated)
    def deactivate(self, reason: str) -> None:
        if not self.active:
            raise InvalidTransitionError(f"directory service {self.service_id} is already inactive")
        require_reason(reason, "deactivate a directory service")
        self.active = False

    class Reactivated(RecordAggregate.Event):
        reason: str

    @event(Reactivated)
    def reactivate(self, reason: str) -> None:
        if self.active:
            raise InvalidTransitionError(f"directory service {self.service_id} is already active")
        require_reason(reason, "reactivate a directory service")
        self.active = True


class DirectoryIndex(RecordAggregate):
    """Which service ids a directory holds, in the order they were listed: saved with each
    new service in one transaction, so listing, searching and exporting the directory read
    one record and each service, with no read model that may lag behind an import."""

    @staticmethod
    def create_id(directory_id: str) -> UUID:
        return directory_index_id(directory_id)

    class Started(RecordAggregate.Created):
        directory_id: str

    @event(Started)
    def __init__(self, directory_id: str) -> None:
        self.directory_id = directory_id
        self.service_ids: list[str] = []

    class ServiceListed(RecordAggregate.Event):
        service_id: str

    @event(ServiceListed)
    def list_service(self, service_id: str) -> None:
        if service_id in self.service_ids:
            raise DuplicateIdError(f"directory service {service_id} already exists")
        self.service_ids.append(service_id)
