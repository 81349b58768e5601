"""The read-model and timeline commands, run as a person would run them."""

import json
import signal
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.projections import ProjectionService
from caserecord.store import open_records
from tests.integration.processes import CASERECORD, env_for
from tests.integration.stored_rows import StoredRows
from tests.scenario import ScenarioResult, extend_case


def caserecord(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CASERECORD, *args], env=env_for(settings), capture_output=True, text=True, timeout=120
    )


def digests(output: str) -> dict[str, str]:
    return {line.split("\t")[0]: line.split("\t")[1] for line in output.strip().splitlines()}


def test_run_once_then_digest_then_rebuild_gives_the_same_digests(
    settings: Settings, scenario: ScenarioResult
) -> None:
    once = caserecord(settings, "projections", "run", "--once")
    first = caserecord(settings, "projections", "digest")
    rebuilt = caserecord(settings, "projections", "rebuild")
    second = caserecord(settings, "projections", "digest")

    assert once.returncode == 0, once.stderr
    assert "audit_trail: 28 events applied" in once.stdout
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "caseload: rebuilt from 28 events" in rebuilt.stdout
    assert set(digests(first.stdout)) == {
        "current_plans",
        "caseload",
        "referrals",
        "audit_trail",
        "client_index",
        "worklist",
        "scores",
        "benefits",
    }
    assert digests(second.stdout) == digests(first.stdout)
    assert all(line.endswith("\t28") for line in second.stdout.strip().splitlines())


def test_rebuild_rebuilds_only_the_view_named_and_refuses_an_unknown_one(
    settings: Settings, scenario: ScenarioResult
) -> None:
    one = caserecord(settings, "projections", "rebuild", "referrals")
    unknown = caserecord(settings, "projections", "rebuild", "plans")

    assert one.returncode == 0 and "referrals: rebuilt from 28 events" in one.stdout
    assert "caseload" not in one.stdout
    assert unknown.returncode == 2
    assert "choose from current_plans" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_the_timeline_command_prints_events_and_an_as_of_state(
    settings: Settings, scenario: ScenarioResult
) -> None:
    case = str(scenario.case_id)
    table = caserecord(settings, "timeline", case)
    as_json = caserecord(settings, "timeline", case, "--format", "json")
    # Whole seconds would land before events recorded earlier in the same second.
    now = datetime.now(UTC).isoformat()
    state = caserecord(settings, "timeline", case, "--as-of", now, "--format", "json")

    assert table.returncode == 0, table.stderr
    assert "Case reopened" in table.stdout
    events = json.loads(as_json.stdout)
    assert len(events) == scenario.final_version + 3  # with the two referrals' disclosures
    assert [e["stream_kind"] for e in events].count("client") == 3
    assert state.returncode == 0, state.stderr
    assert json.loads(state.stdout)["as_of"]["known_version"] == scenario.final_version


def test_the_timeline_command_lists_a_case_with_a_deleted_event_and_warns_of_its_version(
    settings: Settings, records: CaseRecords, worker: Actor, scenario: ScenarioResult
) -> None:
    extend_case(records, worker, scenario, 101)  # a snapshot at v100 replays past the hole
    case = str(scenario.case_id)
    StoredRows(settings.database_url).delete_event(scenario.case_id, 10)

    table = caserecord(settings, "timeline", case)
    as_json = caserecord(settings, "timeline", case, "--format", "json")

    # Listed as stored, and flagged as damaged the way `verify` flags a tampered stream.
    for result in (table, as_json):
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().splitlines() == [
            "caserecord: missing from the stored record: case v10: "
            f"check with `caserecord verify {case}`"
        ]
    assert "Case reopened" in table.stdout
    versions = [e["version"] for e in json.loads(as_json.stdout) if e["stream_kind"] == "case"]
    assert 10 not in versions and 11 in versions


def test_the_timeline_command_names_the_version_a_case_cannot_be_replayed_past(
    settings: Settings, scenario: ScenarioResult
) -> None:
    case = str(scenario.case_id)
    StoredRows(settings.database_url).delete_event(scenario.case_id, 10)

    result = caserecord(settings, "timeline", case)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"caserecord: case {case} cannot be replayed: missing from the stored record: case v10: "
        f"check with `caserecord verify {case}`"
    ]


def test_the_timeline_command_refuses_bad_input_in_one_line(
    settings: Settings, scenario: ScenarioResult
) -> None:
    unknown = caserecord(settings, "timeline", "6b7c5a2e-1111-4111-8111-111111111111")
    bad_format = caserecord(settings, "timeline", str(scenario.case_id), "--format", "xml")
    naive = caserecord(settings, "timeline", str(scenario.case_id), "--as-of", "2026-01-01")

    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines() == [
        "caserecord: no case 6b7c5a2e-1111-4111-8111-111111111111 [case_not_found]"
    ]
    assert bad_format.returncode == 2 and "table, json" in bad_format.stderr
    assert naive.returncode == 2 and "--as-of" in naive.stderr
    for result in (unknown, bad_format, naive):
        assert "Traceback" not in result.stderr


def test_without_view_tables_the_commands_say_to_run_db_init(
    sqlite_url: str, worker: Actor, tmp_path: Path
) -> None:
    settings = Settings(database_url=sqlite_url)
    records = open_records(settings, create_table=True)  # events only, no view tables
    records.register_client(worker, given_name="Ana", family_name="Diaz")
    records.close()

    result = caserecord(settings, "projections", "digest")

    assert result.returncode == 1
    assert "run `caserecord db init`" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "view_audit" not in tables  # no command quietly ran DDL


def test_projections_run_follows_until_sigterm_then_stops_cleanly(
    settings: Settings, records: CaseRecords, worker: Actor
) -> None:
    runner = subprocess.Popen(
        [CASERECORD, "projections", "run"],
        env=env_for(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert runner.stdout is not None
    first_line = runner.stdout.readline()  # printed once it follows new events
    position = records.register_client(worker, given_name="Eva", family_name="Moss").position
    service = ProjectionService(settings)
    try:
        service.wait(position, timeout=20)
    finally:
        service.close()
        runner.send_signal(signal.SIGTERM)
        out, err = runner.communicate(timeout=30)

    assert first_line.startswith("following new events for: current_plans")
    assert runner.returncode == 0, err
    assert out.strip() == "stopped"


def test_tokens_create_issues_a_provider_token_for_an_organisation_or_says_why_not(
    settings: Settings, records: CaseRecords
) -> None:
    made = caserecord(
        settings, "tokens", "create", "--agency", "agency-a", "--role", "provider",
        "--name", "intake desk", "--organization", "org-food",
    )  # fmt: skip
    missing = caserecord(
        settings, "tokens", "create", "--agency", "agency-a", "--role", "provider",
        "--name", "intake desk",
    )  # fmt: skip
    listed = caserecord(settings, "tokens", "list", "--agency", "agency-a")

    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("crt_") and "intake desk of org-food" in made.stderr
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        "caserecord: a provider token names the organisation it answers for [invalid_value]"
    ]
    assert "org-food" in listed.stdout
