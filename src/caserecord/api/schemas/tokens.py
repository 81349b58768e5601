"""Bodies of the token routes."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from caserecord.api.schemas.common import Body, Name, Page
from caserecord.domain.values import Role


class TokenIn(Body):
    name: str = Name
    role: Role


TOKEN_EXAMPLE: dict[str, Any] = {
    "token_id": "9f1c2b3a4d5e6f70",
    "name": "j.smith",
    "agency_id": "agency-a",
    "role": "caseworker",
    "created_at": "2026-11-27T09:00:00Z",
    "revoked_at": None,
}


class TokenOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [TOKEN_EXAMPLE]})

    token_id: str
    name: str
    agency_id: str
    role: str
    created_at: datetime
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    model_config = ConfigDict(json_schema_extra={"examples": [TOKEN_EXAMPLE | {"token": "crt_…"}]})

    token: str = Field(description="The bearer token; shown only this once")


class TokenPage(Page[TokenOut]):
    """In the order they were created."""
