"""The case: one episode of case management for one client in one agency.

This module is longer than the others because the aggregate's event classes are nested in
``Case``: their topics (``caserecord.domain.case:Case.Opened``) are stored with every event,
so they stay in one class, each beside the command that records it.  What a correction
targets and how it is checked lives in ``corrections.py``; the parts of a case in
``entities.py``; its value rules in ``values.py``."""

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from caserecord.domain import case_upcasts
from caserecord.domain.base import RecordAggregate, require_reason
from caserecord.domain.consent import SPECIALTY_LABELS, data_classes
from caserecord.domain.corrections import locate
from caserecord.domain.entities import (
    Assessment,
    Change,
    Correction,
    Goal,
    GoalRevision,
    Plan,
    PlanVersion,
    PriorTreatment,
    Recorded,
    Referral,
    Referrals,
    current,
)
from caserecord.domain.errors import (
    CaseClosedError,
    CaseNotClosedError,
    DuplicateIdError,
    EntryNotFoundError,
    GoalNotFoundError,
    GoalNotOnCurrentPlanError,
    InvalidTransitionError,
    InvalidValueError,
    NoteNotFoundError,
    NothingToCorrectError,
    PlanAlreadyCurrentError,
    PlanNotFoundError,
    ReferralNotFoundError,
)
from caserecord.domain.values import (
    CADENCES,
    GOAL_TRANSITIONS,
    PLAN_TRANSITIONS,
    REFERRAL_TRANSITIONS,
    Achievement,
    CaseStatus,
    ContactKind,
    ContactMode,
    DeclinedBy,
    GoalLifecycle,
    NeedDomain,
    NeedLevel,
    PlanStatus,
    ReferralStatus,
    ResourceKind,
    Specialty,
    Urgency,
    check_date,
    check_number,
    parse,
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

    class_version = 7

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

    # ---- intake -------------------------------------------------------------------
    class Opened(RecordAggregate.Created):
        client_id: UUID
        agency_id: str
        specialty: str
        referral_source: str
        presenting_needs: list[str]
        interview_summary: str
        case_manager_id: str

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
        self.statuses = [Change(1, CaseStatus.OPEN)]
        self.managers = [Change(1, case_manager_id)]
        self.assessments: list[Assessment] = []
        self.prior_treatments: list[PriorTreatment] = []
        self.plans: list[Plan] = []
        self.goals: dict[str, Goal] = {}
        self.referrals = Referrals()
        self.notes_recorded = 0
        self.corrections: list[Correction] = []
        self.entry_labels: dict[str, list[str]] = {}

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
                final = plan.status in (PlanStatus.COMPLETED, PlanStatus.REVOKED)
                return None if final else plan
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

    def _next(self) -> int:
        return self.version + 1

    def _check_open(self) -> None:
        if self.status == CaseStatus.CLOSED:
            raise CaseClosedError("the case is closed: it must be reopened first")

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
        require_reason(reason, "transfer a case")
        if not case_manager_id.strip():
            raise InvalidValueError("case_manager_id is required")
        if case_manager_id == self.case_manager_id:
            raise InvalidTransitionError("the case is already assigned to that manager")
        self.managers.append(Change(self._next(), case_manager_id, {"reason": reason}))

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
        if self._plan(plan_id).status != PlanStatus.SUSPENDED:
            raise InvalidTransitionError("only a suspended plan can be resumed")
        self._move_plan(plan_id, PlanStatus.ACTIVE, {})

    class PlanCompleted(RecordAggregate.Event):
        plan_id: str

    @event(PlanCompleted)
    def complete_plan(self, plan_id: str) -> None:
        self._move_plan(plan_id, PlanStatus.COMPLETED, {})

    class PlanRevoked(RecordAggregate.Event):
        plan_id: str
        reason: str

    @event(PlanRevoked)
    def revoke_plan(self, plan_id: str, reason: str) -> None:
        require_reason(reason, "revoke a plan")
        self._move_plan(plan_id, PlanStatus.REVOKED, {"reason": reason})

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
        goal_id: str
        plan_id: str
        description: str
        need_domain: str
        target_measure: str
        due_on: date | None

    @event(GoalAdded)
    def add_goal(
        self,
        goal_id: str,
        plan_id: str,
        description: str,
        need_domain: str,
        target_measure: str,
        due_on: date | None,
    ) -> None:
        self._plan(plan_id)
        if goal_id in self.goals:
            raise DuplicateIdError(f"goal {goal_id} already exists")
        check_goal(description, need_domain, due_on)
        v = self._next()
        revision = GoalRevision(v, description, need_domain, target_measure, due_on)
        lifecycle = [Change(v, GoalLifecycle.PROPOSED)]
        self.goals[goal_id] = Goal(goal_id, plan_id, [revision], lifecycle)

    class GoalRevised(RecordAggregate.Event):
        goal_id: str
        description: str
        need_domain: str
        target_measure: str
        due_on: date | None

    @event(GoalRevised)
    def revise_goal(
        self,
        goal_id: str,
        description: str,
        need_domain: str,
        target_measure: str,
        due_on: date | None,
    ) -> None:
        goal = self._goal(goal_id)
        check_goal(description, need_domain, due_on)
        goal.revisions.append(
            GoalRevision(self._next(), description, need_domain, target_measure, due_on)
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
        goal = self._goal(goal_id)
        parse(Achievement, achievement, "achievement")
        if goal.status not in (GoalLifecycle.ACTIVE, GoalLifecycle.ON_HOLD):
            raise InvalidTransitionError(
                f"progress is recorded on active or on-hold goals, not {goal.status} ones"
            )
        goal.progress += 1

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
        referral_id: str
        resource_kind: str
        organisation: str
        service_name: str
        referral_reason: str
        urgency: str
        respond_by: date | None

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
    ) -> None:
        self._check_open()
        parse(ResourceKind, resource_kind, "resource_kind")
        parse(Urgency, urgency, "urgency")
        check_date(respond_by, "respond_by")
        if not organisation.strip() or not service_name.strip():
            raise InvalidValueError("a referral names the organisation and the service")
        if referral_id in self.referrals:
            raise DuplicateIdError(f"referral {referral_id} already exists")
        v = self._next()
        self.referrals.add(Referral(referral_id, v, [Change(v, ReferralStatus.PENDING)]))

    class ReferralAccepted(RecordAggregate.Event):
        referral_id: str

    @event(ReferralAccepted)
    def accept_referral(self, referral_id: str) -> None:
        self._move_referral(referral_id, ReferralStatus.ACCEPTED, {})

    class ReferralDeclined(RecordAggregate.Event):
        referral_id: str
        declined_by: str
        reason: str

    @event(ReferralDeclined)
    def decline_referral(self, referral_id: str, declined_by: str, reason: str) -> None:
        parse(DeclinedBy, declined_by, "declined_by")
        require_reason(reason, "decline a referral")
        details = {"declined_by": declined_by, "reason": reason}
        self._move_referral(referral_id, ReferralStatus.DECLINED, details)

    class ReferralCompleted(RecordAggregate.Event):
        referral_id: str
        outcome: str

    @event(ReferralCompleted)
    def complete_referral(self, referral_id: str, outcome: str) -> None:
        if not outcome.strip():
            raise InvalidValueError("a completed referral records its outcome")
        self._move_referral(referral_id, ReferralStatus.COMPLETED, {"outcome": outcome})

    class ReferralWithdrawn(RecordAggregate.Event):
        referral_id: str
        reason: str

    @event(ReferralWithdrawn)
    def withdraw_referral(self, referral_id: str, reason: str) -> None:
        require_reason(reason, "withdraw a referral")
        self._move_referral(referral_id, ReferralStatus.WITHDRAWN, {"reason": reason})

    def _move_referral(self, referral_id: str, status: str, details: dict[str, Any]) -> None:
        referral = self._referral(referral_id)
        check_transition(REFERRAL_TRANSITIONS, referral.status, status, "referral")
        referral.statuses.append(Change(self._next(), status, details))

    def _referral(self, referral_id: str) -> Referral:
        self._check_open()
        referral = self.referrals.get(referral_id)
        if referral is None or referral.in_error:
            raise ReferralNotFoundError(f"no referral {referral_id} on this case")
        return referral

    # ---- progress notes --------------------------------------------------------------
    class ProgressNoteRecorded(RecordAggregate.Event):
        note_id: str
        text: str
        contact_kind: str
        contact_mode: str
        present: list[str]
        labels: Sequence[str] = ()

        def index_entry(self) -> tuple[str, str]:
            return ("note", self.note_id)

    def record_note(
        self,
        note_id: str,
        text: str,
        contact_kind: str,
        contact_mode: str,
        present: list[str],
        existing: Recorded | None = None,
        labels: Sequence[str] = (),
    ) -> None:
        """``existing``: the note the record already holds with that id, if any.
        ``labels``: sensitivity labels it carries besides the case's own."""
        self._check_open()
        if existing is not None:
            raise DuplicateIdError(f"note {note_id} already exists")
        extra = data_classes(list(labels), "labels")
        self._record_note(note_id, text, contact_kind, contact_mode, present, extra)

    @event(ProgressNoteRecorded)
    def _record_note(
        self,
        note_id: str,
        text: str,
        contact_kind: str,
        contact_mode: str,
        present: list[str],
        labels: Sequence[str] = (),
    ) -> None:
        self._check_open()
        parse(ContactKind, contact_kind, "contact_kind")
        parse(ContactMode, contact_mode, "contact_mode")
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

    # ---- closure --------------------------------------------------------------------
    class Closed(RecordAggregate.Event):
        reason: str
        outcome: str

    @event(Closed)
    def close(self, reason: str, outcome: str) -> None:
        self._check_open()
        require_reason(reason, "close a case")
        self.statuses.append(
            Change(self._next(), CaseStatus.CLOSED, {"reason": reason, "outcome": outcome})
        )

    class Reopened(RecordAggregate.Event):
        reason: str

    @event(Reopened)
    def reopen(self, reason: str) -> None:
        if self.status != CaseStatus.CLOSED:
            raise CaseNotClosedError("only a closed case can be reopened")
        require_reason(reason, "reopen a case")
        self.statuses.append(Change(self._next(), CaseStatus.OPEN, {"reason": reason}))


def check_transition(
    allowed: dict[Any, frozenset[Any]], current_status: str, target: str, what: str
) -> None:
    if target not in allowed[current_status]:
        raise InvalidTransitionError(f"a {what} cannot go from {current_status} to {target}")


def check_goal(description: str, need_domain: str, due_on: date | None) -> None:
    if not description.strip():
        raise InvalidValueError("a goal needs a description")
    parse(NeedDomain, need_domain, "need_domain")
    check_date(due_on, "due_on")
