"""Bodies of the note routes: progress notes and their addenda."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from caserecord.api.schemas.common import AsOfOut, Page, WriteOptions
from caserecord.domain.consent import DataClass
from caserecord.domain.values import ContactKind, ContactMode


class NoteIn(WriteOptions):
    text: str = Field(min_length=1, max_length=20_000)
    contact_kind: ContactKind
    contact_mode: ContactMode
    present: list[str] = Field(default_factory=list, max_length=50)
    labels: list[DataClass] = Field(
        default_factory=list,
        max_length=10,
        description="Sensitivity labels the note carries besides its case's own (from the "
        "case's specialty: a substance_abuse case's notes are Part 2 records)",
    )


class AddendumIn(WriteOptions):
    text: str = Field(min_length=1, max_length=20_000)


class AddendumOut(BaseModel):
    version: int
    text: str
    effective_at: datetime
    recorded_at: datetime


class NoteOut(BaseModel):
    note_id: str
    version: int
    text: str
    contact_kind: str
    contact_mode: str
    present: list[str]
    effective_at: datetime
    recorded_at: datetime
    addenda: list[AddendumOut] = Field(description="Addenda still standing, oldest first")


class NotePage(Page[NoteOut]):
    case_id: UUID
    note_count: int = Field(description="Notes standing (not marked in error)")
    as_of: AsOfOut | None = None
