"""A staff member of an agency: who a token acts for, and to whom a case can be assigned.

One record per member, its id derived from the agency and the staff id the admin chose
(``staff_member_id``), so a lookup by staff id is a load by aggregate id, and two admins
adding the same staff id at once conflict in the store rather than both succeed."""

import re
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from caserecord.domain.base import RecordAggregate, require_reason
from caserecord.domain.errors import (
    DuplicateIdError,
    InvalidTransitionError,
    InvalidValueError,
    NothingToCorrectError,
)
from caserecord.domain.values import StaffRole, parse

STAFF_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
"""A staff id: short text an admin chooses ("cm-alice", an e-mail address), without
spaces, so it reads the same in a header, a path and a log."""

STAFF_NAMESPACE = uuid5(NAMESPACE_URL, "urn:caserecord:staff")


def staff_member_id(agency_id: str, staff_id: str) -> UUID:
    """The record id of the agency's staff member with this staff id."""
    return uuid5(STAFF_NAMESPACE, f"{agency_id}\x1f{staff_id}")


def roster_id(agency_id: str) -> UUID:
    """The record id of the agency's staff roster."""
    return uuid5(STAFF_NAMESPACE, f"{agency_id}\x1f")


def check_staff_id(staff_id: object, field: str = "staff_id") -> str:
    if not isinstance(staff_id, str) or not STAFF_ID.fullmatch(staff_id):
        raise InvalidValueError(
            f"{field} must be 1-100 letters, digits or . _ @ - "
            f"starting with a letter or digit (got {staff_id!r})"
        )
    return staff_id


def check_caseload_limit(limit: object) -> None:
    if limit is None:
        return
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise InvalidValueError("caseload_limit must be a whole number of cases, 0 or more")


class StaffMember(RecordAggregate):
    @staticmethod
    def create_id(agency_id: str, staff_id: str) -> UUID:
        return staff_member_id(agency_id, staff_id)

    class Added(RecordAggregate.Created):
        agency_id: str
        staff_id: str
        name: str
        role: str
        caseload_limit: int | None

    @event(Added)
    def __init__(
        self, agency_id: str, staff_id: str, name: str, role: str, caseload_limit: int | None
    ) -> None:
        check_staff_id(staff_id)
        check_member(name, role, caseload_limit)
        self.agency_id = agency_id
        self.staff_id = staff_id
        self.name = name
        self.role = role
        self.caseload_limit = caseload_limit
        self.active = True

    class Updated(RecordAggregate.Event):
        name: str
        role: str
        caseload_limit: int | None

    def update(self, name: str, role: str, caseload_limit: int | None) -> None:
        check_member(name, role, caseload_limit)
        if (name, role, caseload_limit) == (self.name, self.role, self.caseload_limit):
            raise NothingToCorrectError("the new values equal the recorded ones")
        self._update(name=name, role=role, caseload_limit=caseload_limit)

    @event(Updated)
    def _update(self, name: str, role: str, caseload_limit: int | None) -> None:
        self.name = name
        self.role = role
        self.caseload_limit = caseload_limit

    class Deactivated(RecordAggregate.Event):
        reason: str

    @event(Deactivated)
    def deactivate(self, reason: str) -> None:
        if not self.active:
            raise InvalidTransitionError(f"staff member {self.staff_id} is already inactive")
        require_reason(reason, "deactivate a staff member")
        self.active = False

    class Reactivated(RecordAggregate.Event):
        reason: str

    @event(Reactivated)
    def reactivate(self, reason: str) -> None:
        if self.active:
            raise InvalidTransitionError(f"staff member {self.staff_id} is already active")
        require_reason(reason, "reactivate a staff member")
        self.active = True


def check_member(name: str, role: str, caseload_limit: int | None) -> None:
    if not isinstance(name, str) or not name.strip():
        raise InvalidValueError("a staff member needs a name")
    parse(StaffRole, role, "role")
    check_caseload_limit(caseload_limit)


class StaffRoster(RecordAggregate):
    """Which staff ids the agency's directory holds, in the order they were added: saved
    with each new member in one transaction, so listing the directory reads one record,
    and an agency that has one has set up its directory."""

    @staticmethod
    def create_id(agency_id: str) -> UUID:
        return roster_id(agency_id)

    class Started(RecordAggregate.Created):
        agency_id: str

    @event(Started)
    def __init__(self, agency_id: str) -> None:
        self.agency_id = agency_id
        self.staff_ids: list[str] = []

    class MemberListed(RecordAggregate.Event):
        staff_id: str

    @event(MemberListed)
    def list_member(self, staff_id: str) -> None:
        if staff_id in self.staff_ids:
            raise DuplicateIdError(f"staff member {staff_id} already exists")
        self.staff_ids.append(staff_id)
