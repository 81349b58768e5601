"""One-line human summaries of events, shared by the audit trail and the case timeline.

They name what happened and to which item, but leave free text (notes, summaries) out:
the audit trail is read by people who may not need to see the clinical content.
"""

from collections.abc import Callable
from difflib import get_close_matches
from typing import Any

Data = dict[str, Any]


def _short(value: object) -> str:
    text = str(value or "")
    return text[:8] if len(text) > 8 else text


def _fixed(text: str) -> Callable[[Data], str]:
    return lambda _: text


def _changes(d: Data) -> str:
    fields = ", ".join(str(c.get("field")) for c in d.get("changes", []))
    return f"Client details corrected ({fields})"


def _note(d: Data) -> str:
    # A contact that did not take place says so; one that did reads as before.
    status = d.get("contact_status", "happened")
    shown = [d.get("contact_kind"), d.get("contact_mode")] + (
        [status] if status != "happened" else []
    )
    return f"Progress note recorded ({', '.join(str(v) for v in shown)})"


SUMMARIES: dict[str, Callable[[Data], str]] = {
    "Registered": _fixed("Client registered"),
    "DetailsCorrected": _changes,
    "SupportContactAdded": lambda d: f"Support contact added ({d.get('relationship')})",
    "SupportContactRemoved": lambda d: f"Support contact {_short(d.get('contact_id'))} removed",
    "Opened": lambda d: (
        f"Case opened at intake ({d.get('specialty')}), manager {d.get('case_manager_id')}"
        + (", waitlisted" if d.get("waitlisted") else "")
    ),
    "NeedsAssessed": lambda d: (
        "Needs assessed: "
        + ", ".join(f"{a.get('domain')} {a.get('level')}" for a in d.get("assessments", []))
    ),
    "PriorTreatmentReviewed": lambda d: (
        f"Prior treatment reviewed: {d.get('treatment')} (effectiveness {d.get('effectiveness')}/5)"
    ),
    "CaseManagerAssigned": lambda d: f"Case transferred to {d.get('case_manager_id')}",
    "PlanDrafted": lambda d: f"Plan drafted: {d.get('title')}",
    "PlanRevised": lambda d: f"Plan revised: {d.get('title')}",
    "PlanActivated": _fixed("Plan activated"),
    "PlanSuspended": _fixed("Plan suspended"),
    "PlanResumed": _fixed("Plan resumed"),
    "PlanCompleted": _fixed("Plan completed"),
    "PlanRevoked": _fixed("Plan revoked"),
    "GoalAdded": lambda d: f"Goal added ({d.get('need_domain')})",
    "GoalRevised": lambda d: f"Goal {_short(d.get('goal_id'))} revised",
    "GoalLifecycleChanged": lambda d: (
        f"Goal {_short(d.get('goal_id'))} is now {d.get('lifecycle')}"
    ),
    "GoalProgressRecorded": lambda d: (
        f"Goal {_short(d.get('goal_id'))} progress: {d.get('achievement')}"
    ),
    "ReferralMade": lambda d: (
        f"Referral made to {d.get('organisation')} ({d.get('service_name')}, {d.get('urgency')})"
    ),
    "ReferralReceived": lambda d: f"Referral {_short(d.get('referral_id'))} received",
    "ReferralAccepted": lambda d: f"Referral {_short(d.get('referral_id'))} accepted",
    "ReferralWaitlisted": lambda d: f"Referral {_short(d.get('referral_id'))} waitlisted",
    "ReferralDeclined": lambda d: (
        f"Referral {_short(d.get('referral_id'))} declined by {d.get('declined_by')}"
        + (f" ({d['reason_code']})" if d.get("reason_code") else "")
    ),
    "ReferralInProgress": lambda d: f"Referral {_short(d.get('referral_id'))} in progress",
    "ReferralCompleted": lambda d: (
        f"Referral {_short(d.get('referral_id'))} completed"
        + (f" ({d['outcome']})" if d.get("outcome") else "")
    ),
    "ReferralWithdrawn": lambda d: f"Referral {_short(d.get('referral_id'))} withdrawn",
    "ProgressNoteRecorded": _note,
    "AddendumAppended": lambda d: f"Addendum appended to note {_short(d.get('note_id'))}",
    "EntryMarkedInError": lambda d: f"Entry v{d.get('target_version')} marked in error",
    "ServiceStarted": _fixed("Service started (off the waitlist)"),
    "CasePutOnHold": lambda d: (
        "Case put on hold" + (f" until {d.get('until')}" if d.get("until") else "")
    ),
    "CaseResumed": _fixed("Case resumed"),
    "Closed": lambda d: (
        "Case closed" + (f" ({d.get('discharge_reason')})" if d.get("discharge_reason") else "")
    ),
    "PlanReviewed": lambda d: (
        f"Plan reviewed ({d.get('outcome')}), next review {d.get('next_review_on') or 'none'}"
    ),
    "GoalSettled": lambda d: f"Goal {_short(d.get('goal_id'))} settled: {d.get('settlement')}",
    "ReferralLeftOpen": lambda d: f"Referral {_short(d.get('referral_id'))} left open",
    "TaskCreated": lambda d: (
        f"Task for {d.get('owner_id')} due {d.get('due_on')} ({d.get('concerns')})"
    ),
    "TaskCompleted": lambda d: f"Task {_short(d.get('task_id'))} completed",
    "TaskReassigned": lambda d: (
        f"Task {_short(d.get('task_id'))} reassigned to {d.get('owner_id')}"
    ),
    "TaskCancelled": lambda d: f"Task {_short(d.get('task_id'))} cancelled",
    "BenefitApplicationStarted": lambda d: (
        f"Benefits application {_short(d.get('application_id'))} started: "
        f"{d.get('program')} to {d.get('agency_name')}"
    ),
    "BenefitApplicationSubmitted": lambda d: (
        f"Benefits application {_short(d.get('application_id'))} submitted on "
        f"{d.get('submitted_on')}, decision expected {d.get('expected_decision_on')}"
    ),
    "BenefitDocumentsRequested": lambda d: (
        f"Benefits: {len(d.get('documents', []))} document(s) requested"
        + (f", due {d.get('due_on')}" if d.get("due_on") else "")
    ),
    "BenefitDocumentsProvided": lambda d: f"Benefits: documents provided {d.get('provided_on')}",
    "BenefitAppointmentScheduled": lambda d: (
        f"Benefits: {d.get('kind')} appointment on {d.get('on')}"
    ),
    "BenefitAppointmentRecorded": lambda d: f"Benefits: appointment {d.get('outcome')}",
    "BenefitApplicationApproved": lambda d: (
        f"Benefits application {_short(d.get('application_id'))} approved: "
        f"{d.get('amount')} {d.get('frequency')} from {d.get('starts_on')}"
    ),
    "BenefitApplicationDenied": lambda d: (
        f"Benefits application {_short(d.get('application_id'))} denied"
    ),
    "BenefitAppealFiled": lambda d: (
        "Benefits: appeal filed"
        + (f", hearing {d.get('hearing_on')}" if d.get("hearing_on") else "")
    ),
    "BenefitAppealDecided": lambda d: f"Benefits: appeal decided ({d.get('outcome')})",
    "BenefitRenewed": lambda d: (
        "Benefits renewed" + (f", next renewal {d.get('renews_on')}" if d.get("renews_on") else "")
    ),
    "BenefitApplicationWithdrawn": lambda d: (
        f"Benefits application {_short(d.get('application_id'))} withdrawn"
    ),
    "InstrumentAdministered": lambda d: (
        f"{d.get('instrument')} v{d.get('definition_version')} administered"
        + (f" (safety flag: {', '.join(d['safety_flags'])})" if d.get("safety_flags") else "")
    ),
    "SafetyFlagReviewed": lambda d: f"Safety flag of v{d.get('flag_version')} reviewed",
    "TransferRequested": lambda d: f"Transfer to {d.get('to_staff_id')} requested",
    "TransferAccepted": lambda d: f"Transfer {_short(d.get('transfer_id'))} accepted",
    "TransferDeclined": lambda d: f"Transfer {_short(d.get('transfer_id'))} declined",
    "TransferCancelled": lambda d: f"Transfer {_short(d.get('transfer_id'))} cancelled",
    "CareTeamMemberAdded": lambda d: (
        f"Care team: {d.get('role')} {d.get('staff_id') or 'from outside the agency'} added"
    ),
    "CareTeamMemberEnded": lambda d: f"Care team member {_short(d.get('member_id'))} ended",
    "BreakGlassOpened": lambda d: (
        f"Break-glass read by {d.get('staff_id')} for {d.get('minutes')} min"
    ),
    "EntryRelabelled": lambda d: (
        f"Entry v{d.get('target_version')} labelled {', '.join(d.get('labels', [])) or 'none'}"
    ),
    "ConsentGranted": lambda d: (
        f"Consent {_short(d.get('consent_id'))} granted: {d.get('recipient')} "
        f"({d.get('purpose')}; {', '.join(d.get('data', []))})"
    ),
    "ConsentRevoked": lambda d: f"Consent {_short(d.get('consent_id'))} revoked",
    "DisclosureRecorded": lambda d: (
        f"Disclosed to {d.get('recipient')} ({d.get('purpose')}, {d.get('channel')}) "
        f"on {d.get('basis')}"
    ),
    "EmergencyDisclosureRecorded": lambda d: (
        f"Disclosed to {d.get('recipient')} in an emergency, without consent (break the glass)"
    ),
    "AccountingRequested": _fixed("Accounting of disclosures requested"),
    "Reopened": _fixed("Case reopened"),
}


def summarise(event_type: str, data: Data) -> str:
    describe = SUMMARIES.get(event_type)
    return describe(data) if describe else event_type


def unknown_event_type(event_type: str) -> str | None:
    """Why `event_type` names no event the records hold (with the nearest that does), or None
    when it names one: a filter on a misspelt type would otherwise just match nothing."""
    if event_type in SUMMARIES:
        return None
    # "Case.ProgressNoteRecorded", as docs/events.md writes it, is nearest its last part.
    nearest = get_close_matches(event_type.rsplit(".", 1)[-1], SUMMARIES, n=1, cutoff=0.7)
    hint = f" (did you mean {nearest[0]}?)" if nearest else ""
    return f"{event_type!r} is not an event type{hint}"
