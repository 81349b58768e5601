"""The agency's staff directory: adding, changing, deactivating and reactivating staff
members, and the checks other commands make against it."""

import time
from collections.abc import Callable, Mapping
from typing import Any, Unpack

from caserecord.application.base import CommandResult, Options
from caserecord.application.writes import RETRY_SECONDS, WritePath
from caserecord.domain.errors import (
    ConcurrencyConflictError,
    DuplicateIdError,
    StaffInactiveError,
    StaffNotFoundError,
    UnknownStaffError,
)
from caserecord.domain.recording import Actor
from caserecord.domain.staff import (
    StaffMember,
    StaffRoster,
    check_staff_id,
    roster_id,
    staff_member_id,
)


def staff_to_dict(member: StaffMember) -> dict[str, Any]:
    return {
        "staff_id": member.staff_id,
        "agency_id": member.agency_id,
        "name": member.name,
        "role": member.role,
        "active": member.active,
        "caseload_limit": member.caseload_limit,
        "version": member.version,
        "added_at": member.created_on,
        "updated_at": member.modified_on,
    }


class StaffDirectory(WritePath):
    """Staff members of the caller's agency, and the questions other parts ask of them:
    who a staff id is (``find_staff``), whether one may be given work (``check_staff``)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self._directories: set[str] = set()  # agencies known to have a staff directory

    def add_staff_member(
        self,
        actor: Actor,
        *,
        staff_id: str,
        name: str,
        role: str,
        caseload_limit: int | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        check_staff_id(staff_id)
        deadline = time.monotonic() + RETRY_SECONDS
        with self._turn(roster_id(actor.agency_id)):
            while True:
                try:
                    return self._add_member(actor, staff_id, name, role, caseload_limit, opts)
                except ConcurrencyConflictError:
                    # Another member was added to the roster first (or this one was).
                    if time.monotonic() > deadline:
                        raise

    def _add_member(
        self,
        actor: Actor,
        staff_id: str,
        name: str,
        role: str,
        caseload_limit: int | None,
        opts: Options,
    ) -> CommandResult:
        if self._member(actor.agency_id, staff_id) is not None:
            raise DuplicateIdError(f"staff member {staff_id} already exists")
        roster = self._roster(actor.agency_id)
        with self._recording(actor, opts):
            member = StaffMember(
                agency_id=actor.agency_id,
                staff_id=staff_id,
                name=name,
                role=role,
                caseload_limit=caseload_limit,
            )
            if roster is None:
                roster = StaffRoster(agency_id=actor.agency_id)
            roster.list_member(staff_id)
        return self._save(actor, member, opts, staff_id, also=(roster,))

    def update_staff_member(
        self,
        actor: Actor,
        staff_id: str,
        *,
        name: str,
        role: str,
        caseload_limit: int | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        return self._update_staff(
            actor, staff_id, opts, lambda m: m.update(name, role, caseload_limit)
        )

    def deactivate_staff_member(
        self, actor: Actor, staff_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_staff(actor, staff_id, opts, lambda m: m.deactivate(reason))

    def reactivate_staff_member(
        self, actor: Actor, staff_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_staff(actor, staff_id, opts, lambda m: m.reactivate(reason))

    # ---- queries -------------------------------------------------------------------
    def staff_member(self, actor: Actor, staff_id: str) -> dict[str, Any]:
        """A staff member of the caller's agency (:class:`StaffNotFoundError` if none)."""
        return staff_to_dict(self._staff(actor, staff_id))

    def find_staff(self, agency_id: str, staff_id: str) -> dict[str, Any] | None:
        """The agency's staff member with this id, active or not, or None: who a token or
        an on-behalf-of header names."""
        member = self._member(agency_id, staff_id)
        return None if member is None else staff_to_dict(member)

    def check_staff(self, agency_id: str, staff_id: str, field: str) -> dict[str, Any]:
        """The active staff member a command names in ``field`` (a case manager, a care
        team member, the receiver of a transfer); refused if unknown or inactive."""
        member = self._member(agency_id, staff_id)
        if member is None:
            raise UnknownStaffError(
                f"{field}: {staff_id!r} is not a staff member of the agency "
                "(add them to the staff directory first)",
                staff_id=staff_id,
            )
        if not member.active:
            raise StaffInactiveError(
                f"{field}: staff member {staff_id} is inactive and cannot be given work",
                staff_id=staff_id,
            )
        return staff_to_dict(member)

    def staff_of_agency(self, agency_id: str) -> list[dict[str, Any]]:
        """Every staff member of the agency, active or not, in the order they were added
        (none while the agency has not set up its directory)."""
        roster = self._roster(agency_id)
        staff_ids = roster.staff_ids if roster is not None else []
        return [m for i in staff_ids if (m := self.find_staff(agency_id, i)) is not None]

    def has_directory(self, agency_id: str) -> bool:
        """Whether the agency has added a staff member: from then on the work a command
        gives (a case, a transfer) goes to active members of its directory only."""
        # A roster is never removed: an agency found to have one is remembered.
        known = self._directories
        if agency_id not in known and self._roster(agency_id) is not None:
            known.add(agency_id)
        return agency_id in known

    def _check_manager(self, actor: Actor, case_manager_id: str, field: str) -> None:
        """Once the agency has a staff directory, a case (or a task) goes to an active member
        of it. Before, case manager ids stay free text, as cases recorded before the directory
        name them (docs/decisions/0014).  ``field``: where the command names it."""
        # A blank id is the case's own rule to refuse, with its own message.
        if not isinstance(case_manager_id, str) or not case_manager_id.strip():
            return
        if self.has_directory(actor.agency_id):
            self.check_staff(actor.agency_id, case_manager_id, field)

    # ---- internals -----------------------------------------------------------------
    def _member(self, agency_id: str, staff_id: str) -> StaffMember | None:
        if not isinstance(staff_id, str) or not staff_id.strip():
            return None
        member = self._get(StaffMember, staff_member_id(agency_id, staff_id), None)
        if member is None or member.agency_id != agency_id or member.staff_id != staff_id:
            return None
        return member

    def _roster(self, agency_id: str) -> StaffRoster | None:
        roster = self._get(StaffRoster, roster_id(agency_id), None)
        return roster if roster is not None and roster.agency_id == agency_id else None

    def _staff(self, actor: Actor, staff_id: str) -> StaffMember:
        member = self._member(actor.agency_id, staff_id)
        if member is None:
            raise StaffNotFoundError(f"no staff member {staff_id}")
        return member

    def _update_staff(
        self,
        actor: Actor,
        staff_id: str,
        opts: Options,
        command: Callable[[StaffMember], None],
    ) -> CommandResult:
        record_id = staff_member_id(actor.agency_id, staff_id)
        return self._retrying(
            actor, record_id, opts, lambda: self._staff(actor, staff_id), command, staff_id
        )
