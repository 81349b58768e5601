"""Checking the views against a rebuild from the log: a view row edited, deleted or inserted
behind the service, or left by events that were cut from the log, is named by its view, its
key and both values, on both stores."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.projections import ProjectionService
from caserecord.projections.compare import RowDifference
from tests.factories import an_open_case
from tests.integration.stored_rows import StoredRows
from tests.scenario import ScenarioResult


@pytest.fixture
def service(
    settings: Settings, records: CaseRecords, scenario: ScenarioResult
) -> Iterator[ProjectionService]:
    """The views caught up with the core scenario and a case of another agency."""
    an_open_case(records, Actor("worker-9", "caseworker", "agency-b"))
    s = ProjectionService(settings)
    s.catch_up()
    yield s
    s.close()


def changed(service: ProjectionService, statement: str, *params: Any) -> None:
    service.db.execute([(statement, params)])


def named(differences: list[RowDifference]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(d.view, d.table, d.key) for d in differences]


def test_views_built_from_the_log_match_a_rebuild(service: ProjectionService) -> None:
    assert service.verify() == []


def test_an_edited_row_is_named_with_the_columns_that_differ(
    service: ProjectionService, scenario: ScenarioResult
) -> None:
    case = str(scenario.case_id)
    live = service.db.query("SELECT status FROM {s}view_caseload WHERE case_id=?", (case,))
    changed(service, "UPDATE {s}view_caseload SET status='closed' WHERE case_id=?", case)

    (difference,) = service.verify()

    assert named([difference]) == [("caseload", "view_caseload", {"case_id": case})]
    assert difference.live == {"status": "closed"}
    assert difference.rebuilt == {"status": live[0]["status"]}


def test_a_deleted_row_is_named_as_missing_from_the_view(
    service: ProjectionService, scenario: ScenarioResult
) -> None:
    client = str(scenario.client_id)
    changed(service, "DELETE FROM {s}view_clients WHERE client_id=?", client)

    (difference,) = service.verify()

    assert named([difference]) == [("client_index", "view_clients", {"client_id": client})]
    assert (difference.live, difference.rebuilt is not None) == (None, True)


def test_an_inserted_row_is_named_as_missing_from_the_rebuild(
    service: ProjectionService, scenario: ScenarioResult
) -> None:
    (row,) = service.db.query(
        "SELECT * FROM {s}view_audit WHERE stream_id=? AND version=1", (str(scenario.case_id),)
    )
    forged = row | {"position": 10**9, "version": 10**6, "actor_id": "someone-else"}
    columns = ",".join(forged)
    marks = ",".join("?" * len(forged))
    changed(service, f"INSERT INTO {{s}}view_audit ({columns}) VALUES ({marks})", *forged.values())

    (difference,) = service.verify()

    assert named([difference]) == [("audit_trail", "view_audit", {"position": str(10**9)})]
    assert difference.rebuilt is None
    assert difference.live is not None and difference.live["actor_id"] == "someone-else"


def test_audit_rows_of_events_cut_from_the_log_are_named(
    service: ProjectionService, scenario: ScenarioResult, database_url: str
) -> None:
    rows = StoredRows(database_url)
    last = scenario.final_version
    for version in (last, last - 1):
        rows.delete_event(scenario.case_id, version)

    differences = service.verify()

    cut = {scenario.positions[last], scenario.positions[last - 1]}
    audit = [d for d in differences if d.table == "view_audit"]
    assert {int(d.key["position"]) for d in audit} == cut
    assert all(d.rebuilt is None for d in audit)


def cli(
    database_url: str, *args: str, command: str = "projections"
) -> subprocess.CompletedProcess[str]:
    caserecord = Path(sys.executable).parent / "caserecord"
    env = os.environ | {"CASERECORD_DATABASE_URL": database_url}
    return subprocess.run(
        [str(caserecord), *([command] if command else []), "verify", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_cli_exits_0_when_the_views_match_and_2_naming_each_row_that_differs(
    service: ProjectionService, scenario: ScenarioResult, database_url: str
) -> None:
    same = cli(database_url)
    changed(service, "DELETE FROM {s}view_current_plans WHERE case_id=?", str(scenario.case_id))
    differs = cli(database_url)

    assert (same.returncode, differs.returncode) == (0, 2), differs.stderr
    assert same.stdout.startswith("ok: ")
    (line,) = differs.stdout.splitlines()
    assert line.startswith(
        f"DIFFERS: current_plans view_current_plans [case_id={scenario.case_id}]"
    )


@pytest.mark.parametrize("edit", ["edit", "delete", "insert"])
def test_verify_all_with_views_exits_2_naming_a_view_row_changed_behind_the_service(
    service: ProjectionService, scenario: ScenarioResult, database_url: str, edit: str
) -> None:
    case = str(scenario.case_id)
    intact = cli(database_url, "--all", "--views", command="")
    if edit == "edit":
        changed(service, "UPDATE {s}view_caseload SET status='closed' WHERE case_id=?", case)
    elif edit == "delete":
        changed(service, "DELETE FROM {s}view_current_plans WHERE case_id=?", case)
    else:
        (row,) = service.db.query("SELECT * FROM {s}view_caseload WHERE case_id=?", (case,))
        forged = row | {"case_id": str(uuid4())}
        columns, marks = ",".join(forged), ",".join("?" * len(forged))
        changed(
            service,
            f"INSERT INTO {{s}}view_caseload ({columns}) VALUES ({marks})",
            *forged.values(),
        )

    without_views = cli(database_url, "--all", command="")
    with_views = cli(database_url, "--all", "--views", command="")

    assert intact.returncode == 0, intact.stderr
    assert without_views.returncode == 0  # the flat pass reads the log, not the views
    assert with_views.returncode == 2, with_views.stderr
    (line,) = [x for x in with_views.stderr.splitlines() if x.startswith("TAMPERED")]
    assert line.startswith("TAMPERED: views: ")
    assert "[case_id=" in line


def test_verify_all_with_views_exits_2_naming_derived_rows_changed_behind_the_service(
    service: ProjectionService, scenario: ScenarioResult, database_url: str
) -> None:
    rows = StoredRows(database_url)
    case, client = str(scenario.case_id), str(scenario.client_id)
    ((version,),) = rows._run(
        "SELECT MAX(version) FROM case_entries WHERE stream_id=? AND kind='note'", case
    )
    rows._run(
        "UPDATE case_entries SET entity_id=? WHERE stream_id=? AND version=?",
        str(uuid4()),
        case,
        version,
    )
    rows._run("DELETE FROM client_identity WHERE client_id=?", client)

    without_views = cli(database_url, "--all", command="")
    with_views = cli(database_url, "--all", "--views", "--json", command="")

    assert without_views.returncode == 0  # the flat pass decodes nothing
    assert with_views.returncode == 2, with_views.stderr
    problems = json.loads(with_views.stdout)["problems"]
    assert {(p["part"], p["where"]) for p in problems} == {
        ("entry_index", f"stream {case} version {version}"),
        ("client_identity", f"client {client}"),
    }


def test_the_cli_exits_1_when_it_cannot_check(tmp_path: Path) -> None:
    done = cli(f"sqlite:///{tmp_path}/never-initialised.db")

    assert done.returncode == 1
    assert done.stderr.startswith("caserecord: ")
    assert len(done.stderr.strip().splitlines()) == 1
