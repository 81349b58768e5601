"""Bodies of the consent and disclosure routes: consents, their revocation, disclosures,
the accounting of disclosures and the break-glass list."""

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from caserecord.api.schemas.common import (
    ActorOut,
    Body,
    CommandOut,
    IsoDate,
    Moment,
    Name,
    Page,
    ReasonedWrite,
    WriteOptions,
)
from caserecord.domain.consent import Channel, DataClass, Purpose, RecipientKind

Label = DataClass
DataItem = DataClass | Literal["all"]
Exception_ = Literal["medical_emergency", "court_order", "mandated_child_abuse_report", "audit"]

BASIS_DESCRIPTION = (
    "Absent: a consent in force that covers the recipient, purpose and classes (or none "
    "needed for unlabelled data); `consent`: the consent `consent_id` names; otherwise the "
    "exception the law permits (a `reason` is required; `court_order` needs "
    "`order_reference`; `medical_emergency` is the break-glass override, for the roles "
    "CASERECORD_BREAK_GLASS_ROLES names)"
)


class ConsentIn(WriteOptions):
    """A signed consent form, with the elements 42 CFR 2.31 asks for. It ends on a day or on
    an event: one of `expires_on` or `expires_on_event` (with `expires_with_case`) is
    required, else 422 `invalid_value`."""

    recipient_kind: RecipientKind
    recipient: str = Field(
        min_length=1,
        max_length=300,
        pattern=r"\S",
        description="The organisation or person named, or for Part 2 a general "
        "designation (`my treating providers`)",
    )
    purpose: Purpose
    data: list[DataItem] = Field(
        min_length=1, max_length=10, description='`["all"]` or the classes it covers'
    )
    form_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the signed form (lowercase hex)"
    )
    effective_from: Moment | None = Field(
        default=None, description="When it takes effect; the grant's effective time if absent"
    )
    expires_on: IsoDate | None = Field(
        default=None, description="Last day in force (UTC); this or `expires_on_event`"
    )
    expires_on_event: Literal["", "case_closed", "discharge", "end_of_treatment"] = Field(
        default="",
        description="Or the event it expires on, of the case `expires_with_case`: it is no "
        "longer in force from the closure of that case (its discharge, the end of its "
        "treatment), derived from the case's events",
    )
    expires_with_case: UUID | None = Field(
        default=None, description="The client's case whose event ends it"
    )
    obtained_by: str = Field(default="", max_length=200, description="The actor if absent")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "recipient_kind": "organisation",
                    "recipient": "Bayview Clinic",
                    "purpose": "treatment",
                    "data": ["substance_use"],
                    "form_sha256": "9f86d081884c7d659a2feaa0c55ad015"
                    "a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "expires_on": "2027-12-31",
                }
            ]
        },
    )


class RevocationIn(WriteOptions):
    pass


class ConsentOut(BaseModel):
    consent_id: str
    version: int = Field(description="1 when granted, 2 once revoked")
    status: str = Field(
        description="At the moment asked about: active, not_yet_effective, expired, revoked"
    )
    recipient_kind: str
    recipient: str
    purpose: str
    data: list[str]
    effective_from: datetime
    expires_on: date | None
    expires_on_event: str = Field(
        description="case_closed, discharge or end_of_treatment; words for a consent "
        "recorded before events were named (in force until revoked)"
    )
    expires_with_case: UUID | None
    expired_by_event_at: datetime | None = Field(
        description="When the event it expires on happened, if it has"
    )
    form_sha256: str
    obtained_by: str
    granted_in: int = Field(description="The client version that recorded the grant")
    revoked_from: datetime | None
    revoked_by: str
    revoked_in: int | None


class ConsentPage(Page[ConsentOut]):
    client_id: UUID
    at: datetime = Field(description="The moment the consents are in force at")


class Recipient(BaseModel):
    disclosure_id: str
    recipient: str
    disclosed_at: datetime


class RevocationOut(CommandOut):
    disclosed_to: list[Recipient] = Field(
        description="Who received data under the consent (each disclosure made under it)"
    )


class EntryRef(Body):
    case_id: UUID
    version: int = Field(ge=1, le=2**53, description="The case version that recorded it")


