"""Bodies of a case's care team and transfers."""

from datetime import date

from pydantic import Field

from caserecord.api.schemas.common import (
    ChangeOut,
    IsoDate,
    Page,
    ReasonedWrite,
    Redactable,
    WriteOptions,
)
from caserecord.domain.values import CareTeamRole

STAFF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]*$"


class CareTeamMemberIn(WriteOptions):
    """A staff member (`staff_id`, active in the directory, whose name is taken from it)
    or someone outside the agency (`name`, and `organisation` and `contact` if known)."""

    role: CareTeamRole
    staff_id: str | None = Field(default=None, max_length=100, pattern=STAFF_PATTERN)
    name: str = Field(default="", max_length=200)
    organisation: str = Field(default="", max_length=200)
    contact: str = Field(default="", max_length=200)
    starts_on: IsoDate | None = Field(
        default=None, description="The first day on the team; by default the effective day"
    )


class CareTeamEndIn(ReasonedWrite):
    ends_on: IsoDate | None = Field(
        default=None, description="The last day on the team; by default the effective day"
    )


class CareTeamMemberOut(Redactable):
    member_id: str
    version: int = Field(description="The case version that added them")
    staff_id: str = Field(description="Empty for someone outside the agency")
    name: str
    role: str
    organisation: str
    contact: str
    starts_on: date
    ends_on: date | None
    ended_in: int | None = Field(description="The case version that ended the membership")
    end_reason: str
    current: bool = Field(description="Not ended")


class CareTeamPage(Page[CareTeamMemberOut]):
    """In the order they were added."""


class TransferIn(WriteOptions):
    to_staff_id: str = Field(min_length=1, max_length=100, pattern=STAFF_PATTERN)
    handoff_summary: str = Field(
        min_length=1,
        max_length=10_000,
        pattern=r"\S",
        description="What the receiving case manager needs to know to take the case on",
    )


class TransferAnswerIn(WriteOptions):
    pass


class TransferReasonIn(ReasonedWrite):
    pass


class TransferOut(Redactable):
    transfer_id: str
    version: int = Field(description="The case version that requested it")
    from_staff_id: str
    to_staff_id: str
    handoff_summary: str
    statuses: list[ChangeOut] = Field(description="requested, then accepted, declined or cancelled")
