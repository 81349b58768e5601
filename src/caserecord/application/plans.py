"""Commands on a case's plans and goals."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, TypeVar, Unpack
from uuid import UUID

from caserecord.application.base import CommandResult, Options, new_id, new_version
from caserecord.application.instruments import InstrumentDefinitions
from caserecord.application.writes import WritePath
from caserecord.domain.case import Case
from caserecord.domain.errors import InvalidValueError
from caserecord.domain.recording import Actor
from caserecord.domain.values import PlanReviewOutcome, text_list

T = TypeVar("T")


class Unchanged(Enum):
    """A revision's value for a field it does not name: the field keeps its value."""

    KEEP = "keep"


KEEP = Unchanged.KEEP


def kept(value: T | Unchanged, current: T) -> T:
    return current if value is KEEP else value


class PlanCommands(InstrumentDefinitions, WritePath):
    """Drafting, revising and moving a case's plans and goals."""

    # ---- plan ----------------------------------------------------------------------
    def draft_plan(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        title: str,
        activities: list[dict[str, Any]],
        next_review_on: date | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        plan_id = new_id()
        items = [dict(a) for a in activities]
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.draft_plan(plan_id, title, items, next_review_on),
            plan_id,
        )

    def revise_plan(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        plan_id: str,
        title: str | Unchanged = KEEP,
        activities: list[dict[str, Any]] | Unchanged | None = KEEP,
        next_review_on: date | Unchanged | None = KEEP,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """A new version of the plan: what is not named (``KEEP``) is carried over from the
        current version; ``activities=None`` clears them. The event holds every value."""
        rationale = opts.get("reason") or ""

        def revise(c: Case) -> None:
            plan = c.current_plan
            now = plan.current_version if plan is not None and plan.plan_id == plan_id else None
            items = kept(activities, now.activities if now else [])
            c.revise_plan(
                plan_id,
                kept(title, now.title if now else ""),
                [dict(a) for a in items or []],
                kept(next_review_on, now.next_review_on if now else None),
                rationale,
            )

        def number(c: Case) -> str:
            return str(next(p for p in c.plans if p.plan_id == plan_id).versions[-1].number)

        return self._update_case(actor, case_id, opts, revise, number)

    def change_plan_status(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        plan_id: str,
        action: str,
        goals: dict[str, str] | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """action: activate, suspend, resume, complete or revoke.  ``goals``: how each open
        goal of the plan is settled when it ends (goal id -> settlement), recorded first,
        in the same save."""
        reason = opts.get("reason") or ""
        moves: dict[str, Callable[[Case], None]] = {
            "activate": lambda c: c.activate_plan(plan_id),
            "suspend": lambda c: c.suspend_plan(plan_id, reason),
            "resume": lambda c: c.resume_plan(plan_id),
            "complete": lambda c: c.complete_plan(plan_id),
            "revoke": lambda c: c.revoke_plan(plan_id, reason),
        }
        if action not in moves:
            raise InvalidValueError(f"plan action must be one of: {', '.join(moves)}")
        if goals and action not in ("complete", "revoke"):
            raise InvalidValueError("goals are settled when a plan completes or is revoked")

        def move(c: Case) -> None:
            settle_goals(c, goals or {})
            moves[action](c)

        return self._update_case(actor, case_id, opts, move)

    def review_plan(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        plan_id: str,
        outcome: str,
        held_on: date | None = None,
        attendees: list[str] | None = None,
        client_participated: bool = False,
        client_agreed: bool = False,
        next_review_on: date | None = None,
        summary: str = "",
        goals: dict[str, str] | None = None,
        revision: dict[str, Any] | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """A review meeting.  ``held_on`` defaults to the day it is recorded as effective;
        ``goals`` settles open goals (a discontinued plan ends); ``revision`` (title,
        activities, next_review_on: as ``revise_plan``) records the new version a modify
        outcome decides, in the same save, with ``reason`` or the summary as rationale."""
        effective = opts.get("effective_at")
        day = held_on or (effective.date() if effective else datetime.now(UTC).date())
        people = text_list(attendees or [], "attendees")
        rationale = opts.get("reason") or summary

        def review(c: Case) -> None:
            settle_goals(c, goals or {})
            c.review_plan(
                plan_id,
                outcome,
                day,
                people,
                client_participated,
                client_agreed,
                next_review_on,
                summary,
            )
            if revision is not None:
                if outcome != PlanReviewOutcome.MODIFY:
                    raise InvalidValueError("only a review that modifies the plan revises it")
                plan = c.current_plan
                if plan is None:
                    raise InvalidValueError("a discontinued plan is not revised")
                now = plan.current_version
                c.revise_plan(
                    plan_id,
                    revision.get("title", now.title),
                    [dict(a) for a in revision.get("activities", now.activities) or []],
                    revision.get("next_review_on", next_review_on or now.next_review_on),
                    rationale,
                )

        return self._update_case(actor, case_id, opts, review)

    def settle_goal(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        goal_id: str,
        settlement: str,
        note: str = "",
        **opts: Unpack[Options],
    ) -> CommandResult:
        return self._update_case(
            actor, case_id, opts, lambda c: c.settle_goal(goal_id, settlement, note)
        )

    # ---- goals ---------------------------------------------------------------------
    def add_goal(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        plan_id: str,
        description: str,
        need_domain: str,
        target_measure: str = "",
        due_on: date | None = None,
        priority: str = "",
        need: str = "",
        measure: dict[str, Any] | None = None,
        target_instrument: str = "",
        target_score: float | None = None,
        direction: str = "",
        **opts: Unpack[Options],
    ) -> CommandResult:
        """``target_instrument``, ``target_score``, ``direction`` (below or above): a goal
        met by a score of an instrument in force for the agency (PHQ-9 below 10)."""
        if target_instrument:
            self.definition_in_force(actor, target_instrument)
        goal_id = new_id()
        measured = dict(measure) if measure is not None else None
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.add_goal(
                goal_id,
                plan_id,
                description,
                need_domain,
                target_measure,
                due_on,
                priority,
                need,
                measured,
                target_instrument,
                target_score,
                direction,
            ),
            goal_id,
        )

    def revise_goal(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        goal_id: str,
        description: str | Unchanged = KEEP,
        need_domain: str | Unchanged = KEEP,
        target_measure: str | Unchanged | None = KEEP,
        due_on: date | Unchanged | None = KEEP,
        priority: str | Unchanged | None = KEEP,
        need: str | Unchanged | None = KEEP,
        measure: dict[str, Any] | Unchanged | None = KEEP,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """What is not named (``KEEP``) keeps its value; ``None`` clears the target measure,
        the due date, the priority, the need or the measure. The event holds every value."""

        def revise(c: Case) -> None:
            goal = c.goals.get(goal_id)
            standing = [r for r in goal.revisions if not r.in_error] if goal else []
            now = standing[-1] if standing else None
            c.revise_goal(
                goal_id,
                kept(description, now.description if now else ""),
                kept(need_domain, now.need_domain if now else ""),
                kept(target_measure, now.target_measure if now else "") or "",
                kept(due_on, now.due_on if now else None),
                kept(priority, now.priority if now else "") or "",
                kept(need, now.need if now else "") or "",
                kept(measure, now.measure if now else None),
            )

        return self._update_case(actor, case_id, opts, revise)

    def change_goal_lifecycle(
        self, actor: Actor, case_id: UUID, *, goal_id: str, lifecycle: str, **opts: Unpack[Options]
    ) -> CommandResult:
        return self._update_case(
            actor, case_id, opts, lambda c: c.change_goal_lifecycle(goal_id, lifecycle)
        )

    def record_goal_progress(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        goal_id: str,
        achievement: str,
        measured_value: str = "",
        note: str = "",
        **opts: Unpack[Options],
    ) -> CommandResult:
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.record_goal_progress(goal_id, achievement, measured_value, note),
            new_version,
        )


def settle_goals(case: Case, goals: dict[str, str]) -> None:
    """Settle the goals named (goal id -> settlement), in the order given."""
    if not isinstance(goals, dict):
        raise InvalidValueError("goals must map goal ids to their settlement")
    for goal_id, settlement in goals.items():
        case.settle_goal(goal_id, settlement, "")
