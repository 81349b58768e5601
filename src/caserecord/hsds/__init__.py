"""Open Referral HSDS 3.0: the directory's services read from and written as HSDS JSON (a
page of service objects, each with its organisation, locations and taxonomy attributes) and
written as a CSV datapackage.  docs/directory.md gives the mapping."""

import csv
import io
import json
import zipfile
from importlib import resources
from typing import Any, Literal
from uuid import NAMESPACE_URL, uuid5

from pydantic import BaseModel, ConfigDict, Field

NEED = "caserecord-need"
KIND = "caserecord-service-kind"
RESPONSE_DAYS = "caserecord-response-days"
"""The taxonomies of the attributes that carry a service's needs, kinds and response
standard (HSDS has no field of its own for them)."""
HSDS_NAMESPACE = uuid5(NAMESPACE_URL, "urn:caserecord:hsds")

Text = Field(default=None, max_length=10_000)
Id = Field(min_length=1, max_length=100)


class Model(BaseModel):
    # HSDS has many more fields than the directory keeps; they are read past, not refused.
    model_config = ConfigDict(extra="ignore")


class Organization(Model):
    id: str = Id
    name: str = Field(min_length=1, max_length=500)
    description: str | None = Text
    website: str | None = Text
    email: str | None = Text


class Address(Model):
    address_1: str | None = Text
    city: str | None = Text
    state_province: str | None = Text
    postal_code: str | None = Text
    address_type: str | None = Text


class Location(Model):
    id: str | None = Field(default=None, max_length=100)
    name: str | None = Text
    addresses: list[Address] = Field(default_factory=list, max_length=20)


class ServiceAtLocation(Model):
    location: Location


class Phone(Model):
    number: str = Field(min_length=1, max_length=100)


class ServiceArea(Model):
    name: str = Field(min_length=1, max_length=500)


class TaxonomyTerm(Model):
    code: str | None = Field(default=None, max_length=100)
    name: str = Field(min_length=1, max_length=500)
    taxonomy: str | None = Field(default=None, max_length=200)


class Attribute(Model):
    taxonomy_term: TaxonomyTerm
    value: str | None = Field(default=None, max_length=1_000)


class Service(Model):
    id: str = Id
    name: str = Field(min_length=1, max_length=500)
    description: str | None = Text
    url: str | None = Text
    email: str | None = Text
    status: Literal["active", "inactive", "defunct", "temporarily closed"] = "active"
    eligibility_description: str | None = Text
    organization: Organization
    phones: list[Phone] = Field(default_factory=list, max_length=20)
    service_areas: list[ServiceArea] = Field(default_factory=list, max_length=100)
    service_at_locations: list[ServiceAtLocation] = Field(default_factory=list, max_length=100)
    attributes: list[Attribute] = Field(default_factory=list, max_length=100)


class Page(Model):
    """An HSDS API page of services (``GET /services``): what an import reads."""

    contents: list[Service] = Field(max_length=5_000)


def details_of(service: Service) -> dict[str, Any]:
    """The directory's fields of an HSDS service (the domain checks them)."""
    org = service.organization

    def terms(taxonomy: str) -> list[str]:
        return [
            a.taxonomy_term.code or a.taxonomy_term.name
            for a in service.attributes
            if a.taxonomy_term.taxonomy == taxonomy
        ]

    days = [a.value for a in service.attributes if a.taxonomy_term.taxonomy == RESPONSE_DAYS]
    return {
        "organization_id": org.id,
        "organization_name": org.name,
        "name": service.name,
        "description": service.description or "",
        "url": service.url or org.website or "",
        "email": service.email or org.email or "",
        "phone": service.phones[0].number if service.phones else "",
        "eligibility": service.eligibility_description or "",
        "needs": terms(NEED),
        "kinds": terms(KIND),
        "areas": [a.name for a in service.service_areas],
        "locations": [location_of(sal.location) for sal in service.service_at_locations],
        "response_days": response_days(days[0]) if days else None,
    }


def response_days(value: str | None) -> Any:
    """The attribute's value as a number of days; what is not one is left for the domain
    to refuse with its own message."""
    text = (value or "").strip()
    return int(text) if text.isdigit() else text


def location_of(location: Location) -> dict[str, str]:
    address = next(
        (a for a in location.addresses if a.address_type in (None, "physical")),
        location.addresses[0] if location.addresses else Address(),
    )
    return {
        "id": location.id or "",
        "name": location.name or "",
        "address": address.address_1 or "",
        "city": address.city or "",
        "region": address.state_province or "",
        "postal_code": address.postal_code or "",
    }


