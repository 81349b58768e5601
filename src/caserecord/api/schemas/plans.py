"""Bodies of the plan routes: plans, their versions and status, goals and their progress."""

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from caserecord.api.schemas.common import (
    AsOfOut,
    Body,
    ChangeOut,
    IsoDate,
    Name,
    Page,
    Reason,
    ReasonedWrite,
    Redactable,
    Revision,
    Text,
    WriteOptions,
)
from caserecord.api.schemas.notes import NoteOut
from caserecord.domain.values import (
    Achievement,
    Cadence,
    GoalLifecycle,
    GoalPriority,
    GoalSettlement,
    NeedDomain,
    PlanReviewOutcome,
    ScoreDirection,
    TargetSide,
)


class Activity(Body):
    activity: str = Name
    cadence: Cadence
    time: str = Field(default="", max_length=50)
    notes: str = Field(default="", max_length=1_000)


class PlanIn(WriteOptions):
    title: str = Name
    activities: list[Activity] = Field(default_factory=list, max_length=100)
    next_review_on: IsoDate | None = None


class PlanRevisionIn(Revision):
    """`reason` is the rationale of the new version. A field left out is carried over from
    the current version; `activities: null` (or `[]`) clears the activities and
    `next_review_on: null` the review date. It names at least one of `title`, `activities`
    and `next_review_on`, else 422 `validation_failed`."""

    # Left out: None, never validated, so kept; sent as null: refused (the type has no None).
    reason: str = Reason
    title: str = Field(default=None, min_length=1, max_length=200, pattern=r"\S")  # type: ignore[assignment]
    activities: list[Activity] | None = Field(default=None, max_length=100)
    next_review_on: IsoDate | None = None


Settlements: Any = Field(
    default_factory=dict,
    max_length=500,
    description="Goal id -> how it is settled, recorded before the plan moves: a plan "
    "completes, is revoked or discontinued only once each open goal is settled (409 "
    "`goals_not_settled` names those left). A carried-over goal joins the next plan drafted.",
)


class PlanStatusIn(WriteOptions):
    goals: dict[str, GoalSettlement] = Settlements


class PlanReasonIn(ReasonedWrite):
    goals: dict[str, GoalSettlement] = Settlements


