"""The resource directory over HTTP: an HSDS import, search, changes and the export read
back, kept by admins and supervisors, read by everyone."""

import io
import zipfile

from caserecord.hsds import sample_directory
from tests.e2e.http import Api

LEGAL = {
    "service_id": "legal-tenants",
    "organization_name": "Bayview Legal Aid Society",
    "name": "Tenant advice line",
    "needs": ["legal", "housing-insecurity"],
    "kinds": ["legal-advice"],
    "areas": ["Bayview"],
    "locations": [{"name": "Legal Aid office", "address": "19 Court Street"}],
    "response_days": 10,
}


def test_a_supervisor_imports_the_sample_directory_and_a_caseworker_finds_a_service(
    api: Api,
) -> None:
    document = sample_directory()
    summary = api.created("/v1/directory/imports", document, role="supervisor")
    assert (len(summary["listed"]), summary["refused"]) == (8, [])
    again = api.created("/v1/directory/imports", document, role="admin")
    assert (again["listed"], again["updated"], len(again["unchanged"])) == ([], [], 8)
    refused = api.post("/v1/directory/imports", document)
    assert refused.status_code == 403

    found = api.get("/v1/directory/services", need="housing-insecurity", kind="food-pantry")
    [food] = found.json()["items"]
    assert (food["organization_name"], food["response_days"]) == ("Harbour Food Bank", 3)
    first = api.get("/v1/directory/services", limit=5, q="bayview").json()
    rest = api.get("/v1/directory/services", limit=5, q="bayview", cursor=first["next"]).json()
    assert len(first["items"]) + len(rest["items"]) == 7  # all but Northport's
    assert rest["next"] is None

    # A supervisor lists, changes and deactivates a service; the record says what changed.
    made = api.created("/v1/directory/services", LEGAL, role="supervisor")
    path = f"/v1/directory/services/{made['entity_id']}"
    changed = {k: v for k, v in LEGAL.items() if k != "service_id"} | {"response_days": 5}
    api.created(path, changed, role="supervisor", headers={"If-Match": '"1"'})
    same = api.post(path, changed, role="supervisor")
    assert (same.status_code, same.json()["code"]) == (409, "nothing_to_correct")
    api.created(f"{path}/deactivation", {"reason": "merged into the eviction clinic"}, role="admin")
    shown = api.get(path)
    assert (shown.json()["response_days"], shown.json()["active"]) == (5, False)
    assert shown.headers["ETag"] == '"3"'
    assert api.get("/v1/directory/services", active=False).json()["items"][0]["name"] == (
        "Tenant advice line"
    )
    assert api.get(path, agency="agency-b").status_code == 404

    # The export, read back, changes nothing; the datapackage holds the same services.
    exported = api.get("/v1/directory/export", role="compliance_reviewer").json()
    assert exported["total_items"] == 9
    back = api.created("/v1/directory/imports", exported, role="supervisor")
    assert len(back["unchanged"]) == 9
    package = api.get("/v1/directory/export", format="datapackage")
    assert package.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(package.content))
    assert len(archive.read("service.csv").decode().splitlines()) == 1 + 9


def test_a_malformed_hsds_file_is_refused_whole_naming_the_path(api: Api) -> None:
    document = sample_directory()
    document["contents"][3]["status"] = "open"
    refused = api.post("/v1/directory/imports", document, role="admin")
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"][0]["path"] == "contents[3].status"
    assert api.get("/v1/directory/services").json()["items"] == []


def test_a_service_listed_without_an_id_is_given_one_as_its_schema_says(api: Api) -> None:
    without_id = {k: v for k, v in LEGAL.items() if k != "service_id"}

    made = api.created("/v1/directory/services", without_id, role="admin")

    shown = api.get(f"/v1/directory/services/{made['entity_id']}").json()
    assert (shown["service_id"], shown["name"]) == (made["entity_id"], "Tenant advice line")
    schema = api.get("/openapi.json").json()["components"]["schemas"]["ServiceIn"]
    assert "service_id" not in schema.get("required", [])
