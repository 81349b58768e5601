"""Marking an entry in error: what the marked version recorded, whether it may be set aside,
and how.  The case's ``EntryMarkedInError`` event stays nested in ``Case`` (its topic is
stored); this is the locator its command and its event both run."""

from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from caserecord.domain.benefits import AWAITING, Appointment, BenefitApplication, DocumentRequest
from caserecord.domain.entities import (
    Assessment,
    Change,
    Correction,
    Goal,
    Plan,
    PriorTreatment,
    Recorded,
    Referrals,
    SafetyFlag,
    Task,
)
from caserecord.domain.errors import (
    AlreadyInErrorError,
    EntryNotCorrectableError,
    EntryNotFoundError,
    InvalidValueError,
)
from caserecord.domain.values import ENDED_PLAN, PlanReviewOutcome

Flag = Callable[[], None]
"""Sets the located entry aside (run by the event, once the command has checked it)."""


class Corrected(Protocol):
    """What the locator reads of a case."""

    corrections: list[Correction]
    assessments: list[Assessment]
    prior_treatments: list[PriorTreatment]
    plans: list[Plan]
    goals: dict[str, Goal]
    referrals: Referrals
    statuses: list[Change]
    managers: list[Change]
    tasks: dict[str, Task]
    safety_flags: list[SafetyFlag]
    benefit_applications: dict[str, BenefitApplication]

    @property
    def version(self) -> int: ...

    def set_aside_versions(self) -> set[int]: ...


def locate(case: Corrected, v: int, entry: Recorded | None, *, indexed: bool = False) -> Flag:
    """Find what event ``v`` recorded and return how to set it aside: in the case, or
    ``entry`` (with ``indexed``, an entry found in neither is one of the record's
    entries, already checked)."""
    if isinstance(v, bool) or not isinstance(v, int):
        raise InvalidValueError(f"target_version must be a version number (got {v!r})")
    if not 1 <= v <= case.version:
        raise EntryNotFoundError(f"the case has no version {v}")
    if any(c.target_version == v for c in case.corrections):
        raise AlreadyInErrorError(f"version {v} is already marked in error")
    if v == 1:
        raise EntryNotCorrectableError(
            "the intake that opened the case cannot be marked in error; "
            "close the case with a reason instead"
        )
    for find in (
        locate_content,
        locate_plan,
        locate_goal,
        locate_referral,
        locate_task,
        locate_case_change,
        locate_safety_flag,
        locate_benefit,
    ):
        flag = find(case, v)
        if flag is not None:
            return flag
    if entry is not None and entry.version == v:
        return locate_entry(case, entry)
    if indexed:
        return no_flag
    raise EntryNotCorrectableError(f"version {v} is not an entry that can be marked in error")


def locate_content(case: Corrected, v: int) -> Flag | None:
    entries: list[Any] = [a for a in case.assessments if a.version == v]
    if entries:
        return flag_all(entries)
    entries = [t for t in case.prior_treatments if t.version == v]
    return flag_entry(entries[0]) if entries else None


def locate_entry(case: Corrected, entry: Recorded) -> Flag:
    # An entry's set-aside state is its correction alone, and locate has already
    # refused a version marked before.
    if entry.kind == "addendum":
        if entry.note_version is None:
            raise EntryNotCorrectableError(f"version {entry.version} is on no note")
        if entry.note_version in case.set_aside_versions():
            raise AlreadyInErrorError("that entry belongs to an item already marked in error")
    elif entry.kind == "progress":
        goal = case.goals.get(entry.entity_id)
        if goal is None:
            raise EntryNotCorrectableError(f"version {entry.version} is on no goal")
        check_not_set_aside(goal)
    elif entry.kind not in ("note", "score"):
        raise EntryNotCorrectableError(f"version {entry.version} cannot be marked in error")
    return no_flag


def locate_plan(case: Corrected, v: int) -> Flag | None:
    for plan in case.plans:
        if plan.versions[0].version == v:
            if any(c.version == v for g in case.goals.values() for c in g.lifecycle):
                raise EntryNotCorrectableError(
                    "goals of the former plan were carried over into this plan: revoke it "
                    "instead, settling them again"
                )
            return flag_entry(plan)
        for review in plan.reviews:
            if review.version == v:
                check_not_set_aside(plan)
                if review.outcome != PlanReviewOutcome.DISCONTINUE:
                    return flag_entry(review)
                return flag_each(revert_plan_status(case, plan, v), flag_entry(review))
        for revision in plan.versions[1:]:
            if revision.version == v:
                check_not_set_aside(plan)
                return flag_entry(revision)
        if any(c.version == v for c in plan.statuses):
            check_not_set_aside(plan)
            return revert_plan_status(case, plan, v)
    return None


def revert_plan_status(case: Corrected, plan: Plan, v: int) -> Flag:
    flag = latest_change(plan.statuses, v, "plan status")
    reopens = plan.status in ENDED_PLAN
    latest = [p for p in case.plans if not p.in_error][-1]
    if reopens and plan is not latest:
        raise EntryNotCorrectableError(
            "a later plan is current: this plan's closing cannot be undone"
        )
    return flag


