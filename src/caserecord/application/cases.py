"""Commands on a case: intake, assessment, history, assignment, closure, corrections,
referrals and notes."""

from datetime import date
from typing import Any, Unpack
from uuid import UUID

from caserecord.application.base import CommandResult, Options, new_id, new_version
from caserecord.application.writes import WritePath
from caserecord.domain.case import Case
from caserecord.domain.recording import Actor
from caserecord.domain.values import text_list


class CaseCommands(WritePath):
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
        **opts: Unpack[Options],
    ) -> CommandResult:
        self._client(actor, client_id)
        with self._recording(actor, opts):
            case = Case(
                client_id=client_id,
                agency_id=actor.agency_id,
                specialty=specialty,
                referral_source=referral_source,
                presenting_needs=text_list(presenting_needs, "presenting_needs"),
                interview_summary=interview_summary,
                case_manager_id=case_manager_id,
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
        return self._update_case(
            actor, case_id, opts, lambda c: c.assign_case_manager(case_manager_id, reason)
        )

    def close_case(
        self, actor: Actor, case_id: UUID, *, outcome: str, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_case(actor, case_id, opts, lambda c: c.close(reason, outcome))

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
    def accept_referral(
        self, actor: Actor, case_id: UUID, *, referral_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        return self._update_case(actor, case_id, opts, lambda c: c.accept_referral(referral_id))

    def decline_referral(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        referral_id: str,
        declined_by: str,
        **opts: Unpack[Options],
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_case(
            actor, case_id, opts, lambda c: c.decline_referral(referral_id, declined_by, reason)
        )

    def complete_referral(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        referral_id: str,
        outcome: str,
        **opts: Unpack[Options],
    ) -> CommandResult:
        return self._update_case(
            actor, case_id, opts, lambda c: c.complete_referral(referral_id, outcome)
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
        contact_kind: str,
        contact_mode: str,
        present: list[str] | None = None,
        labels: list[str] | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """``labels``: sensitivity labels the note carries besides its case's own."""
        note_id = new_id()
        people = text_list(present or [], "present")
        extra = text_list(labels or [], "labels")
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.record_note(
                note_id,
                text,
                contact_kind,
                contact_mode,
                people,
                self.entries(c).note(note_id),
                extra,
            ),
            note_id,
        )

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
