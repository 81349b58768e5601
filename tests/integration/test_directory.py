"""The resource directory through the service, on both stores: listing, search, imports
that change only what changed, networks of agencies, and the check a referral makes."""

import copy
import json
import subprocess
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.directory import directory_service_id
from caserecord.domain.errors import (
    DirectoryServiceInactiveError,
    DirectoryServiceNotFoundError,
    DuplicateIdError,
    UnknownDirectoryServiceError,
)
from caserecord.domain.recording import Actor
from caserecord.hsds import hsds_page, import_rows, read_page, sample_directory
from caserecord.projections import ProjectionService
from caserecord.store import open_records
from tests.factories import an_open_case
from tests.integration.processes import CASERECORD, env_for

ADMIN = Actor("admin-1", "admin", "agency-a")
OTHER = Actor("admin-2", "admin", "agency-b")
DETAILS: dict[str, Any] = {
    "organization_name": "Bayview Legal Aid",
    "name": "Tenant advice",
    "needs": ["legal"],
    "kinds": ["legal-advice"],
    "areas": ["Bayview"],
    "response_days": 10,
}


def import_sample(records: CaseRecords, actor: Actor = ADMIN) -> dict[str, Any]:
    return records.import_directory(actor, import_rows(read_page(sample_directory())))


def events_of(records: CaseRecords) -> int:
    return records.recorder.max_notification_id() or 0


def test_an_import_lists_the_sample_and_the_same_file_again_changes_nothing(
    records: CaseRecords,
) -> None:
    first = import_sample(records)
    assert (len(first["listed"]), first["updated"], first["refused"]) == (8, [], [])
    # Eight services and the index (started, then one entry per service).
    before = events_of(records)

    again = import_sample(records)

    assert (again["listed"], again["updated"], len(again["unchanged"])) == ([], [], 8)
    assert events_of(records) == before
    assert len(records.directory_services(ADMIN)) == 8


def test_an_import_that_changes_a_service_records_an_update_naming_what_changed(
    records: CaseRecords,
) -> None:
    import_sample(records)
    document = sample_directory()
    food = document["contents"][0]
    food["eligibility_description"] = "County residents"
    food["status"] = "temporarily closed"
    before = events_of(records)

    summary = records.import_directory(ADMIN, import_rows(read_page(document)))

    assert summary["updated"] == [{"service_id": food["id"], "changed": ["eligibility", "active"]}]
    assert events_of(records) == before + 2  # Updated and Deactivated, in one save
    shown = records.directory_service(ADMIN, food["id"])
    assert (shown["details"]["eligibility"], shown["active"]) == ("County residents", False)
    stored = list(records.events.get(directory_service_id("agency:agency-a", food["id"])))
    assert [type(e).__name__ for e in stored][-2:] == ["Updated", "Deactivated"]
    assert stored[-2].changes == {"eligibility": "County residents"}  # type: ignore[attr-defined]


def test_a_refused_service_is_reported_and_the_others_imported(records: CaseRecords) -> None:
    document = sample_directory()
    document["contents"][1]["attributes"][0]["taxonomy_term"]["code"] = "Not A Code"
    document["contents"].append(copy.deepcopy(document["contents"][0]))

    summary = records.import_directory(ADMIN, import_rows(read_page(document)))

    assert len(summary["listed"]) == 7
    reasons = {r["service_id"]: r["reason"] for r in summary["refused"]}
    assert "is not a code" in reasons[document["contents"][1]["id"]]
    assert reasons[document["contents"][0]["id"]] == "listed twice in the file"


def test_an_export_imported_again_changes_nothing(records: CaseRecords) -> None:
    import_sample(records)
    records.list_directory_service(ADMIN, service_id="legal-2", details=DETAILS)
    records.deactivate_directory_service(ADMIN, "legal-2", reason="moved")
    before = events_of(records)

    exported = hsds_page(records.directory_services(ADMIN))
    summary = records.import_directory(ADMIN, import_rows(read_page(exported)))

    assert (len(summary["unchanged"]), events_of(records)) == (9, before)


