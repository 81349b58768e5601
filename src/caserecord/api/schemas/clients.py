"""Bodies of the client routes: registration, corrections, support contacts, the client
list and the access log."""

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from caserecord.api.schemas.common import (
    ActorOut,
    BirthDate,
    Body,
    Name,
    Page,
    ReasonedWrite,
    WriteOptions,
    rule_broken,
)
from caserecord.domain.values import Relationship


class ClientRegistration(WriteOptions):
    given_name: str = Name
    family_name: str = Name
    date_of_birth: BirthDate | None = None
    client_number: str = Field(default="", max_length=100)
    preferred_language: str = Field(default="", max_length=50)
    phone: str = Field(default="", max_length=50)
    email: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=500)
    confirmed_distinct: bool = Field(
        default=False,
        description=(
            "A registration with the name (case and spacing aside) and date of birth of an "
            "existing client of the agency is refused with 409 possible_duplicate, listing "
            "the candidates; true says this is another person. A client number already "
            "taken is refused (409 client_number_taken) regardless."
        ),
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "given_name": "Maria",
                    "family_name": "Lopez",
                    "date_of_birth": "1984-05-17",
                    "client_number": "C-1001",
                    "preferred_language": "es",
                    "phone": "555-0100",
                }
            ]
        },
    )


class ClientChanges(Body):
    given_name: str | None = Field(default=None, min_length=1, max_length=200)
    family_name: str | None = Field(default=None, min_length=1, max_length=200)
    date_of_birth: BirthDate | None = None
    client_number: str | None = Field(default=None, max_length=100)
    preferred_language: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=50)
    email: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)


class ClientCorrection(ReasonedWrite):
    changes: ClientChanges = Field(
        description="Only the fields to correct, at least one (else 422 `validation_failed` "
        "at `changes`)"
    )

    @model_validator(mode="after")
    def _something_to_correct(self) -> "ClientCorrection":
        if not self.changes.model_fields_set:
            raise rule_broken("changes must name at least one field to correct", "changes")
        return self


class SupportContactIn(WriteOptions):
    name: str = Name
    relationship: Relationship
    phone: str = Field(default="", max_length=50)
    email: str = Field(default="", max_length=200)
    may_contact: bool = True


class SupportContactRemoval(ReasonedWrite):
    pass


class SupportContactOut(BaseModel):
    contact_id: str
    name: str
    relationship: str
    phone: str
    email: str
    may_contact: bool
    added_in: int


class ClientOut(BaseModel):
    id: UUID
    version: int
    agency_id: str
    given_name: str
    family_name: str
    date_of_birth: date | None
    client_number: str
    preferred_language: str
    phone: str
    email: str
    address: str
    support_contacts: list[SupportContactOut]
    registered_at: datetime
    modified_at: datetime


class ClientRow(BaseModel):
    client_id: UUID
    agency_id: str
    given_name: str
    family_name: str
    date_of_birth: date | None
    client_number: str
    registered_at: datetime
    client_version: int


class ClientPage(Page[ClientRow]):
    """Clients by family name, given name."""


class SubjectOut(BaseModel):
    client_id: UUID | None
    case_id: UUID | None


class AccessLogRow(BaseModel):
    """One read request: who, why, and every client and case its answer named."""

    entry_id: int
    intact: bool = Field(
        description="The entry's MAC holds under the service's integrity key: false for an "
        "entry edited or made up in the database behind the service"
    )
    request_id: str | None = Field(description="The request's X-Request-ID")
    action: str
    purpose: str
    actor: ActorOut
    token_id: str
    accessed_at: datetime
    subjects: list[SubjectOut]
    basis: str | None = Field(
        default=None,
        description="Why the read was allowed: own_case, care_team, supervisor, reviewer, "
        "break_glass, other (labelled entries as placeholders), agency (a read of no one case)",
    )
    break_glass_reason: str | None = Field(
        default=None, description="The reason given for the break-glass read it was part of"
    )


class AccessLogGapOut(BaseModel):
    first: int = Field(description="The first of the client's access-log numbers missing here")
    last: int = Field(description="The last of them")
    after_entry: int | None = Field(
        description="The entry before them (null: the start of the client's log)"
    )
    before_entry: int = Field(description="The entry after them")


class AccessLogIntegrityOut(BaseModel):
    intact: bool = Field(
        description="False when entries naming the client are missing (their numbers in the "
        "client's log absent) between the entry before this page and the page's last: "
        "entries deleted behind the service"
    )
    missing: list[AccessLogGapOut] = Field(
        default=[], description="Runs of the client's access-log numbers that no entry holds"
    )


class AccessLogPage(Page[AccessLogRow]):
    """Oldest first."""

    client_id: UUID
    integrity: AccessLogIntegrityOut = Field(
        description="Whether the client's access log is whole around this page's entries"
    )
