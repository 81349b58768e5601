"""The case: one episode of case management for one client in one agency.

This module is longer than the others because the aggregate's event classes are nested in
``Case``: their topics (``caserecord.domain.case:Case.Opened``) are stored with every event,
so they stay in one class, each beside the command that records it.  What a correction
targets and how it is checked lives in ``corrections.py``; the parts of a case in
``entities.py``; its value rules in ``values.py``."""

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from caserecord.domain import case_upcasts
from caserecord.domain.base import RecordAggregate, require_reason
from caserecord.domain.benefits import (
    AppealOutcome,
    Appointment,
    AppointmentKind,
    AppointmentOutcome,
    BenefitApplication,
    BenefitStatus,
    DocumentRequest,
    check_award,
    check_documents,
    check_start,
    expected_decision,
)
from caserecord.domain.client import SupportContact
from caserecord.domain.consent import SPECIALTY_LABELS, data_classes
from caserecord.domain.contact import Contact
from caserecord.domain.corrections import locate
from caserecord.domain.entities import (
    Assessment,
    CareTeamMember,
    Change,
    Correction,
    Goal,
    GoalRevision,
    Plan,
    PlanReview,
    PlanVersion,
    PriorTreatment,
    Recorded,
    Referral,
    Referrals,
    SafetyFlag,
    Task,
    Transfer,
    current,
    last_standing,
)
from caserecord.domain.errors import (
    BenefitApplicationNotFoundError,
    CareTeamMemberNotFoundError,
    CaseClosedError,
    CaseNotClosedError,
    CaseNotInServiceError,
    ContactNotPermittedError,
    DuplicateIdError,
    EntryNotFoundError,
    GoalNotFoundError,
    GoalNotOnCurrentPlanError,
    GoalsNotSettledError,
    InvalidTransitionError,
    InvalidValueError,
    NoteNotFoundError,
    NothingToCorrectError,
    NotTheReceiverError,
    OpenItemsOnClosingError,
    PlanAlreadyCurrentError,
    PlanNotFoundError,
    ReferralNotFoundError,
    SafetyFlagNotFoundError,
    TaskNotFoundError,
    TransferNotFoundError,
    TransferPendingError,
    UnknownReferenceError,
)
from caserecord.domain.need_to_know import (
    BREAK_GLASS_MINUTES,
    BreakGlassWindow,
    CaseFacts,
    on_team,
)
from caserecord.domain.values import (
    CADENCES,
    CASE_TRANSITIONS,
    ENDED_PLAN,
    FINAL_REFERRAL,
    GOAL_TRANSITIONS,
    NOT_IN_SERVICE,
    OPEN_GOAL,
    PLAN_TRANSITIONS,
    REFERRAL_TRANSITIONS,
    Achievement,
    CareTeamRole,
    CaseStatus,
    ContactKind,
    ContactMode,
    ContactStatus,
    DeclinedBy,
    DeclineReason,
    DischargeReason,
    GoalLifecycle,
    GoalPriority,
    GoalSettlement,
    NeedDomain,
    NeedLevel,
    PlanReviewOutcome,
    PlanStatus,
    ReferralNeed,
    ReferralOutcome,
    ReferralStatus,
    ResourceKind,
    Respondent,
    ScoreDirection,
    Specialty,
    TargetSide,
    TaskConcerns,
    TaskStatus,
    TransferStatus,
    Urgency,
    check_date,
    check_number,
    parse,
    referral_expired,
    text_list,
)


def check_activities(activities: list[dict[str, Any]]) -> None:
    """Schedule and routines: recurring activities with a cadence and an optional time."""
    if not isinstance(activities, list):
        raise InvalidValueError("activities must be a list")
    for i, activity in enumerate(activities):
        if not isinstance(activity, dict):
            raise InvalidValueError(f"activities[{i}] must be an object")
        if not str(activity.get("activity", "")).strip():
            raise InvalidValueError(f"activities[{i}].activity is required")
        if activity.get("cadence") not in CADENCES:
            raise InvalidValueError(
                f"activities[{i}].cadence must be one of: {', '.join(CADENCES)}"
            )


