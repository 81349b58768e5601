"""Read model 1: the current plan of each case, with its goals."""

import json
from datetime import date
from typing import Any
from uuid import UUID

from caserecord.domain.case import Case
from caserecord.domain.entities import Plan
from caserecord.projections.base import (
    ViewProjection,
    iso_date,
    latest,
    latest_or_none,
    to_json,
    today,
)
from caserecord.projections.sql import Database, ViewSchema, Write


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
    Case.PlanDrafted,
    Case.PlanRevised,
    Case.PlanActivated,
    Case.PlanSuspended,
    Case.PlanResumed,
    Case.PlanCompleted,
    Case.PlanRevoked,
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

    def writes_for(self, event: Any, position: int) -> list[Write]:
        if not isinstance(event, Case.Event):
            return []
        case = self.folder.fold(event)
        assert isinstance(case, Case)
        if not isinstance(event, PLAN_EVENTS):
            return []
        plan = case.current_plan
        if plan is None:
            return [(DELETE, (str(case.id),))]
        return [(UPSERT, plan_row(case, plan))]


def plan_row(case: Case, plan: Plan) -> tuple[Any, ...]:
    # Only what the view shows: rendering every goal's whole history on each event would
    # make a rebuild quadratic in the length of a case.
    version = latest(plan.versions)
    goals = []
    for goal in case.goals.values():
        if goal.plan_id != plan.plan_id or goal.in_error:
            continue
        revision = latest(goal.revisions)
        progress = latest_or_none(goal.progress)
        goals.append(
            {
                "goal_id": goal.goal_id,
                "description": revision.description,
                "need_domain": revision.need_domain,
                "target_measure": revision.target_measure,
                "due_on": iso_date(revision.due_on),
                "lifecycle": latest(goal.lifecycle).value,
                "achievement": progress.achievement if progress else None,
                "latest_progress": None
                if progress is None
                else {
                    "version": progress.version,
                    "achievement": progress.achievement,
                    "measured_value": progress.measured_value,
                    "note": progress.note,
                },
            }
        )
    return (
        str(case.id),
        case.agency_id,
        str(case.client_id),
        plan.plan_id,
        latest(plan.statuses).value,
        version.number,
        version.title,
        to_json(version.activities),
        iso_date(version.next_review_on),
        version.rationale,
        to_json(goals),
        case.version,
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