class PlanRevisionValues(Body):
    """The new version a review that modifies the plan decides; a field left out is
    carried over."""

    title: str = Field(default=None, min_length=1, max_length=200, pattern=r"\S")  # type: ignore[assignment]
    activities: list[Activity] | None = Field(default=None, max_length=100)
    next_review_on: IsoDate | None = None

    def values(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class PlanReviewIn(WriteOptions):
    """A review meeting. `continue` keeps the plan (a `next_review_on` is required; no new
    version); `modify` leads to a revision (give it as `revision`, or revise the plan
    later: until then the worklist shows the revision due); `discontinue` ends the plan
    (its open goals settled with `goals`)."""

    outcome: PlanReviewOutcome
    held_on: IsoDate | None = Field(
        default=None, description="The day of the meeting; the day it took effect if left out"
    )
    attendees: list[str] = Field(default_factory=list, max_length=50)
    client_participated: bool = False
    client_agreed: bool = False
    next_review_on: IsoDate | None = None
    summary: str = Text
    goals: dict[str, GoalSettlement] = Settlements
    revision: PlanRevisionValues | None = None

    def values(self) -> dict[str, Any]:
        found = super().values()
        found["revision"] = self.revision.values() if self.revision is not None else None
        return found


class GoalSettlementIn(WriteOptions):
    settlement: GoalSettlement
    note: str = Text


class Measure(Body):
    """What a goal measures: a value with a unit (`kind: value`: `baseline`, `target`,
    `unit`) or a score on a named instrument (`kind: instrument`: `instrument`,
    `baseline`, `target_score`, `direction`)."""

    kind: Literal["value", "instrument"]
    baseline: float | None = None
    target: float | None = None
    unit: str = Field(default="", max_length=50)
    instrument: str = Field(default="", max_length=100)
    target_score: float | None = None
    direction: ScoreDirection | None = None

    def values(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class GoalIn(WriteOptions):
    """A goal can target a score: `target_instrument` (a code in force), `target_score`
    and `direction` (met when a score is below or above it): PHQ-9 below 10."""

    plan_id: str = Name
    description: str = Field(min_length=1, max_length=2_000)
    need_domain: NeedDomain
    target_measure: str = Field(default="", max_length=500)
    due_on: IsoDate | None = None
    priority: GoalPriority | None = None
    need: str = Field(default="", max_length=500, description="The need the goal addresses")
    measure: Measure | None = None

    target_instrument: str = Field(default="", max_length=40)
    target_score: float | None = None
    direction: TargetSide | Literal[""] = ""

    def values(self) -> dict[str, Any]:
        found = super().values()
        found["priority"] = found["priority"] or ""
        found["measure"] = self.measure.values() if self.measure is not None else None
        return found


class GoalRevisionIn(Revision):
    """A field left out keeps its value; `target_measure: null` and `due_on: null` clear
    them. `reason` says why the goal changes. It names at least one field besides
    `effective_at`, `reason` and `correlation_id`, else 422 `validation_failed`."""

    # Left out: None, never validated, so kept; sent as null: refused (the type has no None).
    description: str = Field(default=None, min_length=1, max_length=2_000)  # type: ignore[assignment]
    need_domain: NeedDomain = Field(default=None)  # type: ignore[assignment]
    target_measure: str | None = Field(default=None, max_length=500)
    due_on: IsoDate | None = None
    priority: GoalPriority | None = None
    need: str | None = Field(default=None, max_length=500)
    measure: Measure | None = None

    def values(self) -> dict[str, Any]:
        found = super().values()
        if self.measure is not None:
            found["measure"] = self.measure.values()
        return found


class GoalLifecycleIn(WriteOptions):
    lifecycle: GoalLifecycle


class GoalProgressIn(WriteOptions):
    achievement: Achievement
    measured_value: str = Field(default="", max_length=200)
    note: str = Text


class PlanReviewOut(Redactable):
    version: int
    outcome: str
    held_on: date
    next_review_on: date | None


class PlanVersionOut(Redactable):
    number: int
    version: int
    title: str
    activities: list[dict[str, Any]]
    next_review_on: date | None
    rationale: str


class ProgressOut(Redactable):
    version: int
    achievement: str
    measured_value: str
    note: str
    effective_at: datetime
    recorded_at: datetime


class GoalRevisionOut(Redactable):
    version: int
    description: str
    need_domain: str
    target_measure: str
    due_on: date | None
    priority: str = ""
    need: str = ""
    measure: dict[str, Any] | None = None
    target_instrument: str = ""
    target_score: float | None = None
    direction: str = ""


class ScoreTargetOut(BaseModel):
    instrument: str
    score: float
    direction: str


class ScoreProgressOut(BaseModel):
    """One administration of the targeted instrument, and whether it meets the target."""

    version: int
    total: float | None
    band: str | None
    definition_version: int
    effective_at: datetime
    met: bool | None


class GoalOut(Redactable):
    goal_id: str
    plan_id: str
    description: str
    need_domain: str
    target_measure: str
    due_on: date | None
    priority: str
    need: str
    measure: dict[str, Any] | None
    lifecycle: str
    achievement: str | None
    latest_progress: ProgressOut | None
    progress: list[ProgressOut] = Field(
        description="The latest 20 standing, oldest first; all of them: "
        "GET /v1/cases/{id}/goals/{goal_id}/progress"
    )
    progress_count: int = Field(description="Progress entries standing (not marked in error)")
    revisions: list[GoalRevisionOut]
    score_target: ScoreTargetOut | None = None
    scores: list[ScoreProgressOut] = Field(
        default_factory=list,
        description="On a goal read by itself: the latest 20 administrations of the "
        "instrument it targets, oldest first",
    )


class GoalPageOut(GoalOut):
    notes: list[NoteOut] = Field(
        description="The latest 20 notes standing that concern it (`goal_ids` / "
        "`referral_ids` of a note), newest first"
    )


class PlanOut(Redactable):
    plan_id: str
    status: str
    version_number: int
    title: str
    activities: list[dict[str, Any]]
    next_review_on: date | None = Field(
        description="From the latest version, or a later review that set the date"
    )
    rationale: str
    versions: list[PlanVersionOut]
    reviews: list[PlanReviewOut]
    revision_due: bool = Field(
        description="The latest review decided to modify the plan and no version followed"
    )
    status_history: list[ChangeOut] = Field(
        description="The latest 20 status changes, oldest first, including those marked in "
        "error (flagged); the case timeline holds every one"
    )
    status_change_count: int = Field(description="Status changes in all, marked in error or not")
    goals: list[GoalOut]
    labels: list[str] = Field(default=[], description="Its sensitivity labels")
    restricted: bool = Field(
        default=False,
        description="A placeholder: the entry exists but the reader may not read it (need to know)",
    )


class ProgressPage(Page[ProgressOut]):
    case_id: UUID
    goal_id: str
    progress_count: int = Field(description="Progress entries standing (not marked in error)")
    as_of: AsOfOut | None = None


class CurrentPlanOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"case_id": "3f2c1a9e-8d7b-4c6a-9e5f-1b2a3c4d5e6f", "plan": None}]
        }
    )

    case_id: UUID
    plan: dict[str, Any] | None = Field(description="None while the case has no plan")