class Case(RecordAggregate):
    """What grows without end is not kept whole: every read, command and "as of" replay
    decodes or copies the state, and every hundredth event snapshots it.  Referrals keep
    what their rules need; notes, addenda and goal progress only accumulate, so the case
    keeps their counts, and what each recorded is in the record's entry index
    (``persistence/entries.py``), from which the service hands a command the one entry it
    is about (``Recorded``): an addendum's note, the entry a marking sets aside."""

    class_version = 12

    outside: frozenset[int] = frozenset()
    """Versions up to this state's own that it does not include: a state folded from the
    events in effect at a moment (``timeline.fold_effective``) leaves out the later ones.
    Never part of a stored state."""

    upcast_v1_v2 = staticmethod(case_upcasts.v1_v2)
    upcast_v2_v3 = staticmethod(case_upcasts.v2_v3)
    upcast_v3_v4 = staticmethod(case_upcasts.v3_v4)
    upcast_v4_v5 = staticmethod(case_upcasts.v4_v5)
    upcast_v5_v6 = staticmethod(case_upcasts.v5_v6)
    upcast_v6_v7 = staticmethod(case_upcasts.v6_v7)
    upcast_v7_v8 = staticmethod(case_upcasts.v7_v8)
    upcast_v8_v9 = staticmethod(case_upcasts.v8_v9)
    upcast_v9_v10 = staticmethod(case_upcasts.v9_v10)
    upcast_v10_v11 = staticmethod(case_upcasts.v10_v11)
    upcast_v11_v12 = staticmethod(case_upcasts.v11_v12)

    # ---- intake -------------------------------------------------------------------
    class Opened(RecordAggregate.Created):
        """Version 2: ``waitlisted`` (an intake done before service can start)."""

        client_id: UUID
        agency_id: str
        specialty: str
        referral_source: str
        presenting_needs: list[str]
        interview_summary: str
        case_manager_id: str
        waitlisted: bool

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["waitlisted"] = False

    @event(Opened)
    def __init__(
        self,
        client_id: UUID,
        agency_id: str,
        specialty: str,
        referral_source: str,
        presenting_needs: list[str],
        interview_summary: str,
        case_manager_id: str,
        waitlisted: bool = False,
    ) -> None:
        parse(Specialty, specialty, "specialty")
        text_list(presenting_needs, "presenting_needs")
        if not case_manager_id.strip():
            raise InvalidValueError("an intake assigns a case manager")
        self.client_id = client_id
        self.agency_id = agency_id
        self.specialty = specialty
        self.referral_source = referral_source
        self.presenting_needs = presenting_needs
        self.interview_summary = interview_summary
        if not isinstance(waitlisted, bool):
            raise InvalidValueError("waitlisted must be true or false")
        self.statuses = [Change(1, CaseStatus.WAITLISTED if waitlisted else CaseStatus.OPEN)]
        self.managers = [Change(1, case_manager_id)]
        self.assessments: list[Assessment] = []
        self.prior_treatments: list[PriorTreatment] = []
        self.plans: list[Plan] = []
        self.goals: dict[str, Goal] = {}
        self.referrals = Referrals()
        self.notes_recorded = 0
        self.corrections: list[Correction] = []
        self.tasks: dict[str, Task] = {}
        self.safety_flags: list[SafetyFlag] = []
        self.care_team: dict[str, CareTeamMember] = {}
        self.transfers: list[Transfer] = []
        self.entry_labels: dict[str, list[str]] = {}
        self.benefit_applications: dict[str, BenefitApplication] = {}
        self.break_glass_reads: list[BreakGlassWindow] = []

    @property
    def status(self) -> str:
        return current(self.statuses).value

    @property
    def case_manager_id(self) -> str:
        return current(self.managers).value

    @property
    def current_plan(self) -> Plan | None:
        for plan in reversed(self.plans):
            if not plan.in_error:
                return None if plan.status in ENDED_PLAN else plan
        return None

    def standing_referrals(self) -> list[Referral]:
        """Referrals not set aside, in the order they were made."""
        return [r for r in self.referrals.values() if not r.in_error]

    def standing_referral_versions(self, aside: set[int]) -> dict[str, int]:
        """As ``standing_referrals``, id -> the version that made it (``aside``:
        set_aside_versions()), without making every referral of a restored case: a
        referral is set aside by marking the version that made it, and a read shows only
        the latest few."""
        return {i: v for i, v in self.referrals.made.items() if v not in aside}

    def set_aside_versions(self) -> set[int]:
        return {c.target_version for c in self.corrections}

    def _is_set_aside(self, version: int) -> bool:
        return any(c.target_version == version for c in self.corrections)

    # ---- sensitivity labels ------------------------------------------------------------
    @property
    def default_labels(self) -> list[str]:
        """What every entry of the case carries unless relabelled (from its specialty)."""
        return list(SPECIALTY_LABELS.get(self.specialty, ()))

    def labels_of(self, version: int) -> list[str]:
        return list(self.entry_labels.get(str(version), self.default_labels))

    def labelled_classes(self) -> list[str]:
        """The classes the case's standing entries hold: what the whole record discloses.
        The intake always stands, so the specialty's labels are always among them."""
        aside = self.set_aside_versions()
        found = self.default_labels
        for version, labels in self.entry_labels.items():
            if int(version) not in aside:
                found += [c for c in labels if c not in found]
        return found

    def _label(self, version: int, labels: Sequence[str]) -> None:
        if sorted(labels) == sorted(self.default_labels):
            self.entry_labels.pop(str(version), None)
        else:
            self.entry_labels[str(version)] = list(labels)

    class EntryRelabelled(RecordAggregate.Event):
        target_version: int
        labels: list[str]
        reason: str

    def relabel_entry(self, target_version: int, labels: list[str], reason: str) -> None:
        require_reason(reason, "relabel an entry")
        if isinstance(target_version, bool) or not isinstance(target_version, int):
            raise InvalidValueError(f"target_version must be a version number ({target_version!r})")
        if not 1 <= target_version <= self.version:
            raise EntryNotFoundError(f"the case has no version {target_version}")
        labels = data_classes(labels, "labels")
        if sorted(labels) == sorted(self.labels_of(target_version)):
            raise NothingToCorrectError(f"version {target_version} already carries those labels")
        self._relabel_entry(target_version, labels, reason)

    @event(EntryRelabelled)
    def _relabel_entry(self, target_version: int, labels: list[str], reason: str) -> None:
        self._label(target_version, labels)

    # ---- break-glass reads ------------------------------------------------------------
    class BreakGlassOpened(RecordAggregate.Event):
        """A staff member without a need to know reads the case from ``opened_at`` for
        ``minutes``, for ``reason``; listed for compliance review."""

        staff_id: str
        opened_at: datetime
        minutes: int
        reason: str

    def open_break_glass(
        self, staff_id: str, opened_at: datetime, minutes: int, reason: str
    ) -> None:
        require_reason(reason, "break the glass")
        if not staff_id.strip():
            raise InvalidValueError("a break-glass read names the staff member who reads")
        if isinstance(minutes, bool) or not isinstance(minutes, int):
            raise InvalidValueError(f"minutes must be a whole number ({minutes!r})")
        if not 1 <= minutes <= BREAK_GLASS_MINUTES:
            raise InvalidValueError(f"a break-glass read lasts 1 to {BREAK_GLASS_MINUTES} minutes")
        self._open_break_glass(staff_id, opened_at, minutes, reason)

    @event(BreakGlassOpened)
    def _open_break_glass(
        self, staff_id: str, opened_at: datetime, minutes: int, reason: str
    ) -> None:
        window = BreakGlassWindow(
            staff_id, opened_at, opened_at + timedelta(minutes=minutes), reason
        )
        self.break_glass_reads.append(window)

    def need_to_know_facts(self, day: date) -> CaseFacts:
        """What the need-to-know policy asks of the case on ``day``."""
        members = ((m.staff_id, m.starts_on, m.ends_on) for m in self.care_team.values())
        return CaseFacts(self.case_manager_id, on_team(members, day), tuple(self.break_glass_reads))

    def _next(self) -> int:
        return self.version + 1

    def _check_open(self) -> None:
        if self.status == CaseStatus.CLOSED:
            raise CaseClosedError("the case is closed: it must be reopened first")

    def _check_in_service(self, action: str) -> None:
        """What a waitlisted case or one on hold refuses (``values.NOT_IN_SERVICE``)."""
        self._check_open()
        if self.status in NOT_IN_SERVICE[action]:
            then = "start the service" if self.status == CaseStatus.WAITLISTED else "resume it"
            raise CaseNotInServiceError(f"the case is {self.status}: {then} to {action}")

    # ---- assessment and history -----------------------------------------------------
    class NeedsAssessed(RecordAggregate.Event):
        assessments: list[dict[str, Any]]

    def assess_needs(self, assessments: list[dict[str, Any]]) -> None:
        # Checked before the event, not in its method: a replay runs the method again, and a
        # score stored by an older version must not make the record unreadable.
        for i, a in enumerate(assessments):
            if isinstance(a, dict):
                check_number(a.get("score"), f"assessments[{i}].score")
        self._assess_needs(assessments=assessments)

    @event(NeedsAssessed)
    def _assess_needs(self, assessments: list[dict[str, Any]]) -> None:
        self._check_open()
        if not assessments:
            raise InvalidValueError("an assessment rates at least one need domain")
        for i, a in enumerate(assessments):
            if not isinstance(a, dict):
                raise InvalidValueError(f"assessments[{i}] must be an object")
            parse(NeedDomain, a.get("domain", ""), f"assessments[{i}].domain")
            parse(NeedLevel, a.get("level", ""), f"assessments[{i}].level")
        self.assessments.extend(
            Assessment(
                self._next(),
                a["domain"],
                a["level"],
                a.get("notes", ""),
                a.get("instrument", ""),
                a.get("score"),
            )
            for a in assessments
        )

    class PriorTreatmentReviewed(RecordAggregate.Event):
        treatment: str
        provider: str
        started_on: date | None
        ended_on: date | None
        outcome: str
        effectiveness: int
        notes: str

    @event(PriorTreatmentReviewed)
    def review_prior_treatment(
        self,
        treatment: str,
        provider: str,
        started_on: date | None,
        ended_on: date | None,
        outcome: str,
        effectiveness: int,
        notes: str,
    ) -> None:
        self._check_open()
        if not treatment.strip():
            raise InvalidValueError("the former treatment or program must be named")
        check_date(started_on, "started_on")
        check_date(ended_on, "ended_on")
        if isinstance(effectiveness, bool) or not isinstance(effectiveness, int):
            raise InvalidValueError("effectiveness is rated with a whole number from 1 to 5")
        if not 1 <= effectiveness <= 5:
            raise InvalidValueError("effectiveness is rated from 1 (none) to 5 (high)")
        if started_on and ended_on and ended_on < started_on:
            raise InvalidValueError("a treatment period cannot end before it starts")
        self.prior_treatments.append(
            PriorTreatment(
                self._next(),
                treatment,
                provider,
                started_on,
                ended_on,
                outcome,
                effectiveness,
                notes,
            )
        )

    class CaseManagerAssigned(RecordAggregate.Event):
        case_manager_id: str
        reason: str

    @event(CaseManagerAssigned)
    def assign_case_manager(self, case_manager_id: str, reason: str) -> None:
        self._check_open()
        self._check_no_pending_transfer()
        require_reason(reason, "transfer a case")
        if not case_manager_id.strip():
            raise InvalidValueError("case_manager_id is required")
        if case_manager_id == self.case_manager_id:
            raise InvalidTransitionError("the case is already assigned to that manager")
        self.managers.append(Change(self._next(), case_manager_id, {"reason": reason}))

    # ---- transfer with a handoff ---------------------------------------------------
    @property
    def pending_transfer(self) -> Transfer | None:
        latest = self.transfers[-1] if self.transfers else None
        return latest if latest and latest.status == TransferStatus.REQUESTED else None

    def _check_no_pending_transfer(self) -> None:
        pending = self.pending_transfer
        if pending is not None:
            raise TransferPendingError(
                f"transfer {pending.transfer_id} to {pending.to_staff_id} awaits an answer: "
                "it is accepted, declined or cancelled first"
            )

    class TransferRequested(RecordAggregate.Event):
        transfer_id: str
        to_staff_id: str
        handoff_summary: str

    @event(TransferRequested)
    def request_transfer(self, transfer_id: str, to_staff_id: str, handoff_summary: str) -> None:
        self._check_open()
        self._check_no_pending_transfer()
        if not to_staff_id.strip():
            raise InvalidValueError("a transfer names the case manager it goes to")
        if to_staff_id == self.case_manager_id:
            raise InvalidTransitionError("the case is already assigned to that manager")
        if not handoff_summary.strip():
            raise InvalidValueError("a transfer hands the case over with a handoff summary")
        if any(t.transfer_id == transfer_id for t in self.transfers):
            raise DuplicateIdError(f"transfer {transfer_id} already exists")
        v = self._next()
        requested = [Change(v, TransferStatus.REQUESTED)]
        self.transfers.append(
            Transfer(transfer_id, v, self.case_manager_id, to_staff_id, handoff_summary, requested)
        )

    def check_answer(self, transfer_id: str, staff_id: str, supervisor: bool) -> None:
        """Only the staff member the transfer goes to, or a supervisor, answers it."""
        transfer = self._pending(transfer_id)
        if staff_id != transfer.to_staff_id and not supervisor:
            raise NotTheReceiverError(
                f"transfer {transfer_id} goes to {transfer.to_staff_id}: only they, or a "
                "supervisor, accept or decline it"
            )

    class TransferAccepted(RecordAggregate.Event):
        transfer_id: str

    @event(TransferAccepted)
    def accept_transfer(self, transfer_id: str) -> None:
        transfer = self._pending(transfer_id)
        v = self._next()
        transfer.statuses.append(Change(v, TransferStatus.ACCEPTED))
        details = {"reason": "transfer accepted", "transfer_id": transfer_id}
        self.managers.append(Change(v, transfer.to_staff_id, details))

    class TransferDeclined(RecordAggregate.Event):
        transfer_id: str
        reason: str

    @event(TransferDeclined)
    def decline_transfer(self, transfer_id: str, reason: str) -> None:
        transfer = self._pending(transfer_id)
        require_reason(reason, "decline a transfer")
        transfer.statuses.append(Change(self._next(), TransferStatus.DECLINED, {"reason": reason}))

    class TransferCancelled(RecordAggregate.Event):
        transfer_id: str
        reason: str

    @event(TransferCancelled)
    def cancel_transfer(self, transfer_id: str, reason: str) -> None:
        transfer = self._pending(transfer_id)
        require_reason(reason, "cancel a transfer")
        details = {"reason": reason}
        transfer.statuses.append(Change(self._next(), TransferStatus.CANCELLED, details))

    def _pending(self, transfer_id: str) -> Transfer:
        self._check_open()
        pending = self.pending_transfer
        if pending is None or pending.transfer_id != transfer_id:
            known = any(t.transfer_id == transfer_id for t in self.transfers)
            if known:
                raise InvalidTransitionError(f"transfer {transfer_id} was already answered")
            raise TransferNotFoundError(f"no transfer {transfer_id} on this case")
        return pending

    # ---- care team ------------------------------------------------------------------
    class CareTeamMemberAdded(RecordAggregate.Event):
        member_id: str
        staff_id: str
        name: str
        role: str
        organisation: str
        contact: str
        starts_on: date

    @event(CareTeamMemberAdded)
    def add_care_team_member(
        self,
        member_id: str,
        staff_id: str,
        name: str,
        role: str,
        organisation: str,
        contact: str,
        starts_on: date,
    ) -> None:
        """A staff member of the agency (``staff_id``; the service checks the directory)
        or someone outside it (no ``staff_id``; ``organisation`` and ``contact``)."""
        self._check_open()
        parse(CareTeamRole, role, "role")
        check_date(starts_on, "starts_on")
        if starts_on is None:
            raise InvalidValueError("a care team member's period has a first day (starts_on)")
        if not name.strip():
            raise InvalidValueError("a care team member needs a name")
        if member_id in self.care_team:
            raise DuplicateIdError(f"care team member {member_id} already exists")
        if staff_id and any(m.staff_id == staff_id and m.current for m in self.care_team.values()):
            raise DuplicateIdError(f"staff member {staff_id} is already on the care team")
        self.care_team[member_id] = CareTeamMember(
            member_id, self._next(), staff_id, name, role, organisation, contact, starts_on
        )

    class CareTeamMemberEnded(RecordAggregate.Event):
        member_id: str
        ends_on: date
        reason: str

    @event(CareTeamMemberEnded)
    def end_care_team_member(self, member_id: str, ends_on: date, reason: str) -> None:
        """``ends_on``: the member's last day on the team."""
        self._check_open()
        member = self.care_team.get(member_id)
        if member is None or not member.current:
            raise CareTeamMemberNotFoundError(f"no current care team member {member_id}")
        require_reason(reason, "end a care team membership")
        check_date(ends_on, "ends_on")
        if ends_on is None or ends_on < member.starts_on:
            raise InvalidValueError(
                f"ends_on must be a day on or after the member's first day ({member.starts_on})"
            )
        member.ends_on, member.ended_in, member.end_reason = ends_on, self._next(), reason

    def care_team_on(self, day: date) -> list[CareTeamMember]:
        """The members on the team on that day, in the order they were added."""
        return [m for m in self.care_team.values() if m.on_team(day)]

    # ---- treatment and recovery plan ------------------------------------------------
    class PlanDrafted(RecordAggregate.Event):
        plan_id: str
        title: str
        activities: list[dict[str, Any]]
        next_review_on: date | None

    @event(PlanDrafted)
    def draft_plan(
        self,
        plan_id: str,
        title: str,
        activities: list[dict[str, Any]],
        next_review_on: date | None,
    ) -> None:
        self._check_open()
        if self.current_plan is not None:
            raise PlanAlreadyCurrentError(
                "the case already has a current plan: revise, complete or revoke it"
            )
        if any(p.plan_id == plan_id for p in self.plans):
            raise DuplicateIdError(f"plan {plan_id} already exists")
        if not title.strip():
            raise InvalidValueError("a plan needs a title")
        check_activities(activities)
        check_date(next_review_on, "next_review_on")
        v = self._next()
        version = PlanVersion(1, v, title, activities, next_review_on, "")
        self.plans.append(Plan(plan_id, [version], [Change(v, PlanStatus.DRAFT)]))
        for goal in self.goals.values():
            if not goal.in_error and goal.status == GoalSettlement.CARRIED_OVER:
                self._carry_over(goal, plan_id, v)

    def _carry_over(self, goal: Goal, plan_id: str, v: int) -> None:
        """The goal joins the new plan in the state it had before it was settled."""
        before = last_standing(goal.lifecycle[:-1])
        status = before.value if before is not None else GoalLifecycle.PROPOSED
        goal.lifecycle.append(Change(v, status, {"carried_from": goal.plan_id}))
        goal.plan_id = plan_id

    class PlanRevised(RecordAggregate.Event):
        plan_id: str
        title: str
        activities: list[dict[str, Any]]
        next_review_on: date | None
        rationale: str

    @event(PlanRevised)
    def revise_plan(
        self,
        plan_id: str,
        title: str,
        activities: list[dict[str, Any]],
        next_review_on: date | None,
        rationale: str,
    ) -> None:
        plan = self._plan(plan_id)
        require_reason(rationale, "revise a plan (rationale)")
        if not title.strip():
            raise InvalidValueError("a plan needs a title")
        check_activities(activities)
        check_date(next_review_on, "next_review_on")
        number = plan.versions[-1].number + 1
        plan.versions.append(
            PlanVersion(number, self._next(), title, activities, next_review_on, rationale)
        )

    class PlanActivated(RecordAggregate.Event):
        plan_id: str

    @event(PlanActivated)
    def activate_plan(self, plan_id: str) -> None:
        self._check_in_service("activate a plan")
        if self._plan(plan_id).status != PlanStatus.DRAFT:
            raise InvalidTransitionError("only a draft plan can be activated")
        self._move_plan(plan_id, PlanStatus.ACTIVE, {})

    class PlanSuspended(RecordAggregate.Event):
        plan_id: str
        reason: str

    @event(PlanSuspended)
    def suspend_plan(self, plan_id: str, reason: str) -> None:
        require_reason(reason, "suspend a plan")
        self._move_plan(plan_id, PlanStatus.SUSPENDED, {"reason": reason})

    class PlanResumed(RecordAggregate.Event):
        plan_id: str

    @event(PlanResumed)
    def resume_plan(self, plan_id: str) -> None:
        self._check_in_service("resume a plan")
        if self._plan(plan_id).status != PlanStatus.SUSPENDED:
            raise InvalidTransitionError("only a suspended plan can be resumed")
        self._move_plan(plan_id, PlanStatus.ACTIVE, {})

    class PlanCompleted(RecordAggregate.Event):
        plan_id: str

    def complete_plan(self, plan_id: str) -> None:
        # The plan's goals are checked before the event, not in its method: plans ended
        # before goals were settled must still replay.
        self._plan(plan_id)
        self.check_goals_settled(plan_id)
        self._complete_plan(plan_id)

    @event(PlanCompleted)
    def _complete_plan(self, plan_id: str) -> None:
        self._move_plan(plan_id, PlanStatus.COMPLETED, {})

    class PlanRevoked(RecordAggregate.Event):
        plan_id: str
        reason: str

    def revoke_plan(self, plan_id: str, reason: str) -> None:
        self._plan(plan_id)
        self.check_goals_settled(plan_id)
        self._revoke_plan(plan_id, reason)

    @event(PlanRevoked)
    def _revoke_plan(self, plan_id: str, reason: str) -> None:
        require_reason(reason, "revoke a plan")
        self._move_plan(plan_id, PlanStatus.REVOKED, {"reason": reason})

    def open_goals(self, plan_id: str) -> list[str]:
        """The goals of the plan not yet settled, completed or cancelled."""
        return [
            g.goal_id
            for g in self.goals.values()
            if g.plan_id == plan_id and not g.in_error and g.status in OPEN_GOAL
        ]

    def check_goals_settled(self, plan_id: str) -> None:
        open_goals = self.open_goals(plan_id)
        if open_goals:
            raise GoalsNotSettledError(
                f"the plan still has {len(open_goals)} open goal(s): settle each (achieved, "
                "not-achieved, no-longer-relevant or carried-over) before the plan ends",
                goal_ids=open_goals,
            )

    class PlanReviewed(RecordAggregate.Event):
        plan_id: str
        outcome: str
        held_on: date
        attendees: list[str]
        client_participated: bool
        client_agreed: bool
        next_review_on: date | None
        summary: str

    def review_plan(
        self,
        plan_id: str,
        outcome: str,
        held_on: date,
        attendees: list[str],
        client_participated: bool,
        client_agreed: bool,
        next_review_on: date | None,
        summary: str,
    ) -> None:
        self._plan(plan_id)
        if outcome == PlanReviewOutcome.DISCONTINUE:
            self.check_goals_settled(plan_id)
        self._review_plan(
            plan_id=plan_id,
            outcome=outcome,
            held_on=held_on,
            attendees=attendees,
            client_participated=client_participated,
            client_agreed=client_agreed,
            next_review_on=next_review_on,
            summary=summary,
        )

    @event(PlanReviewed)
    def _review_plan(
        self,
        plan_id: str,
        outcome: str,
        held_on: date,
        attendees: list[str],
        client_participated: bool,
        client_agreed: bool,
        next_review_on: date | None,
        summary: str,
    ) -> None:
        plan = self._plan(plan_id)
        if plan.status not in (PlanStatus.ACTIVE, PlanStatus.SUSPENDED):
            raise InvalidTransitionError("only an active or suspended plan is reviewed")
        decided = parse(PlanReviewOutcome, outcome, "outcome")
        if held_on is None:
            raise InvalidValueError("a review records the day the meeting was held (held_on)")
        check_date(held_on, "held_on")
        check_date(next_review_on, "next_review_on")
        text_list(attendees, "attendees")
        for name, value in (
            ("client_participated", client_participated),
            ("client_agreed", client_agreed),
        ):
            if not isinstance(value, bool):
                raise InvalidValueError(f"{name} must be true or false")
        if client_agreed and not client_participated:
            raise InvalidValueError("a client who did not take part cannot have agreed")
        if decided == PlanReviewOutcome.CONTINUE and next_review_on is None:
            raise InvalidValueError("a plan that continues needs its next review date")
        if decided == PlanReviewOutcome.DISCONTINUE and next_review_on is not None:
            raise InvalidValueError("a discontinued plan has no next review")
        if next_review_on is not None and next_review_on <= held_on:
            raise InvalidValueError("the next review must come after the review held")
        v = self._next()
        plan.reviews.append(PlanReview(v, decided, held_on, next_review_on))
        if decided == PlanReviewOutcome.DISCONTINUE:
            plan.statuses.append(Change(v, PlanStatus.DISCONTINUED, {"review": True}))

    def _move_plan(self, plan_id: str, status: str, details: dict[str, Any]) -> None:
        plan = self._plan(plan_id)
        check_transition(PLAN_TRANSITIONS, plan.status, status, "plan")
        plan.statuses.append(Change(self._next(), status, details))

    def _plan(self, plan_id: str) -> Plan:
        self._check_open()
        plan = self.current_plan
        if plan is None or plan.plan_id != plan_id:
            raise PlanNotFoundError(f"plan {plan_id} is not the current plan of the case")
        return plan

    # ---- goals --------------------------------------------------------------------
    class GoalAdded(RecordAggregate.Event):
        class_version = 2
        goal_id: str
        plan_id: str
        description: str
        need_domain: str
        target_measure: str
        due_on: date | None
        priority: str
        need: str
        measure: dict[str, Any] | None

        upcast_v1_v2 = staticmethod(case_upcasts.goal_v1_v2)
        # Defaults: goals added before a goal could target a score read without them.
        target_instrument: str = ""
        target_score: float | None = None
        direction: str = ""

    @event(GoalAdded)
    def add_goal(
        self,
        goal_id: str,
        plan_id: str,
        description: str,
        need_domain: str,
        target_measure: str,
        due_on: date | None,
        priority: str = "",
        need: str = "",
        measure: dict[str, Any] | None = None,
        target_instrument: str = "",
        target_score: float | None = None,
        direction: str = "",
    ) -> None:
        self._plan(plan_id)
        if goal_id in self.goals:
            raise DuplicateIdError(f"goal {goal_id} already exists")
        check_goal(description, need_domain, due_on, priority, measure)
        check_score_target(target_instrument, target_score, direction)
        v = self._next()
        revision = GoalRevision(
            v,
            description,
            need_domain,
            target_measure,
            due_on,
            False,
            priority,
            need,
            measure,
            target_instrument=target_instrument,
            target_score=target_score,
            direction=direction,
        )
        lifecycle = [Change(v, GoalLifecycle.PROPOSED)]
        self.goals[goal_id] = Goal(goal_id, plan_id, [revision], lifecycle)

    class GoalRevised(RecordAggregate.Event):
        class_version = 2
        goal_id: str
        description: str
        need_domain: str
        target_measure: str
        due_on: date | None
        priority: str
        need: str
        measure: dict[str, Any] | None

        upcast_v1_v2 = staticmethod(case_upcasts.goal_v1_v2)

    @event(GoalRevised)
    def revise_goal(
        self,
        goal_id: str,
        description: str,
        need_domain: str,
        target_measure: str,
        due_on: date | None,
        priority: str = "",
        need: str = "",
        measure: dict[str, Any] | None = None,
    ) -> None:
        goal = self._goal(goal_id)
        check_goal(description, need_domain, due_on, priority, measure)
        before = goal.revisions[-1]  # a revision keeps the score the goal targets
        goal.revisions.append(
            GoalRevision(
                self._next(),
                description,
                need_domain,
                target_measure,
                due_on,
                False,
                priority,
                need,
                measure,
                target_instrument=before.target_instrument,
                target_score=before.target_score,
                direction=before.direction,
            )
        )

    class GoalLifecycleChanged(RecordAggregate.Event):
        goal_id: str
        lifecycle: str

    @event(GoalLifecycleChanged)
    def change_goal_lifecycle(self, goal_id: str, lifecycle: str) -> None:
        goal = self._goal(goal_id)
        target = parse(GoalLifecycle, lifecycle, "lifecycle")
        check_transition(GOAL_TRANSITIONS, goal.status, target, "goal")
        goal.lifecycle.append(Change(self._next(), target))

    class GoalProgressRecorded(RecordAggregate.Event):
        goal_id: str
        achievement: str
        measured_value: str
        note: str

        def index_entry(self) -> tuple[str, str]:
            return ("progress", self.goal_id)

    @event(GoalProgressRecorded)
    def record_goal_progress(
        self, goal_id: str, achievement: str, measured_value: str, note: str
    ) -> None:
        self._check_in_service("record goal progress")
        goal = self._goal(goal_id)
        parse(Achievement, achievement, "achievement")
        if goal.status not in (GoalLifecycle.ACTIVE, GoalLifecycle.ON_HOLD):
            raise InvalidTransitionError(
                f"progress is recorded on active or on-hold goals, not {goal.status} ones"
            )
        goal.progress += 1

    class GoalSettled(RecordAggregate.Event):
        goal_id: str
        settlement: str
        note: str

    @event(GoalSettled)
    def settle_goal(self, goal_id: str, settlement: str, note: str) -> None:
        goal = self._goal(goal_id)
        settled = parse(GoalSettlement, settlement, "settlement")
        if goal.status not in OPEN_GOAL:
            raise InvalidTransitionError(f"only an open goal is settled, not a {goal.status} one")
        goal.lifecycle.append(Change(self._next(), settled, {"note": note} if note else {}))

    def _goal(self, goal_id: str) -> Goal:
        self._check_open()
        goal = self.goals.get(goal_id)
        if goal is None or goal.in_error:
            raise GoalNotFoundError(f"no goal {goal_id} on this case")
        plan = self.current_plan
        if plan is None or goal.plan_id != plan.plan_id:
            raise GoalNotOnCurrentPlanError(
                f"goal {goal_id} belongs to a former plan, not the current one"
            )
        return goal

    # ---- service referrals (closed loop) ----------------------------------------------
    class ReferralMade(RecordAggregate.Event):
        """Version 2: the directory's organisation and service (free text until the
        directory checks them), the need and goal it serves, and the referral it re-routes.
        Version 3: the client's contact details the case manager chose to share with the
        provider (``contact``: phone, email, preferred contact; None: none shared)."""

        referral_id: str
        resource_kind: str
        organisation: str
        service_name: str
        referral_reason: str
        urgency: str
        respond_by: date | None
        organization_id: str
        service_id: str
        need: str
        goal_id: str
        rerouted_from: str
        contact: dict[str, str] | None

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            for name in ("organization_id", "service_id", "need", "goal_id", "rerouted_from"):
                state[name] = ""

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["contact"] = None

    @event(ReferralMade)
    def make_referral(
        self,
        referral_id: str,
        resource_kind: str,
        organisation: str,
        service_name: str,
        referral_reason: str,
        urgency: str,
        respond_by: date | None,
        organization_id: str = "",
        service_id: str = "",
        need: str = "",
        goal_id: str = "",
        rerouted_from: str = "",
        contact: dict[str, str] | None = None,
    ) -> None:
        self._check_in_service("make a referral")
        check_shared_contact(contact)
        parse(ResourceKind, resource_kind, "resource_kind")
        parse(Urgency, urgency, "urgency")
        check_date(respond_by, "respond_by")
        if need:
            parse(ReferralNeed, need, "need")
        if not organisation.strip() or not service_name.strip():
            raise InvalidValueError("a referral names the organisation and the service")
        if referral_id in self.referrals:
            raise DuplicateIdError(f"referral {referral_id} already exists")
        if goal_id and (goal_id not in self.goals or self.goals[goal_id].in_error):
            raise UnknownReferenceError(f"no goal {goal_id} on this case")
        v = self._next()
        if rerouted_from:
            self._mark_rerouted(rerouted_from, referral_id, v)
        made = Change(v, ReferralStatus.SENT)
        self.referrals.add(Referral(referral_id, v, [made], False, organization_id, respond_by))

    def reroute_referral(self, rerouted_from: str, today: date, **referral: Any) -> None:
        """A new referral in place of a declined or expired one (``today`` decides
        whether it has expired), linked to it."""
        original = self._referral(rerouted_from)
        expired = referral_expired(original.status, original.respond_by, today)
        if original.status != ReferralStatus.DECLINED and not expired:
            raise InvalidTransitionError(
                f"only a declined or expired referral is re-routed, not a {original.status} one"
            )
        self.make_referral(rerouted_from=rerouted_from, **referral)

    def _mark_rerouted(self, original_id: str, referral_id: str, version: int) -> None:
        original = self._referral(original_id)
        if original.rerouted_to:
            raise InvalidTransitionError(
                f"referral {original_id} was already re-routed to {original.rerouted_to}"
            )
        details = current(original.statuses).details | {"rerouted_to": referral_id}
        original.statuses.append(Change(version, original.status, details))

    class ReferralReceived(RecordAggregate.Event):
        referral_id: str

    @event(ReferralReceived)
    def receive_referral(self, referral_id: str) -> None:
        self._move_referral(referral_id, ReferralStatus.RECEIVED, {})

    class ReferralAccepted(RecordAggregate.Event):
        referral_id: str

    @event(ReferralAccepted)
    def accept_referral(self, referral_id: str) -> None:
        self._move_referral(referral_id, ReferralStatus.ACCEPTED, {})

    class ReferralWaitlisted(RecordAggregate.Event):
        referral_id: str
        note: str

    @event(ReferralWaitlisted)
    def waitlist_referral(self, referral_id: str, note: str = "") -> None:
        details = {"note": note} if note else {}
        self._move_referral(referral_id, ReferralStatus.WAITLISTED, details)

    class ReferralDeclined(RecordAggregate.Event):
        """Version 2: a coded reason (``reason_code``); the reason text is optional."""

        referral_id: str
        declined_by: str
        reason: str
        reason_code: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reason_code"] = DeclineReason.OTHER.value

    @event(ReferralDeclined)
    def decline_referral(
        self, referral_id: str, declined_by: str, reason: str, reason_code: str = "other"
    ) -> None:
        parse(DeclinedBy, declined_by, "declined_by")
        parse(DeclineReason, reason_code, "reason_code")
        if reason_code == DeclineReason.OTHER:
            require_reason(reason, "decline a referral for another reason")
        details = {"declined_by": declined_by, "reason": reason, "reason_code": reason_code}
        self._move_referral(referral_id, ReferralStatus.DECLINED, details)

    class ReferralInProgress(RecordAggregate.Event):
        referral_id: str

    @event(ReferralInProgress)
    def start_referral(self, referral_id: str) -> None:
        self._move_referral(referral_id, ReferralStatus.IN_PROGRESS, {})

    class ReferralCompleted(RecordAggregate.Event):
        """Version 2: a coded ``outcome``; what version 1 recorded as the outcome is its
        ``note`` and its outcome is "" (not coded)."""

        referral_id: str
        outcome: str
        note: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["note"] = state["outcome"]
            state["outcome"] = ""

    @event(ReferralCompleted)
    def complete_referral(self, referral_id: str, outcome: str, note: str = "") -> None:
        if outcome or not note:  # only version 1 completions stand uncoded, with a note
            parse(ReferralOutcome, outcome, "outcome")
        details = {"outcome": outcome, "note": note} if note else {"outcome": outcome}
        self._move_referral(referral_id, ReferralStatus.COMPLETED, details)

    class ReferralWithdrawn(RecordAggregate.Event):
        referral_id: str
        reason: str

    @event(ReferralWithdrawn)
    def withdraw_referral(self, referral_id: str, reason: str) -> None:
        """A declined referral is withdrawn to close the need without re-routing it; the
        withdrawal keeps who declined it and the coded reason."""
        require_reason(reason, "withdraw a referral")
        standing = current(self._referral(referral_id).statuses)
        details: dict[str, Any] = {"reason": reason}
        if standing.value == ReferralStatus.DECLINED:
            kept = ("declined_by", "reason_code")
            details = {k: v for k, v in standing.details.items() if k in kept} | details
        self._move_referral(referral_id, ReferralStatus.WITHDRAWN, details)

    class ReferralLeftOpen(RecordAggregate.Event):
        referral_id: str
        reason: str

    @event(ReferralLeftOpen)
    def leave_referral_open(self, referral_id: str, reason: str) -> None:
        """At closing: the referral stays open on the closed case, for a reason."""
        referral = self._referral(referral_id)
        require_reason(reason, "leave a referral open")
        if referral.status not in OPEN_REFERRALS or referral.rerouted_to:
            raise InvalidTransitionError(f"a {referral.status} referral is not open")
        details = {"left_open": True, "reason": reason}
        referral.statuses.append(Change(self._next(), referral.status, details))

    def referral_addressee(self, referral_id: str) -> str:
        """The directory organisation a referral is sent to ("" if it names none)."""
        return self._referral(referral_id).organization_id

    def _move_referral(self, referral_id: str, status: str, details: dict[str, Any]) -> None:
        referral = self._referral(referral_id)
        if referral.rerouted_to:
            raise InvalidTransitionError(
                f"referral {referral_id} was re-routed to {referral.rerouted_to}"
            )
        check_transition(REFERRAL_TRANSITIONS, referral.status, status, "referral")
        referral.statuses.append(Change(self._next(), status, details))

    def _referral(self, referral_id: str) -> Referral:
        self._check_open()
        referral = self.referrals.get(referral_id)
        if referral is None or referral.in_error:
            raise ReferralNotFoundError(f"no referral {referral_id} on this case")
        return referral

    # ---- tasks ------------------------------------------------------------------------
    class TaskCreated(RecordAggregate.Event):
        task_id: str
        title: str
        owner_id: str
        due_on: date
        concerns: str
        concerns_id: str

    def create_task(
        self,
        task_id: str,
        title: str,
        owner_id: str,
        due_on: date,
        concerns: str,
        concerns_id: str,
        note: Recorded | None = None,
    ) -> None:
        """``note``: the record's entry for the note the task concerns, if it has one."""
        self._check_open()
        if concerns == TaskConcerns.NOTE:
            self.check_addendum(concerns_id, note)  # a note standing on this case
        self._create_task(
            task_id=task_id,
            title=title,
            owner_id=owner_id,
            due_on=due_on,
            concerns=concerns,
            concerns_id=concerns_id,
        )

    @event(TaskCreated)
    def _create_task(
        self,
        task_id: str,
        title: str,
        owner_id: str,
        due_on: date,
        concerns: str,
        concerns_id: str,
    ) -> None:
        self._check_open()
        if task_id in self.tasks:
            raise DuplicateIdError(f"task {task_id} already exists")
        if not title.strip():
            raise InvalidValueError("a task needs a title")
        if not owner_id.strip():
            raise InvalidValueError("a task has an owner (owner_id)")
        if due_on is None:
            raise InvalidValueError("a task has a due date (due_on)")
        check_date(due_on, "due_on")
        self._check_concerns(parse(TaskConcerns, concerns, "concerns"), concerns_id)
        v = self._next()
        self.tasks[task_id] = Task(
            task_id,
            v,
            title,
            due_on,
            concerns,
            concerns_id,
            [Change(v, owner_id)],
            [Change(v, TaskStatus.OPEN)],
        )

    def _check_concerns(self, concerns: TaskConcerns, concerns_id: str) -> None:
        if concerns == TaskConcerns.CASE:
            if concerns_id:
                raise InvalidValueError("a task about the case itself names no concerns_id")
            return
        standing: dict[TaskConcerns, bool] = {
            TaskConcerns.PLAN: any(p.plan_id == concerns_id and not p.in_error for p in self.plans),
            TaskConcerns.GOAL: concerns_id in self.goals and not self.goals[concerns_id].in_error,
            TaskConcerns.REFERRAL: concerns_id in self.referrals
            and not self.referrals[concerns_id].in_error,
            TaskConcerns.NOTE: True,  # checked against the record by create_task
        }
        if not standing[concerns]:
            raise InvalidValueError(f"the task concerns no {concerns} {concerns_id} of this case")

    class TaskCompleted(RecordAggregate.Event):
        task_id: str
        outcome: str

    @event(TaskCompleted)
    def complete_task(self, task_id: str, outcome: str) -> None:
        self._move_task(task_id, TaskStatus.COMPLETED, {"outcome": outcome} if outcome else {})

    class TaskReassigned(RecordAggregate.Event):
        task_id: str
        owner_id: str

    @event(TaskReassigned)
    def reassign_task(self, task_id: str, owner_id: str) -> None:
        task = self._open_task(task_id)
        if not owner_id.strip():
            raise InvalidValueError("owner_id is required")
        if owner_id == task.owner_id:
            raise InvalidTransitionError("the task already belongs to that staff member")
        task.owners.append(Change(self._next(), owner_id))

    class TaskCancelled(RecordAggregate.Event):
        task_id: str
        reason: str

    @event(TaskCancelled)
    def cancel_task(self, task_id: str, reason: str) -> None:
        require_reason(reason, "cancel a task")
        self._move_task(task_id, TaskStatus.CANCELLED, {"reason": reason})

    def _move_task(self, task_id: str, status: str, details: dict[str, Any]) -> None:
        task = self._open_task(task_id)
        task.statuses.append(Change(self._next(), status, details))

    def _open_task(self, task_id: str) -> Task:
        self._check_open()
        task = self.tasks.get(task_id)
        if task is None or task.in_error:
            raise TaskNotFoundError(f"no task {task_id} on this case")
        if task.status != TaskStatus.OPEN:
            raise InvalidTransitionError(f"the task is {task.status}, no longer open")
        return task

    def open_tasks(self) -> list[str]:
        return [
            t.task_id for t in self.tasks.values() if not t.in_error and t.status == TaskStatus.OPEN
        ]

    def unsettled_referrals(self) -> list[str]:
        """Referrals still pending or accepted that closing has not left open."""
        return [
            r.referral_id
            for r in self.standing_referrals()
            if r.status in OPEN_REFERRALS
            and not r.rerouted_to
            and not current(r.statuses).details.get("left_open")
        ]

    # ---- benefits applications (domain/benefits.py) -----------------------------------
    class BenefitApplicationStarted(RecordAggregate.Event):
        application_id: str
        program: str
        agency_name: str

    @event(BenefitApplicationStarted)
    def start_benefit_application(
        self, application_id: str, program: str, agency_name: str
    ) -> None:
        self._check_open()
        check_start(program, agency_name)
        if application_id in self.benefit_applications:
            raise DuplicateIdError(f"benefits application {application_id} already exists")
        v = self._next()
        self.benefit_applications[application_id] = BenefitApplication(
            application_id, v, program, agency_name, [Change(v, BenefitStatus.STARTED)]
        )

    class BenefitApplicationSubmitted(RecordAggregate.Event):
        application_id: str
        submitted_on: date
        expected_decision_on: date

    def submit_benefit_application(
        self, application_id: str, submitted_on: date | None, expected_decision_on: date | None
    ) -> None:
        """``expected_decision_on`` None: the program's processing standard."""
        application = self._benefit(application_id)
        if submitted_on is None:
            raise InvalidValueError("a submission has its date (submitted_on)")
        expected = expected_decision(application.program, submitted_on, expected_decision_on)
        self._submit_benefit_application(application_id, submitted_on, expected)

    @event(BenefitApplicationSubmitted)
    def _submit_benefit_application(
        self, application_id: str, submitted_on: date, expected_decision_on: date
    ) -> None:
        application = self._benefit(application_id)
        application.move(self._next(), BenefitStatus.SUBMITTED, {})
        application.submitted_on = submitted_on
        application.expected_decision_on = expected_decision_on

    class BenefitDocumentsRequested(RecordAggregate.Event):
        application_id: str
        request_id: str
        documents: list[str]
        due_on: date | None

    @event(BenefitDocumentsRequested)
    def request_benefit_documents(
        self, application_id: str, request_id: str, documents: list[str], due_on: date | None
    ) -> None:
        application = self._benefit(application_id)
        application.check_awaiting("documents are requested")
        check_documents(documents, due_on)
        if any(r.request_id == request_id for r in application.documents):
            raise DuplicateIdError(f"documents request {request_id} already exists")
        application.documents.append(
            DocumentRequest(request_id, self._next(), list(documents), due_on)
        )

    class BenefitDocumentsProvided(RecordAggregate.Event):
        application_id: str
        request_id: str
        provided_on: date

    @event(BenefitDocumentsProvided)
    def provide_benefit_documents(
        self, application_id: str, request_id: str, provided_on: date
    ) -> None:
        application = self._benefit(application_id)
        request = application.request(request_id)
        check_date(provided_on, "provided_on")
        if provided_on is None:
            raise InvalidValueError("documents provided have their day (provided_on)")
        if request.provided_in is not None:
            raise InvalidTransitionError(f"documents request {request_id} was already met")
        request.provided_in, request.provided_on = self._next(), provided_on

    class BenefitAppointmentScheduled(RecordAggregate.Event):
        application_id: str
        appointment_id: str
        kind: str
        on: date
        location: str

    @event(BenefitAppointmentScheduled)
    def schedule_benefit_appointment(
        self, application_id: str, appointment_id: str, kind: str, on: date, location: str
    ) -> None:
        application = self._benefit(application_id)
        application.check_awaiting("appointments are scheduled")
        parse(AppointmentKind, kind, "kind")
        check_date(on, "on")
        if on is None:
            raise InvalidValueError("an appointment has its day (on)")
        if any(a.appointment_id == appointment_id for a in application.appointments):
            raise DuplicateIdError(f"appointment {appointment_id} already exists")
        application.appointments.append(
            Appointment(appointment_id, self._next(), kind, on, location)
        )

    class BenefitAppointmentRecorded(RecordAggregate.Event):
        application_id: str
        appointment_id: str
        outcome: str

    @event(BenefitAppointmentRecorded)
    def record_benefit_appointment(
        self, application_id: str, appointment_id: str, outcome: str
    ) -> None:
        appointment = self._benefit(application_id).appointment(appointment_id)
        parse(AppointmentOutcome, outcome, "outcome")
        if appointment.outcome:
            raise InvalidTransitionError(
                f"appointment {appointment_id} was already recorded ({appointment.outcome})"
            )
        appointment.outcome, appointment.outcome_in = outcome, self._next()

    class BenefitApplicationApproved(RecordAggregate.Event):
        application_id: str
        amount: float
        frequency: str
        starts_on: date
        ends_on: date | None
        renews_on: date | None

    @event(BenefitApplicationApproved)
    def approve_benefit_application(
        self,
        application_id: str,
        amount: float | None,
        frequency: str,
        starts_on: date | None,
        ends_on: date | None,
        renews_on: date | None,
    ) -> None:
        application = self._benefit(application_id)
        award = check_award(amount, frequency, starts_on, ends_on, renews_on)
        application.move(self._next(), BenefitStatus.APPROVED, award)
        application.renews_on = renews_on

    class BenefitApplicationDenied(RecordAggregate.Event):
        application_id: str
        reason: str
        appeal_by: date | None

    @event(BenefitApplicationDenied)
    def deny_benefit_application(
        self, application_id: str, reason: str, appeal_by: date | None
    ) -> None:
        application = self._benefit(application_id)
        require_reason(reason, "deny an application")
        check_date(appeal_by, "appeal_by")
        details = {"reason": reason, "appeal_by": appeal_by}
        application.move(self._next(), BenefitStatus.DENIED, details)

    class BenefitAppealFiled(RecordAggregate.Event):
        application_id: str
        hearing_on: date | None

    @event(BenefitAppealFiled)
    def file_benefit_appeal(self, application_id: str, hearing_on: date | None) -> None:
        application = self._benefit(application_id)
        check_date(hearing_on, "hearing_on")
        application.move(self._next(), BenefitStatus.APPEALED, {"hearing_on": hearing_on})
        application.hearing_on = hearing_on

    class BenefitAppealDecided(RecordAggregate.Event):
        application_id: str
        outcome: str
        note: str

    @event(BenefitAppealDecided)
    def decide_benefit_appeal(self, application_id: str, outcome: str, note: str) -> None:
        application = self._benefit(application_id)
        if application.status != BenefitStatus.APPEALED:
            raise InvalidTransitionError(f"the application is {application.status}, not appealed")
        decided = parse(AppealOutcome, outcome, "outcome")
        reversed_ = decided == AppealOutcome.REVERSED
        then = BenefitStatus.SUBMITTED if reversed_ else BenefitStatus.DENIED
        details = {"appeal_outcome": outcome, "note": note}
        if not reversed_:  # the denial stands: what it said goes on being its decision
            denial = [c for c in application.statuses if c.value == BenefitStatus.DENIED][-1]
            details = denial.details | details
        application.move(self._next(), then, details)
        application.hearing_on = None

    class BenefitRenewed(RecordAggregate.Event):
        application_id: str
        ends_on: date | None
        renews_on: date | None

    @event(BenefitRenewed)
    def renew_benefit(
        self, application_id: str, ends_on: date | None, renews_on: date | None
    ) -> None:
        """The benefit goes on for another period; ``renews_on``: the next renewal."""
        application = self._benefit(application_id)
        if application.status != BenefitStatus.APPROVED:
            raise InvalidTransitionError(
                f"the application is {application.status}: only an approved benefit renews"
            )
        check_date(ends_on, "ends_on")
        check_date(renews_on, "renews_on")
        if renews_on is not None and application.renews_on and renews_on <= application.renews_on:
            raise InvalidValueError("the next renewal falls after the one it replaces")
        details = {"renewed": True, "ends_on": ends_on, "renews_on": renews_on}
        standing = current(application.statuses)
        application.statuses.append(
            Change(self._next(), standing.value, standing.details | details)
        )
        application.renews_on = renews_on

    class BenefitApplicationWithdrawn(RecordAggregate.Event):
        application_id: str
        reason: str

    @event(BenefitApplicationWithdrawn)
    def withdraw_benefit_application(self, application_id: str, reason: str) -> None:
        application = self._benefit(application_id)
        require_reason(reason, "withdraw an application")
        application.move(self._next(), BenefitStatus.WITHDRAWN, {"reason": reason})
        application.hearing_on = None

    def _benefit(self, application_id: str) -> BenefitApplication:
        self._check_open()
        application = self.benefit_applications.get(application_id)
        if application is None or application.in_error:
            raise BenefitApplicationNotFoundError(
                f"no benefits application {application_id} on this case"
            )
        return application

    # ---- progress notes (contacts) ---------------------------------------------------
    class ProgressNoteRecorded(RecordAggregate.Event):
        """Version 2: who took part (the client, support contacts of the client's network
        by id, providers by name and organisation, staff by id), where, for how long,
        whether it happened, and the goals and referrals it concerns."""

        note_id: str
        text: str
        contact_kind: str
        contact_mode: str
        present: list[str]
        client_participated: bool
        support_contact_ids: list[str]
        providers: list[dict[str, str]]
        staff_ids: list[str]
        location: str
        duration_minutes: int | None
        contact_status: str
        goal_ids: list[str]
        referral_ids: list[str]
        labels: Sequence[str] = ()

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # A note of version 1 named one kind of contact: a client contact had the client.
            state["client_participated"] = state["contact_kind"] == ContactKind.CLIENT
            state["support_contact_ids"] = []
            state["providers"] = []
            state["staff_ids"] = []
            state["location"] = ""
            state["duration_minutes"] = None
            state["contact_status"] = ContactStatus.HAPPENED.value
            state["goal_ids"] = []
            state["referral_ids"] = []

        def index_entry(self) -> tuple[str, str]:
            return ("note", self.note_id)

        def index_links(self) -> list[tuple[str, str]]:
            return [("goal", g) for g in self.goal_ids] + [
                ("referral", r) for r in self.referral_ids
            ]

        @property
        def with_client(self) -> bool:
            """A contact with the client: they took part, and it happened."""
            return self.client_participated and self.contact_status == ContactStatus.HAPPENED

    def record_note(
        self,
        note_id: str,
        text: str,
        contact_kind: str,
        contact_mode: str,
        present: list[str],
        existing: Recorded | None = None,
        contact: Contact | None = None,
        network: Mapping[str, SupportContact] | None = None,
        labels: Sequence[str] = (),
    ) -> None:
        """``existing``: the note the record already holds with that id, if any;
        ``contact``: who took part and the rest of a version 2 note (by default the client
        took part in a client contact); ``network``: the client's current support contacts
        (those named must be in it, and may be contacted); ``labels``: sensitivity labels it
        carries besides the case's own."""
        self._check_open()
        if existing is not None:
            raise DuplicateIdError(f"note {note_id} already exists")
        contact = contact or Contact(client_participated=contact_kind == ContactKind.CLIENT)
        contact.check_values()
        self._check_network(contact, network or {})
        self._check_note_concerns(contact.goal_ids, contact.referral_ids)
        extra = data_classes(list(labels), "labels")
        self._record_note(
            note_id,
            text,
            contact_kind,
            contact_mode,
            present,
            **contact.event_values(),
            labels=extra,
        )

    def _check_network(self, contact: Contact, network: Mapping[str, SupportContact]) -> None:
        # Checked before the event, not in its method: the network is the client's, and a
        # contact removed or whose consent changed later must not make the note unreadable.
        for contact_id in contact.support_contact_ids:
            person = network.get(contact_id)
            if person is None or person.removed_in is not None:
                raise UnknownReferenceError(
                    f"the client has no current support contact {contact_id}",
                    kind="support_contact",
                    id=contact_id,
                )
            if not person.may_contact and contact.contact_status != ContactStatus.NO_SHOW:
                raise ContactNotPermittedError(
                    f"{person.name} ({contact_id}) may not be contacted: the client's support "
                    f"network records may_contact false, so a contact that {contact.verb} "
                    "cannot include them",
                    contact_id=contact_id,
                    name=person.name,
                )

    def _check_note_concerns(self, goal_ids: Sequence[str], referral_ids: Sequence[str]) -> None:
        for goal_id in goal_ids:
            goal = self.goals.get(goal_id)
            if goal is None or goal.in_error:
                raise UnknownReferenceError(
                    f"no goal {goal_id} on this case", kind="goal", id=goal_id
                )
        aside = self.set_aside_versions()
        for referral_id in referral_ids:
            version = self.referrals.made.get(referral_id)
            if version is None or version in aside:
                raise UnknownReferenceError(
                    f"no referral {referral_id} on this case", kind="referral", id=referral_id
                )

    @event(ProgressNoteRecorded)
    def _record_note(
        self,
        note_id: str,
        text: str,
        contact_kind: str,
        contact_mode: str,
        present: list[str],
        client_participated: bool = False,
        support_contact_ids: list[str] | None = None,
        providers: list[dict[str, str]] | None = None,
        staff_ids: list[str] | None = None,
        location: str = "",
        duration_minutes: int | None = None,
        contact_status: str = ContactStatus.HAPPENED.value,
        goal_ids: list[str] | None = None,
        referral_ids: list[str] | None = None,
        labels: Sequence[str] = (),
    ) -> None:
        self._check_open()
        parse(ContactKind, contact_kind, "contact_kind")
        parse(ContactMode, contact_mode, "contact_mode")
        parse(ContactStatus, contact_status, "contact_status")
        text_list(present, "present")
        if not text.strip():
            raise InvalidValueError("a progress note needs an observation")
        self.notes_recorded += 1
        if labels:
            defaults = self.default_labels
            self._label(self._next(), defaults + [c for c in labels if c not in defaults])

    class AddendumAppended(RecordAggregate.Event):
        note_id: str
        text: str

        def index_entry(self) -> tuple[str, str]:
            return ("addendum", self.note_id)

    def append_addendum(self, note_id: str, text: str, note: Recorded | None) -> None:
        """``note``: the record's entry for the note with that id, if it has one."""
        self.check_addendum(note_id, note)
        self._append_addendum(note_id, text)

    def check_addendum(self, note_id: str, note: Recorded | None) -> None:
        self._check_open()
        if note is None or note.kind != "note" or self._is_set_aside(note.version):
            raise NoteNotFoundError(f"no note {note_id} on this case")

    @event(AddendumAppended)
    def _append_addendum(self, note_id: str, text: str) -> None:
        self._check_open()
        if not text.strip():
            raise InvalidValueError("an addendum needs text")

    # ---- standardized instruments -----------------------------------------------------
    class InstrumentAdministered(RecordAggregate.Event):
        """Responses and the score as the definition version in force computed them."""

        instrument: str
        definition_version: int
        respondent: str
        responses: dict[str, Any]
        context: dict[str, str]
        total: float | None
        band: str | None
        flags: list[str]
        safety_flags: list[str]
        outcome: dict[str, Any]

        def index_entry(self) -> tuple[str, str]:
            return ("score", self.instrument)

    @event(InstrumentAdministered)
    def administer_instrument(
        self,
        instrument: str,
        definition_version: int,
        respondent: str,
        responses: dict[str, Any],
        context: dict[str, str],
        total: float | None,
        band: str | None,
        flags: list[str],
        safety_flags: list[str],
        outcome: dict[str, Any],
    ) -> None:
        self._check_open()
        parse(Respondent, respondent, "respondent")
        if not instrument.strip() or not isinstance(responses, dict) or not responses:
            raise InvalidValueError("an administration names its instrument and responses")
        text_list(flags, "flags")
        if text_list(safety_flags, "safety_flags"):
            self.safety_flags.append(SafetyFlag(self._next(), instrument, safety_flags))

    class SafetyFlagReviewed(RecordAggregate.Event):
        flag_version: int
        note: str

    @event(SafetyFlagReviewed)
    def review_safety_flag(self, flag_version: int, note: str) -> None:
        self._check_open()
        flag = self.open_safety_flag(flag_version)
        if not note.strip():
            raise InvalidValueError("a safety flag review records what was done")
        flag.reviewed_in = self._next()

    def open_safety_flag(self, flag_version: int) -> SafetyFlag:
        for flag in self.safety_flags:
            if flag.version == flag_version and not flag.in_error and flag.reviewed_in is None:
                return flag
        raise SafetyFlagNotFoundError(f"no open safety flag at version {flag_version}")

    def open_safety_flags(self) -> list[SafetyFlag]:
        return [f for f in self.safety_flags if not f.in_error and f.reviewed_in is None]

    # ---- corrections ----------------------------------------------------------------
    class EntryMarkedInError(RecordAggregate.Event):
        target_version: int
        reason: str

    def mark_entry_in_error(
        self, target_version: int, reason: str, entry: Recorded | None = None
    ) -> None:
        """``entry``: the record's entry at that version, if it is a note, an addendum or
        goal progress (those the case does not keep)."""
        self._check_open()
        require_reason(reason, "mark an entry in error")
        self.check_marking(target_version, entry)
        self._record_in_error(target_version=target_version, reason=reason)

    def check_marking(self, target_version: int, entry: Recorded | None) -> None:
        locate(self, target_version, entry)

    @event(EntryMarkedInError)
    def _record_in_error(self, target_version: int, reason: str) -> None:
        # An entry the case does not keep was checked against the record before (by the
        # command, or by the fold of an effective-time state); its correction is all that
        # sets it aside.
        locate(self, target_version, None, indexed=True)()
        self.corrections.append(Correction(target_version, self._next()))

    # ---- lifecycle --------------------------------------------------------------------
    class ServiceStarted(RecordAggregate.Event):
        pass

    @event(ServiceStarted)
    def start_service(self) -> None:
        self._check_open()
        if self.status != CaseStatus.WAITLISTED:
            raise InvalidTransitionError("only a waitlisted case starts service")
        self._move_case(CaseStatus.OPEN, {})

    class CasePutOnHold(RecordAggregate.Event):
        reason: str
        until: date | None

    @event(CasePutOnHold)
    def put_on_hold(self, reason: str, until: date | None) -> None:
        self._check_open()
        require_reason(reason, "put a case on hold")
        check_date(until, "until")
        details: dict[str, Any] = {"reason": reason, "until": until}
        self._move_case(CaseStatus.ON_HOLD, details)

    class CaseResumed(RecordAggregate.Event):
        pass

    @event(CaseResumed)
    def resume(self) -> None:
        self._check_open()
        if self.status != CaseStatus.ON_HOLD:
            raise InvalidTransitionError("only a case on hold is resumed")
        self._move_case(CaseStatus.OPEN, {})

    class Closed(RecordAggregate.Event):
        """Version 2: the structured discharge (why, and the aftercare plan)."""

        reason: str
        outcome: str
        discharge_reason: str
        discharge_detail: str
        aftercare_plan: str
        follow_up_on: date | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["discharge_reason"] = ""
            state["discharge_detail"] = ""
            state["aftercare_plan"] = ""
            state["follow_up_on"] = None

    def close(
        self,
        reason: str,
        outcome: str,
        discharge_reason: str = "",
        discharge_detail: str = "",
        aftercare_plan: str = "",
        follow_up_on: date | None = None,
    ) -> None:
        """``discharge_reason`` "" is a closure that does not say (as closures recorded
        before there was one)."""
        # Checked before the event: cases closed before closing settled them must replay.
        self._check_open()
        referral_ids, task_ids = self.unsettled_referrals(), self.open_tasks()
        if referral_ids or task_ids:
            raise OpenItemsOnClosingError(
                "settle the case's open items before closing it: withdraw each open "
                "referral or leave it open with a reason, and cancel or complete each "
                "open task",
                referral_ids=referral_ids,
                task_ids=task_ids,
            )
        self._close(
            reason, outcome, discharge_reason, discharge_detail, aftercare_plan, follow_up_on
        )

    @event(Closed)
    def _close(
        self,
        reason: str,
        outcome: str,
        discharge_reason: str,
        discharge_detail: str,
        aftercare_plan: str,
        follow_up_on: date | None,
    ) -> None:
        self._check_open()
        require_reason(reason, "close a case")
        if discharge_reason:
            parse(DischargeReason, discharge_reason, "discharge_reason")
        if discharge_reason == DischargeReason.OTHER and not discharge_detail.strip():
            raise InvalidValueError("a discharge for another reason says which (discharge_detail)")
        check_date(follow_up_on, "follow_up_on")
        if follow_up_on is not None and not aftercare_plan.strip():
            raise InvalidValueError("a follow-up date belongs to an aftercare plan")
        details: dict[str, Any] = {"reason": reason, "outcome": outcome}
        if discharge_reason:
            details |= {
                "discharge_reason": discharge_reason,
                "discharge_detail": discharge_detail,
                "aftercare_plan": aftercare_plan,
                "follow_up_on": follow_up_on,
            }
        self._move_case(CaseStatus.CLOSED, details)

    class Reopened(RecordAggregate.Event):
        reason: str

    @event(Reopened)
    def reopen(self, reason: str) -> None:
        if self.status != CaseStatus.CLOSED:
            raise CaseNotClosedError("only a closed case can be reopened")
        require_reason(reason, "reopen a case")
        self._move_case(CaseStatus.OPEN, {"reason": reason})

    def _move_case(self, status: str, details: dict[str, Any]) -> None:
        check_transition(CASE_TRANSITIONS, self.status, status, "case")
        self.statuses.append(Change(self._next(), status, details))


