"""A case's care team and its transfers with a handoff: each guard of their events."""

from datetime import date

import pytest

from caserecord.domain.case import Case
from caserecord.domain.errors import (
    CareTeamMemberNotFoundError,
    CaseClosedError,
    DuplicateIdError,
    EntryNotCorrectableError,
    InvalidTransitionError,
    InvalidValueError,
    NotTheReceiverError,
    ReasonRequiredError,
    TransferNotFoundError,
    TransferPendingError,
)
from tests.unit.case_builders import opened_case

pytestmark = pytest.mark.usefixtures("as_worker")

MARCH = date(2026, 3, 1)


def with_nurse(case: Case, member_id: str = "m1", staff_id: str = "rn-sam") -> Case:
    case.add_care_team_member(member_id, staff_id, "Sam", "nurse", "", "", MARCH)
    return case


def test_a_staff_member_and_an_outsider_join_the_care_team() -> None:
    case = with_nurse(opened_case())
    case.add_care_team_member("m2", "", "Pat Doyle", "probation_officer", "County", "555-01", MARCH)
    assert [(m.name, m.role, m.current) for m in case.care_team.values()] == [
        ("Sam", "nurse", True),
        ("Pat Doyle", "probation_officer", True),
    ]


def test_a_care_team_role_outside_the_vocabulary_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="role must be one of"):
        opened_case().add_care_team_member("m1", "", "Pat", "wizard", "", "", MARCH)


def test_a_care_team_member_needs_a_name_and_a_first_day() -> None:
    case = opened_case()
    with pytest.raises(InvalidValueError, match="name"):
        case.add_care_team_member("m1", "", " ", "caregiver", "", "", MARCH)
    with pytest.raises(InvalidValueError, match="first day"):
        case.add_care_team_member("m1", "", "Pat", "caregiver", "", "", None)  # type: ignore[arg-type]


def test_a_staff_member_is_on_the_team_once_at_a_time() -> None:
    case = with_nurse(opened_case())
    with pytest.raises(DuplicateIdError, match="already on the care team"):
        with_nurse(case, "m2")
    with pytest.raises(DuplicateIdError, match="m1 already exists"):
        case.add_care_team_member("m1", "", "Pat", "caregiver", "", "", MARCH)
    case.end_care_team_member("m1", date(2026, 4, 1), "rotated")
    with_nurse(case, "m2")  # back on the team for a new period


def test_ending_a_membership_needs_a_reason_a_current_member_and_a_day_in_its_period() -> None:
    case = with_nurse(opened_case())
    with pytest.raises(CareTeamMemberNotFoundError):
        case.end_care_team_member("nobody", MARCH, "x")
    with pytest.raises(ReasonRequiredError):
        case.end_care_team_member("m1", MARCH, " ")
    with pytest.raises(InvalidValueError, match="on or after"):
        case.end_care_team_member("m1", date(2026, 2, 1), "x")
    case.end_care_team_member("m1", date(2026, 3, 31), "rotated")
    with pytest.raises(CareTeamMemberNotFoundError):
        case.end_care_team_member("m1", date(2026, 4, 1), "again")


def test_the_team_on_a_day_counts_first_and_last_days_in() -> None:
    case = with_nurse(opened_case())
    case.end_care_team_member("m1", date(2026, 3, 31), "rotated")
    assert case.care_team_on(date(2026, 2, 28)) == []
    assert [m.member_id for m in case.care_team_on(MARCH)] == ["m1"]
    assert [m.member_id for m in case.care_team_on(date(2026, 3, 31))] == ["m1"]
    assert case.care_team_on(date(2026, 4, 1)) == []


def test_a_closed_case_takes_no_team_changes_or_transfers() -> None:
    case = opened_case()
    case.close("moved away", "goals met")
    with pytest.raises(CaseClosedError):
        with_nurse(case)
    with pytest.raises(CaseClosedError):
        case.request_transfer("t1", "cm-alice", "handing over")


def test_a_transfer_moves_the_case_only_when_accepted() -> None:
    case = opened_case()
    case.request_transfer("t1", "cm-alice", "Stable; weekly calls; court date 3 May.")
    assert case.case_manager_id == "worker-1"
    assert case.pending_transfer is not None
    case.check_answer("t1", "cm-alice", supervisor=False)
    case.accept_transfer("t1")
    assert case.case_manager_id == "cm-alice"
    assert case.pending_transfer is None
    assert case.managers[-1].details["transfer_id"] == "t1"


def test_a_transfer_needs_a_summary_and_another_manager() -> None:
    case = opened_case()
    with pytest.raises(InvalidValueError, match="handoff summary"):
        case.request_transfer("t1", "cm-alice", "  ")
    with pytest.raises(InvalidTransitionError, match="already assigned"):
        case.request_transfer("t1", "worker-1", "x")
    with pytest.raises(InvalidValueError, match="names the case manager"):
        case.request_transfer("t1", " ", "x")


def test_one_transfer_waits_at_a_time_and_blocks_direct_assignment() -> None:
    case = opened_case()
    case.request_transfer("t1", "cm-alice", "summary")
    with pytest.raises(TransferPendingError):
        case.request_transfer("t2", "cm-bob", "summary")
    with pytest.raises(TransferPendingError):
        case.assign_case_manager("cm-bob", "cover")
    case.cancel_transfer("t1", "client asked to stay")
    case.request_transfer("t2", "cm-bob", "summary")
    case.decline_transfer("t2", "full caseload")
    with pytest.raises(DuplicateIdError):
        case.request_transfer("t1", "cm-bob", "again")


def test_only_the_receiver_or_a_supervisor_answers_a_transfer() -> None:
    case = opened_case()
    case.request_transfer("t1", "cm-alice", "summary")
    with pytest.raises(NotTheReceiverError):
        case.check_answer("t1", "worker-1", supervisor=False)
    case.check_answer("t1", "sup-bo", supervisor=True)


def test_declining_or_cancelling_needs_a_reason_and_a_pending_transfer() -> None:
    case = opened_case()
    with pytest.raises(TransferNotFoundError):
        case.accept_transfer("t1")
    case.request_transfer("t1", "cm-alice", "summary")
    with pytest.raises(ReasonRequiredError):
        case.decline_transfer("t1", "")
    with pytest.raises(ReasonRequiredError):
        case.cancel_transfer("t1", "")
    case.decline_transfer("t1", "caseload full")
    assert case.case_manager_id == "worker-1"
    with pytest.raises(InvalidTransitionError, match="already answered"):
        case.accept_transfer("t1")


def test_an_accepted_transfer_is_not_marked_in_error() -> None:
    case = opened_case()
    case.request_transfer("t1", "cm-alice", "summary")
    case.accept_transfer("t1")
    with pytest.raises(EntryNotCorrectableError, match="transfer the case back"):
        case.mark_entry_in_error(case.version, "wrong person")