def hsds_service(service: dict[str, Any]) -> dict[str, Any]:
    """A directory service (as the service layer presents it) as an HSDS 3.0 service."""
    d, sid = service["details"], service["service_id"]

    def made(*parts: str) -> str:
        return str(uuid5(HSDS_NAMESPACE, "\x1f".join((sid, *parts))))

    def attribute(taxonomy: str, code: str, value: str | None = None) -> dict[str, Any]:
        term_id = str(uuid5(HSDS_NAMESPACE, f"{taxonomy}\x1f{code}"))
        return {
            "id": made("attribute", taxonomy, code),
            "link_id": sid,
            "link_type": "service",
            "link_entity": "service",
            "taxonomy_term_id": term_id,
            "value": value,
            "taxonomy_term": {"id": term_id, "code": code, "name": code, "taxonomy": taxonomy},
        }

    attributes = [attribute(NEED, c) for c in d["needs"]] + [attribute(KIND, c) for c in d["kinds"]]
    if d["response_days"] is not None:
        attributes.append(attribute(RESPONSE_DAYS, "days", str(d["response_days"])))
    return {
        "id": sid,
        "name": d["name"],
        "description": d["description"] or None,
        "url": d["url"] or None,
        "email": d["email"] or None,
        "status": "active" if service["active"] else "inactive",
        "eligibility_description": d["eligibility"] or None,
        "organization": {"id": d["organization_id"], "name": d["organization_name"]},
        "phones": [{"id": made("phone"), "number": d["phone"]}] if d["phone"] else [],
        "service_areas": [
            {"id": made("area", a), "service_id": sid, "name": a} for a in d["areas"]
        ],
        "service_at_locations": [
            {
                "id": made("sal", loc["id"]),
                "service_id": sid,
                "location_id": loc["id"],
                "location": {
                    "id": loc["id"],
                    "location_type": "physical",
                    "name": loc["name"] or None,
                    "addresses": [
                        {
                            "id": made("address", loc["id"]),
                            "location_id": loc["id"],
                            "address_1": loc["address"],
                            "city": loc["city"],
                            "state_province": loc["region"],
                            "postal_code": loc["postal_code"],
                            "country": "US",
                            "address_type": "physical",
                        }
                    ],
                },
            }
            for loc in d["locations"]
        ],
        "attributes": attributes,
    }


def hsds_page(services: list[dict[str, Any]]) -> dict[str, Any]:
    """The directory as one HSDS API page of services (what an import reads back)."""
    contents = [hsds_service(s) for s in services]
    return {
        "total_items": len(contents),
        "total_pages": 1,
        "page_number": 1,
        "size": len(contents),
        "first_page": True,
        "last_page": True,
        "empty": not contents,
        "contents": contents,
    }


TABLES: dict[str, tuple[str, ...]] = {
    "organization": ("id", "name", "description", "website", "email"),
    "service": (
        "id",
        "organization_id",
        "name",
        "description",
        "url",
        "email",
        "status",
        "eligibility_description",
    ),
    "phone": ("id", "service_id", "number"),
    "service_area": ("id", "service_id", "name"),
    "location": ("id", "location_type", "name"),
    "address": (
        "id",
        "location_id",
        "address_1",
        "city",
        "state_province",
        "postal_code",
        "country",
        "address_type",
    ),
    "service_at_location": ("id", "service_id", "location_id"),
    "taxonomy_term": ("id", "code", "name", "taxonomy"),
    "attribute": ("id", "link_id", "link_type", "link_entity", "taxonomy_term_id", "value"),
}


def datapackage(services: list[dict[str, Any]]) -> bytes:
    """The directory as an HSDS CSV datapackage: a zip of ``datapackage.json`` and one CSV
    file per HSDS table, each row once however many services share it."""
    rows: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in TABLES}

    def add(table: str, row: dict[str, Any]) -> None:
        rows[table].setdefault(row["id"], row)

    for item in (hsds_service(s) for s in services):
        org = item["organization"]
        add("organization", org)
        add("service", item | {"organization_id": org["id"]})
        for phone in item["phones"]:
            add("phone", phone | {"service_id": item["id"]})
        for area in item["service_areas"]:
            add("service_area", area)
        for sal in item["service_at_locations"]:
            add("service_at_location", sal)
            add("location", sal["location"])
            for address in sal["location"]["addresses"]:
                add("address", address)
        for attribute in item["attributes"]:
            add("attribute", attribute)
            add("taxonomy_term", attribute["taxonomy_term"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("datapackage.json", json.dumps(package_descriptor(), indent=2))
        for table, columns in TABLES.items():
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(columns)
            for row in rows[table].values():
                writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
            archive.writestr(f"{table}.csv", text.getvalue())
    return buffer.getvalue()


def package_descriptor() -> dict[str, Any]:
    return {
        "name": "caserecord-directory",
        "profile": "tabular-data-package",
        "title": "Resource directory (Open Referral HSDS 3.0)",
        "resources": [
            {
                "name": table,
                "path": f"{table}.csv",
                "profile": "tabular-data-resource",
                "schema": {
                    "fields": [{"name": c, "type": "string"} for c in columns],
                    "primaryKey": "id",
                },
            }
            for table, columns in TABLES.items()
        ],
    }


def sample_directory() -> dict[str, Any]:
    """The sample directory shipped with caserecord (tests and the demo import it)."""
    text = resources.files(__package__).joinpath("sample-hsds.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def import_rows(page: Page) -> list[tuple[str, dict[str, Any], bool]]:
    """(id, details, active) of each service of the page, as the directory imports them."""
    return [(s.id, details_of(s), s.status == "active") for s in page.contents]


def read_page(document: Any) -> Page:
    """An HSDS page of services, or a bare list of them (pydantic's ValidationError names
    the path of what is wrong)."""
    if isinstance(document, list):
        document = {"contents": document}
    return Page.model_validate(document)