def check_transition(
    allowed: dict[Any, frozenset[Any]], current_status: str, target: str, what: str
) -> None:
    if target not in allowed[current_status]:
        raise InvalidTransitionError(f"a {what} cannot go from {current_status} to {target}")


OPEN_REFERRALS = tuple(s for s in ReferralStatus if s not in FINAL_REFERRAL)


CONTACT_DETAILS = ("phone", "email", "preferred_contact")
"""What of the client's contact a referral may share with its provider, in this order."""


def check_shared_contact(contact: dict[str, str] | None) -> None:
    if contact is None:
        return
    if not isinstance(contact, dict) or not contact:
        raise InvalidValueError("contact shares at least one detail, or is null")
    for name, value in contact.items():
        if name not in CONTACT_DETAILS:
            raise InvalidValueError(f"contact may share only: {', '.join(CONTACT_DETAILS)}")
        if not isinstance(value, str) or not value.strip():
            raise InvalidValueError(f"contact.{name} must be a detail to share")


def check_score_target(instrument: str, score: float | None, direction: str) -> None:
    if not instrument:
        if score is not None or direction:
            raise InvalidValueError("a target score or direction needs target_instrument")
        return
    if score is None:
        raise InvalidValueError("a goal targeting an instrument needs target_score")
    check_number(score, "target_score")
    parse(TargetSide, direction, "direction")


