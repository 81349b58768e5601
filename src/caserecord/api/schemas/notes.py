"""Bodies of the note routes: progress notes and their addenda."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from caserecord.api.schemas.common import AsOfOut, Body, Page, WriteOptions
from caserecord.domain.consent import DataClass
from caserecord.domain.values import LONGEST_CONTACT, ContactKind, ContactMode, ContactStatus

Id = Annotated[str, Field(min_length=1, max_length=200)]


class ProviderIn(Body):
    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    organisation: str = Field(default="", max_length=200)


class ParticipantsIn(Body):
    """Everyone who took part (or was to): any mix at once."""

    client: bool | None = Field(
        default=None,
        description="Whether the client took part; left out: true for a `client` contact "
        "(or when `contact_kind` and `participants` are both left out)",
    )
    support_contact_ids: list[Id] = Field(
        default_factory=list,
        max_length=50,
        description="Of the client's support network; one with `may_contact: false` is "
        "refused (409 contact_not_permitted) unless the contact was a no-show",
    )
    providers: list[ProviderIn] = Field(default_factory=list, max_length=50)
    staff_ids: list[Id] = Field(default_factory=list, max_length=50)


class NoteIn(WriteOptions):
    text: str = Field(min_length=1, max_length=20_000)
    contact_kind: ContactKind | None = Field(
        default=None, description="Left out: follows from who took part"
    )
    contact_mode: ContactMode
    present: list[str] = Field(
        default_factory=list, max_length=50, description="Free-text names of who was present"
    )
    participants: ParticipantsIn | None = None
    labels: list[DataClass] = Field(
        default_factory=list,
        max_length=10,
        description="Sensitivity labels the note carries besides its case's own (from the "
        "case's specialty: a substance_abuse case's notes are Part 2 records)",
    )
    contact_status: ContactStatus = ContactStatus.HAPPENED
    location: str = Field(default="", max_length=500)
    duration_minutes: int | None = Field(default=None, ge=0, le=LONGEST_CONTACT)
    goal_ids: list[Id] = Field(
        default_factory=list, max_length=50, description="Goals of the case the note concerns"
    )
    referral_ids: list[Id] = Field(
        default_factory=list, max_length=50, description="Referrals of the case it concerns"
    )


class ProviderOut(BaseModel):
    name: str
    organisation: str


class ParticipantsOut(BaseModel):
    client: bool
    support_contact_ids: list[str]
    providers: list[ProviderOut]
    staff_ids: list[str]


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
    participants: ParticipantsOut
    contact_status: str
    location: str
    duration_minutes: int | None
    goal_ids: list[str]
    referral_ids: list[str]
    effective_at: datetime
    recorded_at: datetime
    addenda: list[AddendumOut] = Field(description="Addenda still standing, oldest first")
    labels: list[str] = Field(
        default=[], description="Sensitivity labels it carries now (relabellings included)"
    )
    restricted: bool = Field(
        default=False,
        description="A placeholder: the entry exists but the reader may not read it (need to know)",
    )


class NotePage(Page[NoteOut]):
    case_id: UUID
    note_count: int = Field(description="Notes standing (not marked in error)")
    as_of: AsOfOut | None = None
    read_basis: str | None = Field(
        default=None, description="Why the reader may read the case (see the case's)"
    )
