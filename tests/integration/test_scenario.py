"""The core scenario end to end on SQLite and PostgreSQL."""

from caserecord.application import CaseRecords
from caserecord.domain.recording import Actor
from tests.scenario import NEW_MANAGER, key_fields, run_core_scenario


def test_the_case_reconstructed_at_every_version_has_the_expected_state(
    records: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    result = run_core_scenario(records, worker, supervisor)

    for version, expected in result.expected.items():
        case = records.get_case(worker, result.case_id, version=version)
        assert key_fields(case) == expected, f"case at version {version}"


def test_the_current_case_matches_the_last_expected_state(
    records: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    result = run_core_scenario(records, worker, supervisor)

    case = records.get_case(worker, result.case_id)

    assert key_fields(case) == result.expected[result.final_version]
    assert case["status"] == "open"
    assert case["case_manager_id"] == NEW_MANAGER
    assert [h["value"] for h in case["status_history"]] == ["open", "closed", "open"]
    assert [v["number"] for v in case["current_plan"]["versions"]] == [1, 2]
    assert [n["note_id"] for n in case["notes"]] == [result.kept_note_id]
    declined = next(r for r in case["referrals"] if r["referral_id"] == result.declined_referral_id)
    assert declined["declined_by"] == "client"


def test_the_scenario_events_are_stored_in_order_with_their_envelope(
    records: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    result = run_core_scenario(records, worker, supervisor)

    events = [
        e for e in records.case_events(worker, result.case_id) if e["stream_id"] == result.case_id
    ]

    assert [e["version"] for e in events] == list(range(1, result.final_version + 1))
    assert events[0]["type"] == "Opened"
    assert events[0]["effective_at"] < events[0]["recorded_at"]
    closed = events[result.steps["closed"] - 1]
    assert closed["type"] == "Closed"
    assert closed["actor"] == {"id": "super-1", "role": "supervisor", "agency_id": "agency-a"}
    assert closed["reason"] == "client moved away"
    positions = [result.positions[v] for v in sorted(result.positions)]
    assert positions == sorted(positions)


def test_the_scenario_streams_verify(
    records: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    result = run_core_scenario(records, worker, supervisor)

    case_check, client_check = records.verify_case(worker, result.case_id)

    assert case_check.ok and case_check.versions_checked == result.final_version
    # Registered, and a disclosure for each of the two referrals.
    assert client_check.ok and client_check.versions_checked == 3
