"""Bodies of the resource directory: a service's details in and out, an import's summary."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from caserecord.api.schemas.common import Body, Name, Page, ReasonedWrite, WriteOptions

ServiceId = Field(
    default=None,
    min_length=1,
    max_length=100,
    pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
    description="An HSDS service id (usually a UUID) or text an admin chooses; made if absent",
)
CodeText = Annotated[
    str, StringConstraints(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9_-]*$")
]
AreaText = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")]
ShortText = Field(default="", max_length=500)
LongText = Field(default="", max_length=10_000)


class LocationIn(Body):
    id: str = Field(default="", max_length=100, description="Made from the name if absent")
    name: str = ShortText
    address: str = ShortText
    city: str = ShortText
    region: str = ShortText
    postal_code: str = Field(default="", max_length=20)


class ServiceDetailsIn(WriteOptions):
    """The service as it is now (every field, as a form holds them)."""

    organization_id: str = Field(default="", max_length=100, description="Made if absent")
    organization_name: str = Name
    name: str = Name
    description: str = LongText
    url: str = ShortText
    email: str = ShortText
    phone: str = Field(default="", max_length=100)
    eligibility: str = LongText
    needs: list[CodeText] = Field(
        default_factory=list,
        max_length=50,
        description='Codes of the needs it serves, e.g. "food-insecurity"',
    )
    kinds: list[CodeText] = Field(
        default_factory=list,
        max_length=50,
        description='Codes of the kinds of service, e.g. "food-pantry"',
    )
    areas: list[AreaText] = Field(default_factory=list, max_length=100, description="Areas served")
    locations: list[LocationIn] = Field(default_factory=list, max_length=100)
    response_days: int | None = Field(
        default=None, ge=1, le=365, description="Days it takes to answer a referral; none"
    )

    def details(self) -> dict[str, Any]:
        return self.model_dump(exclude={"effective_at", "reason", "correlation_id", "service_id"})


class ServiceIn(ServiceDetailsIn):
    service_id: str | None = ServiceId


class ServiceStatusIn(ReasonedWrite):
    pass


SERVICE_EXAMPLE: dict[str, Any] = {
    "service_id": "legal-aid-tenants",
    "directory_id": "agency:agency-a",
    "active": True,
    "organization_id": "bayview-legal-aid",
    "organization_name": "Bayview Legal Aid Society",
    "name": "Eviction defence",
    "description": "Advice and representation for tenants facing eviction",
    "url": "",
    "email": "",
    "phone": "555-0107",
    "eligibility": "Household income at or below 125% of the federal poverty level",
    "needs": ["housing-insecurity", "legal"],
    "kinds": ["legal-advice"],
    "areas": ["Bayview County"],
    "locations": [
        {
            "id": "legal-aid-office",
            "name": "Legal Aid office",
            "address": "19 Court Street",
            "city": "Bayview",
            "region": "CA",
            "postal_code": "94502",
        }
    ],
    "response_days": 10,
    "version": 1,
    "listed_at": "2026-11-27T09:00:00Z",
    "updated_at": "2026-11-27T09:00:00Z",
}


class LocationOut(BaseModel):
    id: str
    name: str
    address: str
    city: str
    region: str
    postal_code: str


class ServiceOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [SERVICE_EXAMPLE]})

    service_id: str
    directory_id: str = Field(description='"agency:<id>", or "network:<name>" when shared')
    active: bool
    organization_id: str
    organization_name: str
    name: str
    description: str
    url: str
    email: str
    phone: str
    eligibility: str
    needs: list[str]
    kinds: list[str]
    areas: list[str]
    locations: list[LocationOut]
    response_days: int | None
    version: int
    listed_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, service: dict[str, Any]) -> dict[str, Any]:
        flat = {k: v for k, v in service.items() if k != "details"} | service["details"]
        return cls.model_validate(flat).model_dump(mode="json")


class ServicePage(Page[ServiceOut]):
    """In the order the services were listed."""


class Refused(BaseModel):
    service_id: str
    reason: str
    code: str | None = None


class Listed(BaseModel):
    service_id: str


class Updated(BaseModel):
    service_id: str
    changed: list[str] = Field(description="The fields the import changed")


class ImportOut(BaseModel):
    """What an import did to each service of the file."""

    listed: list[Listed]
    updated: list[Updated]
    unchanged: list[Listed]
    refused: list[Refused]
