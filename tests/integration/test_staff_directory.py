"""The staff directory through the service, on both stores: members, the roster, and the
checks assignment makes against it."""

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.errors import (
    DuplicateIdError,
    StaffInactiveError,
    StaffNotFoundError,
    UnknownStaffError,
)
from caserecord.domain.recording import Actor
from tests.factories import a_client, an_open_case

ADMIN = Actor("admin-1", "admin", "agency-a")


def add(records: CaseRecords, staff_id: str, actor: Actor = ADMIN, **values: object) -> None:
    fields: dict[str, object] = {"name": staff_id.title(), "role": "case_manager"} | values
    records.add_staff_member(actor, staff_id=staff_id, **fields)  # type: ignore[arg-type]


def test_added_staff_are_listed_in_order_and_read_by_id(records: CaseRecords) -> None:
    add(records, "cm-alice", caseload_limit=20)
    add(records, "sup-bo", role="supervisor")
    listed = records.staff_of_agency("agency-a")
    assert [m["staff_id"] for m in listed] == ["cm-alice", "sup-bo"]
    alice = records.staff_member(ADMIN, "cm-alice")
    assert (alice["name"], alice["role"], alice["active"], alice["caseload_limit"]) == (
        "Cm-Alice",
        "case_manager",
        True,
        20,
    )


def test_a_staff_id_is_added_once_per_agency_and_each_agency_has_its_own(
    records: CaseRecords,
) -> None:
    add(records, "cm-alice")
    with pytest.raises(DuplicateIdError):
        add(records, "cm-alice")
    add(records, "cm-alice", Actor("admin-b", "admin", "agency-b"))
    assert [m["agency_id"] for m in records.staff_of_agency("agency-b")] == ["agency-b"]
    assert len(records.staff_of_agency("agency-a")) == 1


def test_another_agencys_staff_member_is_not_found(records: CaseRecords) -> None:
    add(records, "cm-alice")
    with pytest.raises(StaffNotFoundError):
        records.staff_member(Actor("admin-b", "admin", "agency-b"), "cm-alice")


def test_deactivation_and_reactivation_are_recorded_with_their_reasons(
    records: CaseRecords,
) -> None:
    add(records, "cm-alice")
    records.deactivate_staff_member(ADMIN, "cm-alice", reason="left")
    assert records.staff_member(ADMIN, "cm-alice")["active"] is False
    result = records.reactivate_staff_member(ADMIN, "cm-alice", reason="returned")
    assert result.version == 3
    assert records.staff_member(ADMIN, "cm-alice")["active"] is True


def test_without_a_directory_a_case_manager_id_is_free_text(
    records: CaseRecords, worker: Actor
) -> None:
    assert not records.has_directory("agency-a")
    case_id = an_open_case(records, worker)
    assert records.get_case(worker, case_id)["case_manager_id"] == worker.id


def test_with_a_directory_an_unknown_case_manager_is_refused_at_intake(
    records: CaseRecords, worker: Actor
) -> None:
    add(records, "cm-alice")
    client_id = a_client(records, worker)
    with pytest.raises(UnknownStaffError, match="case_manager_id: 'worker-1'") as refused:
        an_open_case(records, worker, client_id)
    assert refused.value.code == "staff_not_found"


def test_with_a_directory_an_inactive_case_manager_is_refused_at_reassignment(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    add(records, "cm-alice")
    add(records, "cm-bob")
    records.deactivate_staff_member(ADMIN, "cm-bob", reason="left")
    with pytest.raises(StaffInactiveError, match="cm-bob is inactive"):
        records.assign_case_manager(worker, case_id, case_manager_id="cm-bob", reason="cover")
    with pytest.raises(UnknownStaffError):
        records.assign_case_manager(worker, case_id, case_manager_id="cm-zed", reason="cover")
    records.assign_case_manager(worker, case_id, case_manager_id="cm-alice", reason="cover")
    assert records.get_case(worker, case_id)["case_manager_id"] == "cm-alice"
