"""Bodies of the token routes."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from caserecord.api.schemas.common import Body, Name, Page
from caserecord.domain.values import Role


class TokenIn(Body):
    name: str = Name
    role: Role
    staff_id: str | None = Field(
        default=None,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$",
        description="The active staff member the token belongs to: its requests act as them",
    )
    service_account: bool = Field(
        default=False,
        description="A token of no one, which names the staff member it acts for in "
        "X-On-Behalf-Of on every request (not with staff_id)",
    )
    organization_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="For the `provider` role only, and required there: the outside "
        "organisation whose referral inbox the token answers",
    )


TOKEN_EXAMPLE: dict[str, Any] = {
    "token_id": "9f1c2b3a4d5e6f70",
    "name": "j.smith",
    "agency_id": "agency-a",
    "role": "caseworker",
    "created_at": "2026-11-27T09:00:00Z",
    "revoked_at": None,
    "staff_id": "cm-alice",
    "service_account": False,
}


class TokenOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [TOKEN_EXAMPLE]})

    token_id: str
    name: str
    agency_id: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    staff_id: str | None
    service_account: bool
    organization_id: str | None = None


class NewTokenOut(TokenOut):
    model_config = ConfigDict(json_schema_extra={"examples": [TOKEN_EXAMPLE | {"token": "crt_…"}]})

    token: str = Field(description="The bearer token; shown only this once")


class TokenPage(Page[TokenOut]):
    """In the order they were created."""
