"""Read model 1: the current plan of each case, with its goals."""

import json
from collections import OrderedDict
from datetime import date
from typing import Any
from uuid import UUID

from caserecord.domain.case import Case
from caserecord.domain.entities import Plan
from caserecord.projections.base import (
    PLAN_LIFECYCLE_EVENTS,
    ViewProjection,
    iso_date,
    latest,
    to_json,
    today,
)
from caserecord.projections.sql import Database, Statement, ViewSchema


class CurrentPlansSchema(ViewSchema):
    name = "current_plans"
    tables = ("view_current_plans",)
    ddl = (
        "CREATE TABLE IF NOT EXISTS {s}view_current_plans ("
        "case_id TEXT PRIMARY KEY, agency_id TEXT NOT NULL, client_id TEXT NOT NULL, "
        "plan_id TEXT NOT NULL, status TEXT NOT NULL, version_number INTEGER NOT NULL, "
        "title TEXT NOT NULL, activities TEXT NOT NULL, next_review_on TEXT, "
        "rationale TEXT NOT NULL, goals TEXT NOT NULL, case_version BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS view_current_plans_agency "
        "ON {s}view_current_plans (agency_id, case_id)",
    )
    digest_queries = ("SELECT * FROM {s}view_current_plans ORDER BY case_id",)


# Events after which the current plan may look different; the rest only move the fold on.
PLAN_EVENTS = (
    *PLAN_LIFECYCLE_EVENTS,
    Case.GoalAdded,
    Case.GoalRevised,
    Case.GoalLifecycleChanged,
    Case.GoalProgressRecorded,
    Case.EntryMarkedInError,
)

UPSERT = (
    "INSERT INTO {s}view_current_plans VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
    "ON CONFLICT (case_id) DO UPDATE SET plan_id=excluded.plan_id, status=excluded.status, "
    "version_number=excluded.version_number, title=excluded.title, "
    "activities=excluded.activities, next_review_on=excluded.next_review_on, "
    "rationale=excluded.rationale, goals=excluded.goals, case_version=excluded.case_version"
)
DELETE = "DELETE FROM {s}view_current_plans WHERE case_id=?"


class CurrentPlansProjection(ViewProjection):
    name = "current_plans"
    schema = CurrentPlansSchema
    SEEN = 5_000  # progress entries remembered, so a plan event seldom reads the log

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: OrderedDict[tuple[UUID, int], dict[str, Any]] = OrderedDict()

    def writes_for(self, event: Any, position: int) -> list[Statement]:
        if not isinstance(event, Case.Event):
            return []
        case = self.folder.fold(event)
        assert isinstance(case, Case)
        if isinstance(event, Case.GoalProgressRecorded):
            self._remember(case.id, event)
        if isinstance(event, PLAN_EVENTS):
            # The row shows the version of the last event that changed it; later events
            # of the batch (notes, say) move the fold on but leave the plan as it is.
            self.touch(case.id, (case, case.version))
        return []

    def rows_for(self, key: UUID, value: Any) -> list[Statement]:
        case: Case
        version: int
        case, version = value
        plan = case.current_plan
        if plan is None:
            return [(DELETE, (str(key),))]
        return [(UPSERT, plan_row(case, plan, self._latest_progress(case, plan), version))]

    def _latest_progress(self, case: Case, plan: Plan) -> dict[str, dict[str, Any]]:
        """Goal id -> its latest progress standing.  The case keeps only a count of its
        progress, so which entry that is comes from the record's entry index, and its
        content from the events: those this projection saw lately, else the log (after a
        restart, or when the latest entry was set aside)."""
        latest_of = {}
        for goal in case.goals.values():
            if goal.plan_id == plan.plan_id and not goal.in_error and goal.progress:
                latest = self.folder.latest_progress(case, goal.goal_id)
                if latest is not None:
                    latest_of[goal.goal_id] = latest
        missing = [v for v in latest_of.values() if (case.id, v) not in self.seen]
        if missing:
            for event in self.folder.read(case.id, missing).values():
                self._remember(case.id, event)
        return {goal_id: self.seen[(case.id, v)] for goal_id, v in latest_of.items()}

    def _remember(self, case_id: UUID, event: Case.GoalProgressRecorded) -> None:
        self.seen[(case_id, event.originator_version)] = {
            "version": event.originator_version,
            "achievement": event.achievement,
            "measured_value": event.measured_value,
            "note": event.note,
        }
        if len(self.seen) > self.SEEN:
            self.seen.popitem(last=False)


def plan_row(
    case: Case, plan: Plan, progress_of: dict[str, dict[str, Any]], version: int
) -> tuple[Any, ...]:
    # Only what the view shows: rendering every goal's whole history on each event would
    # make a rebuild quadratic in the length of a case.
    current = latest(plan.versions)
    goals = []
    for goal in case.goals.values():
        if goal.plan_id != plan.plan_id or goal.in_error:
            continue
        revision = latest(goal.revisions)
        progress = progress_of.get(goal.goal_id)
        goals.append(
            {
                "goal_id": goal.goal_id,
                "description": revision.description,
                "need_domain": revision.need_domain,
                "target_measure": revision.target_measure,
                "due_on": iso_date(revision.due_on),
                "lifecycle": latest(goal.lifecycle).value,
                "achievement": progress["achievement"] if progress else None,
                "latest_progress": progress,
            }
        )
    return (
        str(case.id),
        case.agency_id,
        str(case.client_id),
        plan.plan_id,
        latest(plan.statuses).value,
        current.number,
        current.title,
        to_json(current.activities),
        iso_date(current.next_review_on),
        current.rationale,
        to_json(goals),
        version,
    )


def current_plan(db: Database, agency_id: str, case_id: UUID) -> dict[str, Any] | None:
    rows = db.query(
        "SELECT * FROM {s}view_current_plans WHERE agency_id=? AND case_id=?",
        (agency_id, str(case_id)),
    )
    if not rows:
        return None
    row = rows[0]
    review = row["next_review_on"]
    return {
        "case_id": UUID(row["case_id"]),
        "client_id": UUID(row["client_id"]),
        "agency_id": row["agency_id"],
        "plan_id": row["plan_id"],
        "status": row["status"],
        "version_number": row["version_number"],
        "title": row["title"],
        "activities": json.loads(row["activities"]),
        "next_review_on": date.fromisoformat(review) if review else None,
        "review_overdue": bool(review) and date.fromisoformat(review) < today(),
        "rationale": row["rationale"],
        "goals": json.loads(row["goals"]),
        "case_version": row["case_version"],
    }
