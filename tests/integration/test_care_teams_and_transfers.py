"""Care teams and transfers through the service, on both stores: the directory's checks,
who is on the team at a moment, and the caseload moving only on acceptance."""

from datetime import UTC, date, datetime

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.errors import (
    NotTheReceiverError,
    StaffInactiveError,
    UnknownStaffError,
)
from caserecord.domain.recording import Actor
from caserecord.history import case_as_of, case_timeline
from caserecord.projections import ProjectionService
from tests.factories import an_open_case

ADMIN = Actor("admin-1", "admin", "agency-a")
ALICE = Actor("cm-alice", "caseworker", "agency-a")


@pytest.fixture
def staffed(records: CaseRecords, worker: Actor) -> CaseRecords:
    """Agency A's directory: the worker who opens cases, a second case manager, a nurse."""
    for staff_id, role in (("worker-1", "case_manager"), ("cm-alice", "case_manager")):
        records.add_staff_member(ADMIN, staff_id=staff_id, name=staff_id.title(), role=role)
    records.add_staff_member(ADMIN, staff_id="rn-sam", name="Sam Kowalski", role="nurse")
    return records


def test_staff_and_outsiders_join_the_team_for_a_period(
    staffed: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(staffed, worker)
    nurse = staffed.add_care_team_member(
        worker, case_id, role="nurse", staff_id="rn-sam", starts_on=date(2026, 3, 1)
    ).entity_id
    staffed.add_care_team_member(
        worker,
        case_id,
        role="probation_officer",
        name="Pat Doyle",
        organisation="County",
        starts_on=date(2026, 1, 5),
    )
    assert nurse is not None
    staffed.end_care_team_member(
        worker, case_id, member_id=nurse, ends_on=date(2026, 3, 31), reason="rotated"
    )

    team = staffed.care_team(worker, case_id)
    assert [(m["name"], m["current"]) for m in team] == [
        ("Sam Kowalski", False),
        ("Pat Doyle", True),
    ]
    assert staffed.on_care_team(worker, case_id, "rn-sam", datetime(2026, 3, 15, tzinfo=UTC))
    assert not staffed.on_care_team(worker, case_id, "rn-sam", datetime(2026, 4, 1, tzinfo=UTC))
    assert [m["name"] for m in staffed.care_team(worker, case_id, on=date(2026, 4, 1))] == [
        "Pat Doyle"
    ]
    assert staffed.get_case(worker, case_id)["care_team"][0]["ends_on"] == date(2026, 3, 31)


def test_a_staff_member_joins_a_team_only_from_the_directory_and_while_active(
    staffed: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(staffed, worker)
    with pytest.raises(UnknownStaffError):
        staffed.add_care_team_member(worker, case_id, role="nurse", staff_id="rn-zed")
    staffed.deactivate_staff_member(ADMIN, "rn-sam", reason="left")
    with pytest.raises(StaffInactiveError):
        staffed.add_care_team_member(worker, case_id, role="nurse", staff_id="rn-sam")


def test_the_caseload_moves_the_case_only_when_the_transfer_is_accepted(
    staffed: CaseRecords, worker: Actor, projections: ProjectionService
) -> None:
    case_id = an_open_case(staffed, worker)
    transfer_id = staffed.request_transfer(
        worker, case_id, to_staff_id="cm-alice", handoff_summary="Weekly calls; court on 3 May"
    ).entity_id
    assert transfer_id is not None
    projections.catch_up()
    assert [
        r["case_id"] for r in projections.queries.caseload("agency-a", case_manager_id="worker-1")
    ] == [case_id]
    assert staffed.get_case(worker, case_id)["pending_transfer"]["to_staff_id"] == "cm-alice"

    with pytest.raises(NotTheReceiverError):
        staffed.accept_transfer(worker, case_id, transfer_id=transfer_id)
    staffed.accept_transfer(ALICE, case_id, transfer_id=transfer_id)
    projections.catch_up()

    assert projections.queries.caseload("agency-a", case_manager_id="worker-1") == []
    [row] = projections.queries.caseload("agency-a", case_manager_id="cm-alice")
    assert row["case_id"] == case_id
    case = staffed.get_case(worker, case_id)
    assert (case["case_manager_id"], case["pending_transfer"]) == ("cm-alice", None)


def test_a_transfer_goes_only_to_an_active_staff_member(
    staffed: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    case_id = an_open_case(staffed, worker)
    with pytest.raises(UnknownStaffError):
        staffed.request_transfer(worker, case_id, to_staff_id="cm-zed", handoff_summary="x")
    transfer_id = staffed.request_transfer(
        worker, case_id, to_staff_id="cm-alice", handoff_summary="x"
    ).entity_id
    assert transfer_id is not None
    staffed.deactivate_staff_member(ADMIN, "cm-alice", reason="left")
    with pytest.raises(StaffInactiveError):
        staffed.accept_transfer(supervisor, case_id, transfer_id=transfer_id)
    staffed.cancel_transfer(worker, case_id, transfer_id=transfer_id, reason="she left")
    assert staffed.get_case(worker, case_id)["transfers"][0]["statuses"][-1]["value"] == (
        "cancelled"
    )


def test_as_of_a_moment_shows_the_team_and_the_transfer_as_they_stood(
    staffed: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(staffed, worker)
    staffed.add_care_team_member(worker, case_id, role="nurse", staff_id="rn-sam")
    transfer_id = staffed.request_transfer(
        worker, case_id, to_staff_id="cm-alice", handoff_summary="x"
    ).entity_id
    assert transfer_id is not None
    requested = datetime.now(UTC)
    staffed.accept_transfer(ALICE, case_id, transfer_id=transfer_id)

    then = case_as_of(staffed, worker, case_id, recorded_at=requested)
    now = case_as_of(staffed, worker, case_id, recorded_at=datetime.now(UTC))

    assert (then["case_manager_id"], then["pending_transfer"]["to_staff_id"]) == (
        "worker-1",
        "cm-alice",
    )
    assert [m["staff_id"] for m in then["care_team"]] == ["rn-sam"]
    assert (now["case_manager_id"], now["pending_transfer"]) == ("cm-alice", None)
    kinds = [e["event_type"] for e in case_timeline(staffed, worker, case_id)]
    assert kinds[-3:] == ["CareTeamMemberAdded", "TransferRequested", "TransferAccepted"]


def test_the_views_rebuild_to_what_the_live_runner_made_of_staff_teams_and_transfers(
    staffed: CaseRecords, worker: Actor, projections: ProjectionService
) -> None:
    case_id = an_open_case(staffed, worker)
    staffed.add_care_team_member(worker, case_id, role="nurse", staff_id="rn-sam")
    transfer_id = staffed.request_transfer(
        worker, case_id, to_staff_id="cm-alice", handoff_summary="x"
    ).entity_id
    assert transfer_id is not None
    staffed.accept_transfer(ALICE, case_id, transfer_id=transfer_id)
    projections.start()
    projections.wait(staffed.recorder.max_notification_id() or 0)
    live = projections.digests()
    projections.stop()

    projections.rebuild()

    assert projections.digests() == live
