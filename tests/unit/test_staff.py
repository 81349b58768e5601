"""Staff members and the agency's roster: each guard of their events."""

import pytest

from caserecord.domain.errors import (
    DuplicateIdError,
    InvalidTransitionError,
    InvalidValueError,
    NothingToCorrectError,
    ReasonRequiredError,
)
from caserecord.domain.staff import StaffMember, StaffRoster, roster_id, staff_member_id

pytestmark = pytest.mark.usefixtures("as_worker")


def a_member(**overrides: object) -> StaffMember:
    values: dict[str, object] = {
        "agency_id": "agency-a",
        "staff_id": "cm-alice",
        "name": "Alice Moreno",
        "role": "case_manager",
        "caseload_limit": 25,
    } | overrides
    return StaffMember(**values)  # type: ignore[arg-type]


def test_a_staff_member_is_found_by_agency_and_staff_id() -> None:
    member = a_member()
    assert member.id == staff_member_id("agency-a", "cm-alice")
    assert member.id != staff_member_id("agency-b", "cm-alice")
    assert (member.name, member.role, member.active, member.caseload_limit) == (
        "Alice Moreno",
        "case_manager",
        True,
        25,
    )


@pytest.mark.parametrize("staff_id", ["", " cm", "cm alice", "-cm", "x" * 101, "cm/alice"])
def test_a_staff_id_with_spaces_slashes_or_too_long_is_refused(staff_id: str) -> None:
    with pytest.raises(InvalidValueError, match="staff_id"):
        a_member(staff_id=staff_id)


def test_a_staff_member_needs_a_name() -> None:
    with pytest.raises(InvalidValueError, match="name"):
        a_member(name="  ")


def test_a_staff_role_outside_the_vocabulary_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="role must be one of"):
        a_member(role="wizard")


@pytest.mark.parametrize("limit", [-1, 2.5, True, "10"])
def test_a_caseload_limit_is_a_whole_number_of_cases(limit: object) -> None:
    with pytest.raises(InvalidValueError, match="caseload_limit"):
        a_member(caseload_limit=limit)


def test_an_update_changes_name_role_and_limit() -> None:
    member = a_member()
    member.update("Alice Moreno-Diaz", "supervisor", None)
    assert (member.name, member.role, member.caseload_limit) == (
        "Alice Moreno-Diaz",
        "supervisor",
        None,
    )


def test_an_update_that_changes_nothing_is_refused() -> None:
    with pytest.raises(NothingToCorrectError):
        a_member().update("Alice Moreno", "case_manager", 25)


def test_an_update_is_checked_as_an_addition_is() -> None:
    with pytest.raises(InvalidValueError, match="role"):
        a_member().update("Alice", "wizard", 25)


def test_deactivating_needs_a_reason_and_happens_once() -> None:
    member = a_member()
    with pytest.raises(ReasonRequiredError):
        member.deactivate(" ")
    member.deactivate("left the agency")
    assert not member.active
    with pytest.raises(InvalidTransitionError, match="already inactive"):
        member.deactivate("again")


def test_reactivating_needs_a_reason_and_an_inactive_member() -> None:
    member = a_member()
    with pytest.raises(InvalidTransitionError, match="already active"):
        member.reactivate("back")
    member.deactivate("parental leave")
    with pytest.raises(ReasonRequiredError):
        member.reactivate("")
    member.reactivate("back from leave")
    assert member.active


def test_the_roster_lists_each_staff_id_once_in_order() -> None:
    roster = StaffRoster(agency_id="agency-a")
    assert roster.id == roster_id("agency-a")
    roster.list_member("cm-alice")
    roster.list_member("cm-bob")
    with pytest.raises(DuplicateIdError):
        roster.list_member("cm-alice")
    assert roster.staff_ids == ["cm-alice", "cm-bob"]
