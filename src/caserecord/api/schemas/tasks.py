"""Bodies of the task and worklist routes."""

from datetime import date
from uuid import UUID

from pydantic import BaseModel, Field

from caserecord.api.schemas.common import (
    AsOfOut,
    ChangeOut,
    IsoDate,
    Name,
    Page,
    ReasonedWrite,
    Redactable,
    Text,
    WriteOptions,
)
from caserecord.domain.values import TaskConcerns


class TaskIn(WriteOptions):
    title: str = Name
    owner_id: str = Field(
        min_length=1, max_length=200, pattern=r"\S", description="The staff member who does it"
    )
    due_on: IsoDate
    concerns: TaskConcerns = TaskConcerns.CASE
    concerns_id: str = Field(
        default="",
        max_length=200,
        description="The id of the plan, goal, referral or note it concerns; empty for "
        "the case itself",
    )


class TaskCompletionIn(WriteOptions):
    outcome: str = Text


class TaskReassignmentIn(WriteOptions):
    owner_id: str = Field(min_length=1, max_length=200, pattern=r"\S")


class TaskCancellationIn(ReasonedWrite):
    pass


class TaskOut(Redactable):
    task_id: str
    case_id: UUID
    title: str
    owner_id: str
    due_on: date
    concerns: str
    concerns_id: str
    status: str
    outcome: str
    created_in_version: int
    owner_history: list[ChangeOut]
    status_history: list[ChangeOut]


class TaskPage(Page[TaskOut]):
    case_id: UUID
    task_count: int = Field(description="Tasks standing (not marked in error)")
    as_of: AsOfOut | None = None


class WorklistItem(BaseModel):
    item_id: str
    kind: str = Field(
        description="task, goal_due, plan_review, plan_revision, referral_response, "
        "referral_reroute, client_contact, left_open, safety_flag, or a benefits application's "
        "benefit_decision, benefit_documents, benefit_appointment, benefit_hearing, "
        "benefit_renewal"
    )
    case_id: UUID
    client_id: UUID
    owner_id: str
    due_on: date
    overdue: bool = Field(
        description="Due before today (UTC) on an open case; never on a closed case"
    )
    days_until_due: int = Field(description="Negative once overdue")
    subject_id: str
    link: str = Field(description="Where the item's subject is read (a path of this API)")
    title: str = Field(description='"Restricted entry" where `restricted`')
    case_version: int
    labels: list[str] = Field(description="Sensitivity labels of the entry the title comes from")
    restricted: bool = Field(description="The reader may not read the entry the title comes from")


class WorklistPage(Page[WorklistItem]):
    staff_id: str


class StaffWorkload(BaseModel):
    staff_id: str
    open_cases: int
    items: int
    overdue: int
    due_today: int


class WorklistSummaryPage(Page[StaffWorkload]):
    """Per staff member of the agency, by id."""
