"""A case's care team and its transfers: the commands, with the staff directory's checks,
and the questions other parts ask (who is on the team on a day)."""

from datetime import UTC, date, datetime
from typing import Any, Unpack
from uuid import UUID

from caserecord.application.base import CommandResult, Options, new_id
from caserecord.application.need_to_know import NeedToKnow
from caserecord.application.staff import StaffDirectory
from caserecord.domain.case import Case
from caserecord.domain.errors import CareTeamMemberNotFoundError, TransferNotFoundError
from caserecord.domain.recording import Actor
from caserecord.domain.values import Role
from caserecord.presenters import plain


def effective_day(opts: Options) -> date:
    """The day a command's change takes effect: its effective time's, else today (UTC)."""
    effective_at = opts.get("effective_at")
    moment = effective_at if isinstance(effective_at, datetime) else datetime.now(UTC)
    return moment.astimezone(UTC).date() if moment.utcoffset() is not None else moment.date()


class CareTeams(StaffDirectory, NeedToKnow):
    """Care team members added and ended, transfers requested and answered."""

    def add_care_team_member(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        role: str,
        staff_id: str | None = None,
        name: str = "",
        organisation: str = "",
        contact: str = "",
        starts_on: date | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """A staff member (``staff_id``: active in the directory; their name is the
        directory's) or someone outside the agency (``name``, ``organisation``,
        ``contact``).  ``starts_on``: the first day, by default the effective day."""
        if staff_id:
            name = self.check_staff(actor.agency_id, staff_id, "staff_id")["name"]
        first = starts_on or effective_day(opts)
        member_id = new_id()
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.add_care_team_member(
                member_id, staff_id or "", name, role, organisation, contact, first
            ),
            member_id,
        )

    def end_care_team_member(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        member_id: str,
        ends_on: date | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """``ends_on``: the member's last day, by default the effective day."""
        reason = opts.get("reason") or ""
        last = ends_on or effective_day(opts)
        return self._update_case(
            actor, case_id, opts, lambda c: c.end_care_team_member(member_id, last, reason)
        )

    def care_team(
        self, actor: Actor, case_id: UUID, on: date | None = None
    ) -> list[dict[str, Any]]:
        """The case's care team members, ended ones too, in the order they were added;
        ``on``: only those on the team that day."""
        case = self._case(actor, case_id)
        members = case.care_team.values() if on is None else case.care_team_on(on)
        reading = self.reading(actor, case)
        return [reading.entry(plain(m) | {"current": m.current}) for m in members]

    def on_care_team(self, actor: Actor, case_id: UUID, staff_id: str, at: datetime) -> bool:
        """Whether the staff member is on the case's care team at that moment (its day in
        UTC falls within one of their periods), as the record stands now."""
        day = at.astimezone(UTC).date()
        return any(m.staff_id == staff_id for m in self._case(actor, case_id).care_team_on(day))

    def care_team_member(self, actor: Actor, case_id: UUID, member_id: str) -> dict[str, Any]:
        case = self._case(actor, case_id)
        member = case.care_team.get(member_id)
        if member is None:
            raise CareTeamMemberNotFoundError(f"no care team member {member_id} on this case")
        found: dict[str, Any] = plain(member)
        shown = self.reading(actor, case).entry(found | {"current": member.current})
        return shown | {"case_version": case.version}

    def transfer(self, actor: Actor, case_id: UUID, transfer_id: str) -> dict[str, Any]:
        case = self._case(actor, case_id)
        found = [t for t in case.transfers if t.transfer_id == transfer_id]
        if not found:
            raise TransferNotFoundError(f"no transfer {transfer_id} on this case")
        return self.reading(actor, case).entry(plain(found[0])) | {"case_version": case.version}

    # ---- transfers -------------------------------------------------------------------
    def request_transfer(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        to_staff_id: str,
        handoff_summary: str,
        **opts: Unpack[Options],
    ) -> CommandResult:
        self._check_manager(actor, to_staff_id, "to_staff_id")
        transfer_id = new_id()
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.request_transfer(transfer_id, to_staff_id, handoff_summary),
            transfer_id,
        )

    def accept_transfer(
        self, actor: Actor, case_id: UUID, *, transfer_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        """By the staff member it goes to, or a supervisor; they must still be active."""

        def accept(case: Case) -> None:
            self._check_answer(actor, case, transfer_id)
            pending = case.pending_transfer
            assert pending is not None  # the check found it
            self._check_manager(actor, pending.to_staff_id, "to_staff_id")
            case.accept_transfer(transfer_id)

        # The receiver answers before the case is theirs.
        return self._update_case(actor, case_id, opts, accept, by_anyone=True)

    def decline_transfer(
        self, actor: Actor, case_id: UUID, *, transfer_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""

        def decline(case: Case) -> None:
            self._check_answer(actor, case, transfer_id)
            case.decline_transfer(transfer_id, reason)

        return self._update_case(actor, case_id, opts, decline, by_anyone=True)

    def cancel_transfer(
        self, actor: Actor, case_id: UUID, *, transfer_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_case(
            actor, case_id, opts, lambda c: c.cancel_transfer(transfer_id, reason)
        )

    def _check_answer(self, actor: Actor, case: Case, transfer_id: str) -> None:
        case.check_answer(transfer_id, actor.id, actor.role == Role.SUPERVISOR)