def test_search_finds_services_by_words_need_kind_area_and_state(records: CaseRecords) -> None:
    import_sample(records)

    def names(**query: Any) -> list[str]:
        return [s["details"]["name"] for s in records.directory_services(ADMIN, **query)]

    assert names(need="housing-insecurity") == [
        "Emergency food pantry",
        "Emergency shelter and rapid rehousing",
        "Eviction defence and benefits appeals",
    ]
    assert names(kind="support-group", area="northport") == ["NA meetings"]
    assert names(q="eviction appeals") == ["Eviction defence and benefits appeals"]
    assert names(q="federal poverty", need="income") == [
        "SNAP (CalFresh) applications",
        "Eviction defence and benefits appeals",
    ]
    assert names(active=False) == []


def test_services_are_listed_once_per_directory_and_each_agency_has_its_own(
    records: CaseRecords,
) -> None:
    records.list_directory_service(ADMIN, service_id="legal-2", details=DETAILS)
    with pytest.raises(DuplicateIdError):
        records.list_directory_service(ADMIN, service_id="legal-2", details=DETAILS)
    with pytest.raises(DirectoryServiceNotFoundError):
        records.directory_service(OTHER, "legal-2")
    records.list_directory_service(OTHER, service_id="legal-2", details=DETAILS)
    assert [s["service_id"] for s in records.directory_services(OTHER)] == ["legal-2"]


def test_agencies_of_a_network_share_one_directory(
    records: CaseRecords, settings: Settings
) -> None:
    shared = settings.model_copy(update={"directory_networks": "north:agency-a,agency-b"})
    records.close()
    records = open_records(shared)
    records.list_directory_service(ADMIN, service_id="legal-2", details=DETAILS)
    records.update_directory_service(OTHER, "legal-2", details=DETAILS | {"response_days": 4})

    shown = records.directory_service(ADMIN, "legal-2")
    assert (shown["directory_id"], shown["details"]["response_days"]) == ("network:north", 4)
    lonely = Actor("admin-3", "admin", "agency-c")
    assert records.directory_services(lonely) == []
    records.close()


def test_a_referral_may_name_only_an_active_service_of_the_directory(
    records: CaseRecords,
) -> None:
    records.list_directory_service(ADMIN, service_id="legal-2", details=DETAILS)
    found = records.check_directory_service(ADMIN, "legal-2", "service_id")
    assert found["details"]["response_days"] == 10
    with pytest.raises(UnknownDirectoryServiceError):
        records.check_directory_service(ADMIN, "legal-9", "service_id")
    with pytest.raises(UnknownDirectoryServiceError):
        records.check_directory_service(OTHER, "legal-2", "service_id")
    records.deactivate_directory_service(ADMIN, "legal-2", reason="closed")
    with pytest.raises(DirectoryServiceInactiveError):
        records.check_directory_service(ADMIN, "legal-2", "service_id")


def caserecord(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CASERECORD, *args], env=env_for(settings), capture_output=True, text=True, timeout=120
    )


def test_the_cli_imports_a_file_once_and_exports_what_it_holds(
    records: CaseRecords, settings: Settings, tmp_path: Path
) -> None:
    sample = tmp_path / "sample.json"
    sample.write_text(json.dumps(sample_directory()))
    broken = sample_directory()
    broken["contents"][1]["organization"] = {"id": "x"}
    (tmp_path / "broken.json").write_text(json.dumps(broken))

    first = caserecord(settings, "directory", "import", str(sample), "--agency", "agency-a")
    again = caserecord(settings, "directory", "import", str(sample), "--agency", "agency-a")
    bad = caserecord(
        settings, "directory", "import", str(tmp_path / "broken.json"), "--agency", "agency-a"
    )
    exported = caserecord(settings, "directory", "export", "--agency", "agency-a")
    package = tmp_path / "directory.zip"
    zipped = caserecord(
        settings,
        "directory",
        "export",
        "--agency",
        "agency-a",
        "--format",
        "datapackage",
        "--output",
        str(package),
    )

    assert first.stdout.startswith("8 listed, 0 updated, 0 unchanged, 0 refused"), first.stderr
    assert again.stdout.startswith("0 listed, 0 updated, 8 unchanged, 0 refused"), again.stderr
    assert bad.returncode == 1
    assert bad.stderr.strip().endswith("contents[1].organization.name: Field required")
    assert json.loads(exported.stdout)["total_items"] == 8
    assert zipped.returncode == 0 and zipfile.is_zipfile(package)


