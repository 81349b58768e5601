"""Read model 1: the current plan of each case, with its goals."""

import json
from datetime import date
from typing import Any
from uuid import UUID

from caserecord.domain.case import Case
from caserecord.presenters import plan_to_dict
from caserecord.projections.base import ViewProjection, iso_date, to_json, today
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
        data = plan_to_dict(case, plan)
        goals = [
            {
                "goal_id": g["goal_id"],
                "description": g["description"],
                "need_domain": g["need_domain"],
                "target_measure": g["target_measure"],
                "due_on": iso_date(g["due_on"]),
                "lifecycle": g["lifecycle"],
                "achievement": g["achievement"],
                "latest_progress": g["latest_progress"],
            }
            for g in data["goals"]
        ]
        row = (
            str(case.id),
            case.agency_id,
            str(case.client_id),
            data["plan_id"],
            data["status"],
            data["version_number"],
            data["title"],
            to_json(data["activities"]),
            iso_date(data["next_review_on"]),
            data["rationale"],
            to_json(goals),
            case.version,
        )
        return [(UPSERT, row)]


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
