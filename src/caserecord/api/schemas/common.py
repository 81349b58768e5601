"""What every body shares: the field types and their checks, the options every write
accepts, what a write answers, problems, pages and actors."""

import math
import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from caserecord.domain.errors import InvalidValueError
from caserecord.domain.values import EARLIEST_BIRTH, EARLIEST_EFFECTIVE, check_birth_date

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})"
)


def require_iso_date(value: Any) -> Any:
    # pydantic would also take 0 or "0" as 1970-01-01: callers must say which day they mean.
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


def require_iso_moment(value: Any) -> Any:
    if isinstance(value, str) and ISO_MOMENT.fullmatch(value):
        return value
    if isinstance(value, datetime):
        return value
    raise ValueError("must be an ISO 8601 date and time with an offset, e.g. 2026-03-01T09:30Z")


EARLIEST = datetime(EARLIEST_EFFECTIVE, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
FIRST_DAY, LAST_DAY = f"{EARLIEST:%Y-%m-%d}", f"{LATEST - timedelta(days=1):%Y-%m-%d}"


def in_range(value: datetime) -> datetime:
    """In UTC, and within years any record can mean (nearer the ends of the calendar an
    offset cannot even be converted, which would poison every later reader of the event)."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None
    if not EARLIEST <= utc < LATEST:
        raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY} (UTC)")
    return utc


def finite_or_none(value: float | None) -> float | None:
    # A non-finite number stored by an older version is shown as unknown: JSON has no NaN.
    return value if value is None or math.isfinite(value) else None


def born(value: date) -> date:
    try:
        check_birth_date(value)
    except InvalidValueError:
        raise ValueError(
            f"must be from {EARLIEST_BIRTH.isoformat()} and not in the future"
        ) from None
    return value


# The limits are also declared as patterns on the years, so a client generated from the
# document (or a fuzzer) knows them; the validators say the exact bounds.
MOMENT_PATTERN = r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}"
BIRTH_PATTERN = r"^(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}$"

IsoDate = Annotated[date, BeforeValidator(require_iso_date)]
BirthDate = Annotated[
    date,
    BeforeValidator(require_iso_date),
    AfterValidator(born),
    Field(
        description=f"YYYY-MM-DD, from {EARLIEST_BIRTH.isoformat()} and not in the future",
        json_schema_extra={"pattern": BIRTH_PATTERN},
    ),
]
Moment = Annotated[
    AwareDatetime,
    BeforeValidator(require_iso_moment),
    AfterValidator(in_range),
    Field(
        description=f"ISO 8601 with an offset, from {FIRST_DAY} to {LAST_DAY} (UTC)",
        json_schema_extra={"pattern": MOMENT_PATTERN},
    ),
]

Text = Field(default="", max_length=10_000)
Name = Field(min_length=1, max_length=200, pattern=r"\S")


class Redactable(BaseModel):
    """An entry of a case, read as the reader's need to know allows."""

    labels: list[str] = Field(default=[], description="Its sensitivity labels")
    restricted: bool = Field(
        default=False,
        description="A placeholder: the entry exists but the reader may not read it (need to "
        "know); it keeps its ids, versions and dates, every other field is empty",
    )


def rule_broken(message: str, *fields: str) -> PydanticCustomError:
    """A rule between a body's fields, broken: the 422 gives each field named as an error's
    `path`, where a client shows it, rather than the whole body."""
    return PydanticCustomError("field_rule", message, {"fields": list(fields)})


def holds_truth_value(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, list):
        return any(holds_truth_value(item) for item in value)
    if isinstance(value, dict):
        return any(holds_truth_value(item) for item in value.values())
    return False


def takes_truth_value(annotation: Any) -> bool:
    """Whether a field of this type may hold true or false somewhere: a flag, a free-form
    value, or a nested body, which checks its own fields."""
    if annotation is bool or annotation is Any:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(takes_truth_value(arg) for arg in get_args(annotation))


class Body(BaseModel):
    # Python's json reads NaN, Infinity and 1e400 (as infinity): none is a value a record
    # can hold, and JSON cannot carry it back out.
    model_config = ConfigDict(extra="forbid", use_enum_values=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def no_truth_value_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic would take JSON's true and false as 1 and 0: an amount, a score or a
        # version sent as one is a client's mistake, and the schema says number.
        field = cls.model_fields.get(info.field_name or "")
        if field and holds_truth_value(value) and not takes_truth_value(field.annotation):
            raise ValueError("must be a number or text as the schema says, not true or false")
        return value

    @field_validator("*")
    @classmethod
    def no_nul_character(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL: one such event would stall every read model.
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("must not contain the NUL character (\\u0000)")
        return value


class WriteOptions(Body):
    """What every write accepts: when it happened (if not now) and why."""

    effective_at: Moment | None = Field(
        default=None,
        description="When it happened, if earlier than now (a late entry); with a UTC offset.",
    )
    reason: str = Field(default="", max_length=2_000, description="Why; required by some writes.")
    correlation_id: str | None = Field(default=None, max_length=200)

    def values(self) -> dict[str, Any]:
        """The command's own values, without the options every write shares."""
        return self.model_dump(exclude=OPTIONS)


OPTIONS = {"effective_at", "reason", "correlation_id"}


Reason = Field(min_length=1, max_length=2_000, pattern=r"\S", description="Why; required.")


class ReasonedWrite(WriteOptions):
    """A write that must say why: `reason` is required and not blank."""

    reason: str = Reason


class Revision(WriteOptions):
    """A revision names only what changes: a field left out keeps its value, and a field
    sent as `null` (where allowed) is cleared. It names at least one field besides
    `effective_at`, `reason` and `correlation_id`, else 422."""

    def values(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude=OPTIONS)

    @model_validator(mode="after")
    def _something_to_revise(self) -> "Revision":
        if not self.model_fields_set - OPTIONS:
            fields = ", ".join(name for name in type(self).model_fields if name not in OPTIONS)
            raise rule_broken(f"a revision must name at least one field to change: {fields}")
        return self


class CommandOut(BaseModel):
    """What a write returns: the record it changed, its new version and any new part's id."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f2c1a9e-8d7b-4c6a-9e5f-1b2a3c4d5e6f",
                    "version": 7,
                    "entity_id": "5b0c7c1e-2f4d-4c8e-9a1b-7d6e5f4a3b2c",
                }
            ]
        }
    )

    id: UUID = Field(
        description="The record written: a client's or case's id. A staff member, a directory "
        "service or an agency's instruments are stored under an id of their own, which no "
        "route takes: `entity_id` names them"
    )
    version: int
    entity_id: str | None = Field(
        default=None,
        description="Id of the part created (the last segment of `Location`): a plan, goal, "
        "referral, note or support contact id; the plan version's number; the case version "
        "of an assessment, prior treatment, progress entry, addendum or scored assessment; "
        "an instrument's code; the staff id or service id of a staff member or directory "
        "service written",
    )


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, Any]] | None = None


class ChangeOut(BaseModel):
    version: int
    value: str
    details: dict[str, Any]
    in_error: bool


class AsOfOut(BaseModel):
    recorded_at: datetime | None
    effective_at: datetime | None
    known_version: int
    events_applied: int
    events_excluded: int
    set_aside_versions: list[int]


ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of a list: every list answers this shape (and a `Link: <...>; rel="next"`
    header while there is more)."""

    items: list[ItemT]
    next: str | None = Field(
        description="Pass as `cursor` for the next page (same other parameters); null on the "
        "last page"
    )


class ActorOut(BaseModel):
    """Who recorded an event or made a request."""

    id: str | None
    role: str | None
    agency_id: str | None
    name: str | None = Field(
        default=None, description="The staff member's name, where the entry records it"
    )


StreamKind = Literal["case", "client"]