def test_the_views_pass_over_the_directorys_events(
    records: CaseRecords, projections: ProjectionService
) -> None:
    import_sample(records)
    head = records.recorder.max_notification_id()

    projections.catch_up()

    assert set(projections.positions().values()) == {head}


def test_a_referral_to_a_service_takes_its_names_and_its_response_standard(
    records: CaseRecords,
) -> None:
    records.list_directory_service(ADMIN, service_id="legal-2", details=DETAILS)
    monday = date(2026, 11, 30)

    standard = records.directory_referral(ADMIN, "legal-2", referred_on=monday)
    given = records.directory_referral(
        ADMIN, "legal-2", referred_on=monday, respond_by=date(2026, 12, 2)
    )

    assert standard == {
        "service_id": "legal-2",
        "organization_id": standard["organization_id"],
        "organisation": "Bayview Legal Aid",
        "service_name": "Tenant advice",
        "needs": ["legal"],
        "respond_by": date(2026, 12, 10),
    }
    assert given["respond_by"] == date(2026, 12, 2)
    records.update_directory_service(ADMIN, "legal-2", details=DETAILS | {"response_days": None})
    assert records.directory_referral(ADMIN, "legal-2", referred_on=monday)["respond_by"] is None


def test_a_referral_naming_a_directory_service_is_sent_to_it_by_its_standard(
    records: CaseRecords, worker: Actor
) -> None:
    records.list_directory_service(ADMIN, service_id="legal-2", details=DETAILS)
    case_id = an_open_case(records, worker)

    made = records.make_referral(
        worker, case_id, resource_kind="legal", service_id="legal-2", internal=True
    )

    referral = records.get_referral(worker, case_id, str(made.entity_id))
    assert (referral["organisation"], referral["service_name"]) == (
        "Bayview Legal Aid",
        "Tenant advice",
    )
    assert (
        referral["organization_id"]
        == records.directory_service(ADMIN, "legal-2")["details"]["organization_id"]
    )
    assert referral["respond_by"] == referral["effective_at"].date() + timedelta(days=10)


def test_a_referral_to_a_service_the_directory_lacks_or_closed_is_refused_and_nothing_recorded(
    records: CaseRecords, worker: Actor
) -> None:
    records.list_directory_service(ADMIN, service_id="legal-2", details=DETAILS)
    case_id = an_open_case(records, worker)
    version = records.get_case(worker, case_id)["version"]
    refer: dict[str, Any] = {
        "resource_kind": "legal",
        "organisation": "O",
        "service_name": "S",
        "internal": True,
    }

    with pytest.raises(UnknownDirectoryServiceError):
        records.make_referral(worker, case_id, service_id="legal-9", **refer)
    records.deactivate_directory_service(ADMIN, "legal-2", reason="closed")
    with pytest.raises(DirectoryServiceInactiveError):
        records.make_referral(worker, case_id, service_id="legal-2", **refer)

    assert records.get_case(worker, case_id)["version"] == version


def test_before_an_agency_lists_any_service_a_service_id_is_kept_as_given(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    refer: dict[str, Any] = {
        "resource_kind": "legal",
        "organisation": "O",
        "service_name": "S",
        "internal": True,
    }

    made = records.make_referral(worker, case_id, service_id="one-off", **refer)

    assert records.get_referral(worker, case_id, str(made.entity_id))["service_id"] == "one-off"