def check_goal(
    description: str,
    need_domain: str,
    due_on: date | None,
    priority: str = "",
    measure: dict[str, Any] | None = None,
) -> None:
    if not description.strip():
        raise InvalidValueError("a goal needs a description")
    parse(NeedDomain, need_domain, "need_domain")
    check_date(due_on, "due_on")
    if priority:
        parse(GoalPriority, priority, "priority")
    check_measure(measure)


def check_measure(measure: dict[str, Any] | None) -> None:
    """What a goal measures: ``{"kind": "value", "baseline", "target", "unit"}`` or
    ``{"kind": "instrument", "instrument", "baseline", "target_score", "direction"}``
    (baselines may be unknown, None)."""
    if measure is None:
        return
    if not isinstance(measure, dict):
        raise InvalidValueError("measure must be an object")
    kind = measure.get("kind")
    if kind == "value":
        required, text = ("target",), ("unit",)
    elif kind == "instrument":
        required, text = ("target_score",), ("instrument",)
        parse(ScoreDirection, measure.get("direction", ""), "measure.direction")
    else:
        raise InvalidValueError("measure.kind must be one of: value, instrument")
    for name in text:
        if not isinstance(measure.get(name), str) or not measure[name].strip():
            raise InvalidValueError(f"a {kind} measure names its {name}")
    for name in required:
        if measure.get(name) is None:
            raise InvalidValueError(f"a {kind} measure has a {name}")
    for name in ("baseline", *required):
        check_number(measure.get(name), f"measure.{name}")
