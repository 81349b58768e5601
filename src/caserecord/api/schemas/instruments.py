"""Bodies of the instrument routes: definitions, administrations, scores, safety flags."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictFloat, StrictInt, StrictStr

from caserecord.api.schemas.common import Page, Redactable, WriteOptions
from caserecord.domain.values import Respondent

YES_NO: list[JsonValue] = [{"value": 0, "label": "no"}, {"value": 1, "label": "yes"}]
EXAMPLE_DEFINITION: dict[str, JsonValue] = {
    "code": "mood-2",
    "version": 1,
    "title": "Two mood questions",
    "items": [
        {"id": "a", "text": "Low mood", "options": YES_NO},
        {"id": "b", "text": "Low energy", "options": YES_NO},
    ],
    "scoring": {"method": "sum"},
    "bands": [{"label": "none", "min": 0, "max": 0}, {"label": "some", "min": 1, "max": 2}],
}


class InstrumentIn(WriteOptions):
    """A definition as data (docs/assessments.md): checked as a shipped one is; a new
    version of a code in force needs a higher `version`."""

    definition: dict[str, Any]

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"definition": EXAMPLE_DEFINITION}]}
    )


class InstrumentSummaryOut(BaseModel):
    code: str
    title: str
    version: int = Field(description="The version in force: new administrations use it")
    origin: str = Field(description="shipped (with caserecord) or agency (added by it)")
    versions_in_force: list[int]


class InstrumentOut(InstrumentSummaryOut):
    versions: list[dict[str, Any]] = Field(
        description="Every version's definition, oldest first, each with its origin"
    )


class InstrumentPage(Page[InstrumentSummaryOut]):
    """The instruments in force for the agency, by code."""


class AdministrationIn(WriteOptions):
    """Responses by item id; `context` where the scoring needs it (AUDIT-C: `sex`)."""

    instrument: str = Field(min_length=1, max_length=40)
    respondent: Respondent
    # Strict: `true` is not an answer of 1 (the scoring refuses it, naming the item).
    responses: dict[str, StrictInt | StrictFloat | StrictStr] = Field(min_length=1, max_length=200)
    context: dict[str, str] = Field(default_factory=dict, max_length=20)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "instrument": "phq-9",
                    "respondent": "client",
                    "responses": {str(i): 1 for i in range(1, 10)},
                }
            ]
        },
    )


class ScoreOut(Redactable):
    """One administration: responses and the score as its definition version computed it."""

    version: int = Field(description="The id: the case version that recorded it")
    instrument: str
    definition_version: int
    respondent: str
    responses: dict[str, Any]
    context: dict[str, str]
    total: float | None
    band: str | None
    flags: list[str]
    safety_flags: list[str]
    outcome: dict[str, Any] = Field(description="ASAM: the level of care")
    effective_at: datetime
    recorded_at: datetime
    recorded_by: str


class ScorePage(Page[ScoreOut]):
    """A case's administrations, newest first."""

    case_id: UUID


class ScoreTrendRow(Redactable):
    case_id: UUID
    version: int
    instrument: str
    definition_version: int
    respondent: str
    total: float | None
    band: str | None
    flags: list[str]
    effective_at: datetime


class ScoreTrendPage(Page[ScoreTrendRow]):
    """A client's scores (on one instrument, if named) across its cases, in the order
    given."""

    client_id: UUID
    instrument: str | None


class DueSafetyFlag(BaseModel):
    case_id: UUID
    version: int = Field(description="The administration's case version")
    client_id: UUID
    case_manager_id: str
    instrument: str
    flags: list[str]
    effective_at: datetime
    labels: list[str] = Field(default=[], description="Its sensitivity labels")
    restricted: bool = Field(
        default=False,
        description="The reader may not read the administration: what it said is blank",
    )


class SafetyFlagPage(Page[DueSafetyFlag]):
    """Safety flags not yet reviewed, oldest first: due items for the case managers."""


class SafetyFlagReviewIn(WriteOptions):
    note: str = Field(min_length=1, max_length=2_000, pattern=r"\S", description="What was done")
