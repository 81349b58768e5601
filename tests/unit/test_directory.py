"""Directory services, the directory's index and the HSDS mapping: each guard and rule."""

import io
import json
import zipfile
from typing import Any

import pytest
from pydantic import ValidationError

from caserecord.application.directory import matches, parse_networks
from caserecord.domain.directory import (
    DirectoryIndex,
    DirectoryService,
    checked_details,
    directory_index_id,
    directory_service_id,
)
from caserecord.domain.errors import (
    DuplicateIdError,
    InvalidTransitionError,
    InvalidValueError,
    NothingToCorrectError,
    ReasonRequiredError,
)
from caserecord.hsds import Page, datapackage, details_of, hsds_page, sample_directory

pytestmark = pytest.mark.usefixtures("as_worker")

DETAILS: dict[str, Any] = {
    "organization_name": "Harbour Food Bank",
    "name": "Emergency food pantry",
    "needs": ["food-insecurity", "housing-insecurity"],
    "kinds": ["food-pantry"],
    "areas": ["Bayview County"],
    "eligibility": "Anyone in the county",
    "locations": [{"name": "Warehouse", "address": "12 Dock Road"}],
    "response_days": 3,
}


def a_service(**overrides: Any) -> DirectoryService:
    return DirectoryService.listed("agency:agency-a", "food-1", DETAILS | overrides)


def test_a_service_is_found_by_directory_and_service_id() -> None:
    service = a_service()
    assert service.id == directory_service_id("agency:agency-a", "food-1")
    assert service.id != directory_service_id("agency:agency-b", "food-1")
    assert service.active


def test_listed_details_are_recorded_as_checked_with_every_field() -> None:
    service = a_service(needs=["housing-insecurity", "food-insecurity"], name="  Pantry ")
    listed = service.collect_events()[0]
    assert isinstance(listed, DirectoryService.Listed)
    assert listed.details["name"] == "Pantry"
    assert listed.details["needs"] == ["food-insecurity", "housing-insecurity"]
    assert listed.details["organization_id"]  # made from the organisation's name
    assert listed.details["locations"][0]["id"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "needs name"),
        ("organization_name", " ", "needs organization name"),
        ("needs", ["Food Insecurity"], "is not a code"),
        ("kinds", "food-pantry", "must be a list"),
        ("response_days", 0, "response_days"),
        ("response_days", 400, "response_days"),
        ("locations", [{"city": "Bayview"}], "locations[0] needs a name or an address"),
        ("colour", "blue", "no field colour"),
    ],
)
def test_a_service_with_bad_details_is_refused_naming_the_field(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(InvalidValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        a_service(**{field: value})


def test_a_bad_service_id_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="service_id"):
        DirectoryService.listed("agency:agency-a", "has space", DETAILS)


def test_an_update_records_only_the_fields_that_changed() -> None:
    service = a_service()
    service.collect_events()
    service.update(DETAILS | {"response_days": 5, "areas": ["Northport"]})
    [updated] = service.collect_events()
    assert isinstance(updated, DirectoryService.Updated)
    assert updated.changes == {"response_days": 5, "areas": ["Northport"]}
    assert service.details["response_days"] == 5


def test_an_update_that_changes_nothing_is_refused() -> None:
    service = a_service()
    with pytest.raises(NothingToCorrectError):
        service.update(DETAILS | {"needs": ["housing-insecurity", "food-insecurity"]})


def test_deactivation_and_reactivation_need_a_reason_and_alternate() -> None:
    service = a_service()
    with pytest.raises(ReasonRequiredError):
        service.deactivate(" ")
    service.deactivate("closed for the winter")
    with pytest.raises(InvalidTransitionError):
        service.deactivate("again")
    service.reactivate("open again")
    assert service.active
    with pytest.raises(InvalidTransitionError):
        service.reactivate("again")


def test_the_index_lists_each_service_once_in_order() -> None:
    index = DirectoryIndex(directory_id="network:north")
    assert index.id == directory_index_id("network:north")
    index.list_service("b")
    index.list_service("a")
    with pytest.raises(DuplicateIdError):
        index.list_service("b")
    assert index.service_ids == ["b", "a"]


def test_networks_name_the_directory_each_member_agency_shares() -> None:
    assert parse_networks("north: agency-a, agency-b ; south:agency-c") == {
        "agency-a": "north",
        "agency-b": "north",
        "agency-c": "south",
    }
    with pytest.raises(InvalidValueError, match="two networks"):
        parse_networks("north:agency-a;south:agency-a")
    with pytest.raises(InvalidValueError, match="network:agency"):
        parse_networks("north")


def test_search_matches_every_word_and_every_filter_given() -> None:
    service = {"active": True, "details": checked_details(DETAILS)}
    assert matches(service, "FOOD county", None, None, None, None)
    assert not matches(service, "food legal", None, None, None, None)
    assert matches(service, None, "housing-insecurity", "food-pantry", "bayview county", True)
    assert not matches(service, None, "legal", None, None, None)
    assert not matches(service, None, None, None, None, False)


def test_the_sample_directory_maps_to_valid_details() -> None:
    page = Page.model_validate(sample_directory())
    assert len(page.contents) == 8
    for service in page.contents:
        checked_details(details_of(service))
    food = details_of(page.contents[0])
    assert food["response_days"] == 3
    assert "housing-insecurity" in food["needs"]
    assert food["locations"][0]["address"] == "12 Dock Road"


def test_a_malformed_hsds_page_is_refused_naming_the_path() -> None:
    document = sample_directory()
    del document["contents"][2]["organization"]["name"]
    with pytest.raises(ValidationError) as refused:
        Page.model_validate(document)
    assert refused.value.errors()[0]["loc"] == ("contents", 2, "organization", "name")


def test_an_exported_service_reads_back_as_the_same_details() -> None:
    page = Page.model_validate(sample_directory())
    services = [
        {"service_id": s.id, "active": True, "details": checked_details(details_of(s))}
        for s in page.contents
    ]
    again = Page.model_validate(json.loads(json.dumps(hsds_page(services))))
    assert [checked_details(details_of(s)) for s in again.contents] == [
        s["details"] for s in services
    ]


def test_the_datapackage_holds_a_descriptor_and_one_csv_per_table() -> None:
    page = Page.model_validate(sample_directory())
    services = [
        {"service_id": s.id, "active": True, "details": checked_details(details_of(s))}
        for s in page.contents
    ]
    archive = zipfile.ZipFile(io.BytesIO(datapackage(services)))
    descriptor = json.loads(archive.read("datapackage.json"))
    names = {r["path"] for r in descriptor["resources"]}
    assert set(archive.namelist()) == names | {"datapackage.json"}
    rows = archive.read("service.csv").decode().splitlines()
    assert len(rows) == 1 + 8
    organizations = archive.read("organization.csv").decode().splitlines()
    assert len(organizations) == 1 + 8
