"""Commands on a case: intake, assessment, history, assignment, closure, corrections,
referrals and notes."""

from collections.abc import Mapping
from datetime import date
from typing import Any, Unpack
from uuid import UUID

from caserecord.application.base import CommandResult, Options, new_id, new_version
from caserecord.application.staff import StaffDirectory
from caserecord.domain.case import Case
from caserecord.domain.client import SupportContact
from caserecord.domain.contact import Contact
from caserecord.domain.errors import InvalidValueError, ReferralNotFoundError
from caserecord.domain.recording import Actor
from caserecord.domain.values import (
    ContactKind,
    DeclinedBy,
    ReferralSettlement,
    ReferralStatus,
    parse,
    text_list,
)


class CaseCommands(StaffDirectory):
    """Intake, assessment, history, assignment, closure and corrections of a case."""

    def open_case(
        self,
        actor: Actor,
        *,
        client_id: UUID,
        specialty: str,
        referral_source: str,
        presenting_needs: list[str],
        interview_summary: str,
        case_manager_id: str,
        waitlisted: bool = False,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """``waitlisted``: the intake is done but service cannot start yet
        (``start_service`` starts it)."""
        self._client(actor, client_id)
        self._check_manager(actor, case_manager_id, "case_manager_id")
        with self._recording(actor, opts):
            case = Case(
                client_id=client_id,
                agency_id=actor.agency_id,
                specialty=specialty,
                referral_source=referral_source,
                presenting_needs=text_list(presenting_needs, "presenting_needs"),
                interview_summary=interview_summary,
                case_manager_id=case_manager_id,
                waitlisted=waitlisted,
            )
        return self._save(actor, case, opts)

    def assess_needs(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        assessments: list[dict[str, Any]],
        **opts: Unpack[Options],
    ) -> CommandResult:
        items = [dict(a) for a in assessments]
        return self._update_case(actor, case_id, opts, lambda c: c.assess_needs(items), new_version)

    def review_prior_treatment(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        treatment: str,
        provider: str = "",
        started_on: date | None = None,
        ended_on: date | None = None,
        outcome: str = "",
        effectiveness: int,
        notes: str = "",
        **opts: Unpack[Options],
    ) -> CommandResult:
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.review_prior_treatment(
                treatment, provider, started_on, ended_on, outcome, effectiveness, notes
            ),
            new_version,
        )

    def assign_case_manager(
        self, actor: Actor, case_id: UUID, *, case_manager_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        self._check_manager(actor, case_manager_id, "case_manager_id")
        return self._update_case(
            actor, case_id, opts, lambda c: c.assign_case_manager(case_manager_id, reason)
        )

    def start_service(self, actor: Actor, case_id: UUID, **opts: Unpack[Options]) -> CommandResult:
        return self._update_case(actor, case_id, opts, lambda c: c.start_service())

    def put_case_on_hold(
        self, actor: Actor, case_id: UUID, *, until: date | None = None, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_case(actor, case_id, opts, lambda c: c.put_on_hold(reason, until))

    def resume_case(self, actor: Actor, case_id: UUID, **opts: Unpack[Options]) -> CommandResult:
        return self._update_case(actor, case_id, opts, lambda c: c.resume())

    def close_case(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        outcome: str,
        discharge_reason: str = "",
        discharge_detail: str = "",
        aftercare_plan: str = "",
        follow_up_on: date | None = None,
        referrals: dict[str, dict[str, str]] | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """Closing settles the case's open items in the same save: each open referral as
        ``referrals`` says (id -> ``{"settlement": "withdraw" | "leave_open", "reason"}``,
        the reason defaulting to the closing's), then each open task is cancelled; a
        referral left unsaid refuses the closing.  ``discharge_reason`` "": a closure that
        does not say why (as callers written before there was one)."""
        reason = opts.get("reason") or ""

        def close(c: Case) -> None:
            for referral_id, how in (referrals or {}).items():
                settle_referral(c, referral_id, how, reason)
            for task_id in c.open_tasks():
                c.cancel_task(task_id, reason or "the case closed")
            c.close(
                reason, outcome, discharge_reason, discharge_detail, aftercare_plan, follow_up_on
            )

        return self._update_case(actor, case_id, opts, close)

    def reopen_case(self, actor: Actor, case_id: UUID, **opts: Unpack[Options]) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_case(actor, case_id, opts, lambda c: c.reopen(reason))

    def mark_entry_in_error(
        self, actor: Actor, case_id: UUID, *, target_version: int, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.mark_entry_in_error(
                target_version, reason, self.entries(c).entry(target_version)
            ),
        )

    def relabel_entry(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        target_version: int,
        labels: list[str],
        **opts: Unpack[Options],
    ) -> CommandResult:
        """Set the sensitivity labels of the entry a case version recorded (a reason is
        required)."""
        reason = opts.get("reason") or ""
        return self._update_case(
            actor, case_id, opts, lambda c: c.relabel_entry(target_version, labels, reason)
        )

    # ---- referrals (made by ``disclosures.DisclosureCommands``: a referral discloses) ----
    def receive_referral(
        self, actor: Actor, case_id: UUID, *, referral_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        return self._update_case(actor, case_id, opts, lambda c: c.receive_referral(referral_id))

    def accept_referral(
        self, actor: Actor, case_id: UUID, *, referral_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        return self._update_case(actor, case_id, opts, lambda c: c.accept_referral(referral_id))

    def waitlist_referral(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        referral_id: str,
        note: str = "",
        **opts: Unpack[Options],
    ) -> CommandResult:
        return self._update_case(
            actor, case_id, opts, lambda c: c.waitlist_referral(referral_id, note)
        )

    def start_referral(
        self, actor: Actor, case_id: UUID, *, referral_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        return self._update_case(actor, case_id, opts, lambda c: c.start_referral(referral_id))

    def decline_referral(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        referral_id: str,
        declined_by: str,
        reason_code: str = "other",
        **opts: Unpack[Options],
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.decline_referral(referral_id, declined_by, reason, reason_code),
        )

    def complete_referral(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        referral_id: str,
        outcome: str,
        note: str = "",
        **opts: Unpack[Options],
    ) -> CommandResult:
        return self._update_case(
            actor, case_id, opts, lambda c: c.complete_referral(referral_id, outcome, note)
        )

    def answer_referral(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        organization_id: str,
        referral_id: str,
        status: str,
        outcome: str = "",
        reason_code: str = "",
        note: str = "",
        **opts: Unpack[Options],
    ) -> CommandResult:
        """The provider's answer to a referral sent to ``organization_id`` (one sent to
        another organisation is not found): received, accepted, waitlisted, declined (a
        coded reason), in progress, or completed (a coded outcome)."""

        def answer(case: Case) -> None:
            if case.referral_addressee(referral_id) != organization_id:
                raise ReferralNotFoundError(f"no referral {referral_id} sent to you")
            provider_move(case, referral_id, status, outcome, reason_code, note)

        return self._update_case(actor, case_id, opts, answer)

    def record_referral_status(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        referral_id: str,
        status: str,
        outcome: str = "",
        reason_code: str = "",
        note: str = "",
        **opts: Unpack[Options],
    ) -> CommandResult:
        """A provider's answer as the agency's staff heard it (a provider with no token of
        its own): the steps ``answer_referral`` takes, recorded with the staff member as
        the actor."""
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: provider_move(c, referral_id, status, outcome, reason_code, note),
        )

    def withdraw_referral(
        self, actor: Actor, case_id: UUID, *, referral_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_case(
            actor, case_id, opts, lambda c: c.withdraw_referral(referral_id, reason)
        )

    # ---- notes ---------------------------------------------------------------------
    def record_note(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        text: str,
        contact_mode: str,
        contact_kind: str | None = None,
        present: list[str] | None = None,
        participants: Mapping[str, Any] | None = None,
        contact_status: str = "happened",
        location: str = "",
        duration_minutes: int | None = None,
        goal_ids: list[str] | None = None,
        referral_ids: list[str] | None = None,
        labels: list[str] | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """A progress note of a contact.  ``participants``: ``client`` (true or false),
        ``support_contact_ids`` (of the client's network), ``providers`` (``name``,
        ``organisation``), ``staff_ids``; without them, the client took part in a
        ``client`` contact.  ``contact_kind``, if not given, follows from who took part.
        ``labels``: sensitivity labels the note carries besides its case's own."""
        note_id = new_id()
        people = text_list(present or [], "present")
        extra = text_list(labels or [], "labels")
        contact = contact_of(
            participants,
            contact_kind,
            contact_status=contact_status,
            location=location,
            duration_minutes=duration_minutes,
            goal_ids=text_list(goal_ids or [], "goal_ids"),
            referral_ids=text_list(referral_ids or [], "referral_ids"),
        )
        kind = contact_kind or kind_of(contact)
        network = self._network(actor, case_id) if contact.support_contact_ids else {}
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.record_note(
                note_id,
                text,
                kind,
                contact_mode,
                people,
                None,  # the id was made above (a random UUID): no record holds it yet
                contact,
                network,
                extra,
            ),
            note_id,
        )

    def _network(self, actor: Actor, case_id: UUID) -> dict[str, SupportContact]:
        """The current support contacts of the case's client (the note is on the case, the
        network on the client)."""
        client = self._client(actor, self.client_of_case(actor, case_id))
        return {i: c for i, c in client.support_contacts.items() if c.removed_in is None}

    def append_addendum(
        self, actor: Actor, case_id: UUID, *, note_id: str, text: str, **opts: Unpack[Options]
    ) -> CommandResult:
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.append_addendum(note_id, text, self.entries(c).note(note_id)),
            new_version,
        )


def contact_of(
    participants: Mapping[str, Any] | None, contact_kind: str | None, **values: Any
) -> Contact:
    """The contact's values; without a word on the client, the client took part in a
    contact of kind ``client`` (as a note recorded before participants were named)."""
    given = dict(participants or {})
    unknown = sorted(set(given) - {"client", "support_contact_ids", "providers", "staff_ids"})
    if unknown:
        raise InvalidValueError(f"participants has unknown fields: {', '.join(unknown)}")
    client = given.get("client")
    if client is None:
        client = contact_kind == ContactKind.CLIENT or (contact_kind is None and not given)
    elif client is False and contact_kind == ContactKind.CLIENT:
        raise InvalidValueError("a client contact has the client among its participants")
    return Contact(
        client_participated=client,
        support_contact_ids=list(given.get("support_contact_ids") or []),
        providers=[dict(p) for p in given.get("providers") or []],
        staff_ids=list(given.get("staff_ids") or []),
        **values,
    )


def kind_of(contact: Contact) -> str:
    """The one kind of contact a note of version 1 named, from who took part."""
    if contact.client_participated:
        return ContactKind.CLIENT.value
    if contact.support_contact_ids:
        return ContactKind.SUPPORT_NETWORK.value
    if contact.providers:
        return ContactKind.PROVIDER.value
    return ContactKind.INTERNAL.value


def settle_referral(case: Case, referral_id: str, how: dict[str, str], default: str) -> None:
    if not isinstance(how, dict):
        raise InvalidValueError(f"referrals[{referral_id}] must be an object")
    settlement = parse(ReferralSettlement, how.get("settlement", ""), "settlement")
    why = how.get("reason") or default
    if settlement == ReferralSettlement.WITHDRAW:
        case.withdraw_referral(referral_id, why)
    else:
        case.leave_referral_open(referral_id, why)


def provider_move(
    case: Case, referral_id: str, status: str, outcome: str, reason_code: str, note: str
) -> None:
    """One of the provider's answers; the fields another answer takes are refused."""
    answered = parse(ReferralStatus, status, "status")
    if answered not in PROVIDER_ANSWERS:
        allowed = ", ".join(PROVIDER_ANSWERS)
        raise InvalidValueError(f"a provider's status is one of: {allowed} (got {status!r})")
    if outcome and answered != ReferralStatus.COMPLETED:
        raise InvalidValueError("only a completion records an outcome")
    if reason_code and answered != ReferralStatus.DECLINED:
        raise InvalidValueError("only a decline records a reason_code")
    if answered == ReferralStatus.RECEIVED:
        case.receive_referral(referral_id)
    elif answered == ReferralStatus.ACCEPTED:
        case.accept_referral(referral_id)
    elif answered == ReferralStatus.WAITLISTED:
        case.waitlist_referral(referral_id, note)
    elif answered == ReferralStatus.IN_PROGRESS:
        case.start_referral(referral_id)
    elif answered == ReferralStatus.DECLINED:
        if not reason_code:
            raise InvalidValueError("a provider's decline gives a reason_code")
        case.decline_referral(referral_id, DeclinedBy.PROVIDER, note, reason_code)
    else:
        if not outcome:
            raise InvalidValueError("a completion records its outcome")
        case.complete_referral(referral_id, outcome, note)


PROVIDER_ANSWERS = tuple(
    s.value
    for s in (
        ReferralStatus.RECEIVED,
        ReferralStatus.ACCEPTED,
        ReferralStatus.WAITLISTED,
        ReferralStatus.DECLINED,
        ReferralStatus.IN_PROGRESS,
        ReferralStatus.COMPLETED,
    )
)