class DisclosureIn(WriteOptions):
    recipient_kind: Literal["organisation", "person"]
    recipient: str = Name
    purpose: Purpose
    channel: Literal["export", "phone", "letter", "in_person", "fax", "email", "other"]
    data_classes: list[Label] = Field(
        default_factory=list, max_length=10, description="Classes disclosed besides the entries'"
    )
    entries: list[EntryRef] = Field(
        default_factory=list,
        max_length=100,
        description="Case entries disclosed; their labels are added to `data_classes`",
    )
    basis: Literal["consent"] | Exception_ | None = Field(
        default=None, description=BASIS_DESCRIPTION
    )
    consent_id: str = Field(default="", max_length=100)
    order_reference: str = Field(default="", max_length=200)

    def values(self) -> dict[str, Any]:
        values = super().values()
        values["entries"] = [
            {"case_id": str(e.case_id), "version": e.version} for e in self.entries
        ]
        return values


class ExportIn(WriteOptions):
    recipient_kind: Literal["organisation", "person"]
    recipient: str = Name
    purpose: Purpose
    shares: list[Label] | None = Field(
        default=None,
        max_length=10,
        description="The classes it discloses; the case's labelled classes if absent (the "
        "case's own labels, from its specialty, always). Entries labelled otherwise are "
        "withheld",
    )
    basis: Literal["consent"] | Exception_ | None = Field(
        default=None, description=BASIS_DESCRIPTION
    )
    consent_id: str = Field(default="", max_length=100)
    order_reference: str = Field(default="", max_length=200)


class EntryOut(BaseModel):
    stream_id: str
    version: int
    kind: str = Field(description="`case`, or `contact_details` of the client's record")
    fields: list[str] = Field(
        default=[], description="The contact details disclosed (`contact_details`)"
    )


class DisclosureOut(BaseModel):
    disclosure_id: str
    version: int = Field(description="The client version that recorded it")
    disclosed_at: datetime
    recorded_at: datetime
    recipient_kind: str
    recipient: str
    purpose: str
    channel: str
    data_classes: list[str]
    entries_disclosed: list[EntryOut] = Field(
        description="The case entries disclosed, by `kind`: `case`, the case through that "
        "version (a referral: the version it was made in); `case_entry`, the event of that "
        "version; `withheld`, only the place of a version an export withheld; "
        "`contact_details`, the client's contact details a referral shares"
    )
    basis: str
    emergency: bool = Field(description="Disclosed without consent in an emergency")
    consent_id: str | None
    consent_version: int | None
    consent: ConsentOut | None = Field(
        description="The consent as it stood when the disclosure was made (replayed)"
    )
    order_reference: str
    notice: str = Field(description="The redisclosure notice sent with Part 2 data, or empty")
    case_id: str | None
    referral_id: str | None
    actor: ActorOut
    reason: str


class DisclosureMadeOut(CommandOut):
    disclosure: DisclosureOut


class DisclosurePage(Page[DisclosureOut]):
    client_id: UUID
    since: datetime
    part2: bool


class AccountingIn(WriteOptions):
    since: Moment | None = Field(
        default=None, description="From; six years back (three for the Part 2 list) if absent"
    )
    part2: bool = False


class AccountingOut(CommandOut):
    since: datetime
    part2: bool
    disclosures: list[DisclosureOut]


class BreakGlassOut(DisclosureOut):
    client_id: UUID


class BreakGlassPage(Page[BreakGlassOut]):
    pass


class BreakGlassReadOut(BaseModel):
    case_id: UUID
    client_id: UUID
    version: int = Field(description="The case version that recorded it")
    staff_id: str = Field(description="Who reads")
    actor_role: str
    reason: str
    minutes: int
    opened_at: datetime
    ends_at: datetime
    recorded_at: datetime
    position: int


class BreakGlassReadPage(Page[BreakGlassReadOut]):
    pass


class RelabelIn(ReasonedWrite):
    target_version: int = Field(ge=1, le=2**53, description="The case version of the entry")
    labels: list[Label] = Field(max_length=10, description="Its labels from now on")


__all__ = ["Channel"]