def locate_goal(case: Corrected, v: int) -> Flag | None:
    for goal in case.goals.values():
        if goal.revisions[0].version == v:
            return flag_entry(goal)
        for revision in goal.revisions[1:]:
            if revision.version == v:
                check_not_set_aside(goal)
                return flag_entry(revision)
        if any(c.version == v for c in goal.lifecycle):
            check_not_set_aside(goal)
            check_not_ended(case, goal.plan_id)
            return latest_change(goal.lifecycle, v, "goal lifecycle")
    return None


def check_not_ended(case: Corrected, plan_id: str) -> None:
    """No goal becomes open again on a plan that ended (or whose goals moved on)."""
    plan = next((p for p in case.plans if p.plan_id == plan_id), None)
    if plan is not None and plan.status in ENDED_PLAN:
        raise EntryNotCorrectableError(
            "the goal's plan has ended: a goal settled with it cannot be reopened"
        )


def locate_task(case: Corrected, v: int) -> Flag | None:
    for task in case.tasks.values():
        if task.version == v:
            return flag_entry(task)
        for changes, what in ((task.statuses, "task status"), (task.owners, "task owner")):
            if any(c.version == v for c in changes):
                check_not_set_aside(task)
                return latest_change(changes, v, what)
    return None


def locate_referral(case: Corrected, v: int) -> Flag | None:
    for referral in case.referrals.values():
        if referral.version == v:
            return flag_entry(referral)
        if any(c.version == v for c in referral.statuses):
            check_not_set_aside(referral)
            return latest_change(referral.statuses, v, "referral status")
    return None


def locate_case_change(case: Corrected, v: int) -> Flag | None:
    for changes, what in (
        (case.statuses, "case status"),
        (case.managers, "assignment"),
    ):
        found = [c for c in changes if c.version == v]
        if found and "transfer_id" in found[0].details:
            raise EntryNotCorrectableError(
                "an accepted transfer is not marked in error: transfer the case back instead"
            )
        if found:
            return latest_change(changes, v, what)
    return None


def locate_safety_flag(case: Corrected, v: int) -> Flag | None:
    """An administration that raised a safety flag: set aside, it is no longer due."""
    flags = [f for f in case.safety_flags if f.version == v]
    return flag_entry(flags[0]) if flags else None


def locate_benefit(case: Corrected, v: int) -> Flag | None:
    """A benefits application's step: its start (the whole application), a status step
    (the latest standing, never a renewal), a documents request or their provision, an
    appointment or its outcome."""
    for application in case.benefit_applications.values():
        if application.version == v:
            return flag_entry(application)
        for request in application.documents:
            if v in (request.version, request.provided_in):
                check_not_set_aside(application)
                if request.version == v:
                    return flag_entry(request)
                check_not_set_aside(request)
                return partial(unprovide, request)
        for appointment in application.appointments:
            if v in (appointment.version, appointment.outcome_in):
                check_not_set_aside(application)
                if appointment.version == v:
                    return flag_entry(appointment)
                check_not_set_aside(appointment)
                return partial(unrecord, appointment)
        found = [c for c in application.statuses if c.version == v]
        if found:
            check_not_set_aside(application)
            return revert_benefit_status(application, found[0], v)
    return None


def revert_benefit_status(application: BenefitApplication, change: Change, v: int) -> Flag:
    if change.details.get("renewed"):
        raise EntryNotCorrectableError(
            "a renewal is not marked in error: it replaced a renewal day the application "
            "no longer holds"
        )
    flag = latest_change(application.statuses, v, "benefits application status")
    valid = [c for c in application.statuses if not c.in_error]
    later: list[DocumentRequest | Appointment] = [*application.documents, *application.appointments]
    if valid[-2].value not in AWAITING and any(s.version > v and not s.in_error for s in later):
        raise EntryNotCorrectableError(
            "documents or appointments await this decision: mark them in error first"
        )

    def revert() -> None:
        flag()
        application.settle()

    return revert


def unprovide(request: DocumentRequest) -> None:
    request.provided_in, request.provided_on = None, None


def unrecord(appointment: Appointment) -> None:
    appointment.outcome, appointment.outcome_in = "", None


def check_not_set_aside(item: Any) -> None:
    # The item's own marking already set aside everything recorded about it.
    if item.in_error:
        raise AlreadyInErrorError("that entry belongs to an item already marked in error")


def flag_entry(entry: Any) -> Flag:
    if entry.in_error:
        raise AlreadyInErrorError("that entry is already marked in error")
    return lambda: setattr(entry, "in_error", True)


def no_flag() -> None:
    """Nothing to set on the entry: the correction recorded with it is enough."""


def flag_each(*flags: Flag) -> Flag:
    def flag() -> None:
        for each in flags:
            each()

    return flag


def flag_all(entries: list[Any]) -> Flag:
    if all(e.in_error for e in entries):
        raise AlreadyInErrorError("that entry is already marked in error")

    def flag() -> None:
        for entry in entries:
            entry.in_error = True

    return flag


def latest_change(changes: list[Change], v: int, what: str) -> Flag:
    valid = [c for c in changes if not c.in_error]
    if valid[-1].version != v or len(valid) == 1:
        raise EntryNotCorrectableError(
            f"only the latest {what} change can be marked in error; record a further change instead"
        )
    return flag_entry(valid[-1])
