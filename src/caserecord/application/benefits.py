"""Commands and reads of a case's benefits applications (``domain/benefits.py``)."""

from datetime import date
from typing import Any, Unpack
from uuid import UUID

from caserecord.application.base import CommandResult, Options, new_id
from caserecord.application.need_to_know import NeedToKnow, Reading
from caserecord.application.pages import keyset_page
from caserecord.domain.benefits import BenefitApplication
from caserecord.domain.case import Case
from caserecord.domain.errors import BenefitApplicationNotFoundError, EntryNotFoundError
from caserecord.domain.recording import Actor
from caserecord.presenters import benefit_to_dict


class BenefitCommands(NeedToKnow):
    """Each step of an application is one command; starting one may submit it at once."""

    def start_benefit_application(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        program: str,
        agency_name: str,
        submitted_on: date | None = None,
        expected_decision_on: date | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        application_id = new_id()

        def start(c: Case) -> None:
            c.start_benefit_application(application_id, program, agency_name)
            if submitted_on is not None or expected_decision_on is not None:
                c.submit_benefit_application(application_id, submitted_on, expected_decision_on)

        return self._update_case(actor, case_id, opts, start, application_id)

    def submit_benefit_application(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        application_id: str,
        submitted_on: date,
        expected_decision_on: date | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.submit_benefit_application(
                application_id, submitted_on, expected_decision_on
            ),
        )

    def request_benefit_documents(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        application_id: str,
        documents: list[str],
        due_on: date | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        request_id = new_id()

        def request(c: Case) -> None:
            c.request_benefit_documents(application_id, request_id, documents, due_on)

        return self._update_case(actor, case_id, opts, request, request_id)

    def provide_benefit_documents(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        application_id: str,
        request_id: str,
        provided_on: date,
        **opts: Unpack[Options],
    ) -> CommandResult:
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.provide_benefit_documents(application_id, request_id, provided_on),
        )

    def schedule_benefit_appointment(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        application_id: str,
        kind: str,
        on: date,
        location: str = "",
        **opts: Unpack[Options],
    ) -> CommandResult:
        appointment_id = new_id()

        def schedule(c: Case) -> None:
            c.schedule_benefit_appointment(application_id, appointment_id, kind, on, location)

        return self._update_case(actor, case_id, opts, schedule, appointment_id)

    def record_benefit_appointment(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        application_id: str,
        appointment_id: str,
        outcome: str,
        **opts: Unpack[Options],
    ) -> CommandResult:
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.record_benefit_appointment(application_id, appointment_id, outcome),
        )

    def decide_benefit_application(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        application_id: str,
        decision: str,
        amount: float | None = None,
        frequency: str = "",
        starts_on: date | None = None,
        ends_on: date | None = None,
        renews_on: date | None = None,
        appeal_by: date | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """``decision`` approved (with the award) or denied (with ``reason``)."""
        reason = opts.get("reason") or ""

        def decide(c: Case) -> None:
            if decision == "approved":
                c.approve_benefit_application(
                    application_id, amount, frequency, starts_on, ends_on, renews_on
                )
            else:
                c.deny_benefit_application(application_id, reason, appeal_by)

        return self._update_case(actor, case_id, opts, decide)

    def file_benefit_appeal(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        application_id: str,
        hearing_on: date | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        return self._update_case(
            actor, case_id, opts, lambda c: c.file_benefit_appeal(application_id, hearing_on)
        )

    def decide_benefit_appeal(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        application_id: str,
        outcome: str,
        note: str = "",
        **opts: Unpack[Options],
    ) -> CommandResult:
        return self._update_case(
            actor, case_id, opts, lambda c: c.decide_benefit_appeal(application_id, outcome, note)
        )

    def renew_benefit(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        application_id: str,
        ends_on: date | None = None,
        renews_on: date | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        return self._update_case(
            actor, case_id, opts, lambda c: c.renew_benefit(application_id, ends_on, renews_on)
        )

    def withdraw_benefit_application(
        self, actor: Actor, case_id: UUID, *, application_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_case(
            actor, case_id, opts, lambda c: c.withdraw_benefit_application(application_id, reason)
        )

    def mark_benefit_step_in_error(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        application_id: str,
        target_version: int,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """Mark a step of the application (the case version that recorded it) as entered
        in error, with a reason: the case's ``EntryMarkedInError``, as for any entry.  A
        version that recorded no step of this application is not found."""
        reason = opts.get("reason") or ""

        def mark(c: Case) -> None:
            application = c.benefit_applications.get(application_id)
            if application is None or application.in_error:
                raise BenefitApplicationNotFoundError(
                    f"no benefits application {application_id} on this case"
                )
            if target_version not in application.step_versions():
                raise EntryNotFoundError(
                    f"version {target_version} is no step of application {application_id}"
                )
            c.mark_entry_in_error(target_version, reason)

        return self._update_case(actor, case_id, opts, mark)

    # ---- reads ---------------------------------------------------------------------
    def get_benefit_application(
        self, actor: Actor, case_id: UUID, application_id: str
    ) -> dict[str, Any]:
        case = self._case(actor, case_id)
        application = case.benefit_applications.get(application_id)
        if application is None or application.in_error:
            raise BenefitApplicationNotFoundError(
                f"no benefits application {application_id} on this case"
            )
        found = self.reading(actor, case).entry(benefit_to_dict(case_id, application))
        return found | {"case_version": case.version}

    def case_benefit_applications(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        limit: int,
        before: int | None = None,
        version: int | None = None,
    ) -> dict[str, Any]:
        """A page of the case's applications, latest started first."""
        case = self._case(actor, case_id, version)
        reading = self.reading(actor, case if version is None else self._case(actor, case_id))
        page = self.benefit_page(case, limit=limit, before=before, reading=reading)
        return page | {"case_version": case.version}

    def benefit_page(
        self, case: Case, *, limit: int, before: int | None = None, reading: Reading | None = None
    ) -> dict[str, Any]:
        """``reading``: the reader's, whose need to know redacts the applications."""
        standing: list[BenefitApplication] = [
            a for a in case.benefit_applications.values() if not a.in_error
        ]
        page, next_before = keyset_page(reversed(standing), lambda a: a.version, limit, before)
        items = [benefit_to_dict(case.id, a) for a in page]
        return {
            "items": items if reading is None else [reading.entry(a) for a in items],
            "application_count": len(standing),
            "next_before": next_before,
        }
