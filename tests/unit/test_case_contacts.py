"""Contact notes: who took part, the client's consent for their support network, and the
goals and referrals a note concerns."""

from typing import Any

import pytest

from caserecord.domain.case import Case
from caserecord.domain.client import SupportContact
from caserecord.domain.contact import Contact
from caserecord.domain.errors import (
    ContactNotPermittedError,
    InvalidValueError,
    UnknownReferenceError,
)
from tests.unit.case_builders import last_event, mapper, opened_case, with_plan, with_referral

pytestmark = pytest.mark.usefixtures("as_worker")

SISTER = SupportContact("sis", "Rosa", "family", "", "", True, 2)
FATHER = SupportContact("dad", "Luis", "family", "", "", False, 3)
GONE = SupportContact("ex", "Ana", "friend", "", "", True, 4, removed_in=5)
NETWORK = {c.contact_id: c for c in (SISTER, FATHER, GONE)}


def note(case: Case, **contact: Any) -> None:
    case.record_note("n-1", "Met", "client", "in_person", [], None, Contact(**contact), NETWORK)


def test_a_note_records_the_client_support_contacts_providers_and_staff_at_once() -> None:
    case = opened_case()

    note(
        case,
        client_participated=True,
        support_contact_ids=["sis"],
        providers=[{"name": "Dr Okafor", "organisation": "St Mary's"}],
        staff_ids=["nurse-2"],
        location="ward 4",
        duration_minutes=30,
    )

    event = last_event(case)
    assert isinstance(event, Case.ProgressNoteRecorded)
    assert event.support_contact_ids == ["sis"]
    assert event.providers == [{"name": "Dr Okafor", "organisation": "St Mary's"}]
    assert (event.staff_ids, event.location, event.duration_minutes) == (["nurse-2"], "ward 4", 30)
    assert event.with_client


def test_without_participants_a_client_contact_has_the_client() -> None:
    case = opened_case()

    case.record_note("n-1", "Phoned", "client", "phone", [])

    event = last_event(case)
    assert isinstance(event, Case.ProgressNoteRecorded)
    assert event.client_participated and event.contact_status == "happened"


@pytest.mark.parametrize("status", ["happened", "attempted"])
def test_a_support_contact_who_may_not_be_contacted_is_refused(status: str) -> None:
    case = opened_case()

    with pytest.raises(ContactNotPermittedError, match=r"Luis \(dad\) may not be contacted"):
        note(case, support_contact_ids=["dad"], contact_status=status)

    assert case.notes_recorded == 0


def test_a_support_contact_who_may_not_be_contacted_can_be_named_in_a_no_show() -> None:
    case = opened_case()

    note(case, support_contact_ids=["dad"], contact_status="no_show")

    assert case.notes_recorded == 1


@pytest.mark.parametrize("contact_id", ["nobody", "ex"])
def test_a_support_contact_not_in_the_clients_current_network_is_refused(
    contact_id: str,
) -> None:
    with pytest.raises(UnknownReferenceError, match=f"no current support contact {contact_id}"):
        note(opened_case(), support_contact_ids=[contact_id])


@pytest.mark.parametrize(
    ("contact", "message"),
    [
        ({"contact_status": "maybe"}, "contact_status must be one of"),
        ({"duration_minutes": -1}, "duration_minutes"),
        ({"duration_minutes": 2000}, "duration_minutes"),
        ({"duration_minutes": True}, "duration_minutes"),
        ({"staff_ids": ["a", "a"]}, "more than once"),
        ({"staff_ids": [" "]}, "blank id"),
        ({"staff_ids": "abc"}, "staff_ids must be a list"),
        ({"providers": [{"organisation": "GP"}]}, r"providers\[0\].name is required"),
        ({"providers": [{"name": "A", "phone": "1"}]}, "unknown fields: phone"),
        ({"client_participated": "yes"}, "true or false"),
    ],
)
def test_bad_contact_values_are_refused(contact: dict[str, Any], message: str) -> None:
    case = opened_case()

    with pytest.raises(InvalidValueError, match=message):
        note(case, **contact)

    assert case.notes_recorded == 0


def test_a_note_concerns_goals_and_referrals_of_the_case() -> None:
    case = opened_case()
    plan_id = with_plan(case)
    case.add_goal("g-1", plan_id, "Sleep", "psychiatric", "", None)
    referral_id = with_referral(case)

    note(case, goal_ids=["g-1"], referral_ids=[referral_id])

    event = last_event(case)
    assert isinstance(event, Case.ProgressNoteRecorded)
    assert event.index_links() == [("goal", "g-1"), ("referral", referral_id)]


@pytest.mark.parametrize(("field", "kind"), [("goal_ids", "goal"), ("referral_ids", "referral")])
def test_a_note_concerning_a_goal_or_referral_the_case_lacks_is_refused(
    field: str, kind: str
) -> None:
    with pytest.raises(UnknownReferenceError, match=f"no {kind} x-1 on this case") as refused:
        note(opened_case(), **{field: ["x-1"]})

    assert refused.value.details == {"kind": kind, "id": "x-1"}


@pytest.mark.parametrize(
    ("participated", "status", "with_client"),
    [(True, "happened", True), (True, "no_show", False), (False, "happened", False)],
)
def test_only_a_contact_the_client_took_part_in_that_happened_is_with_the_client(
    participated: bool, status: str, with_client: bool
) -> None:
    case = opened_case()

    note(case, client_participated=participated, contact_status=status)

    event = last_event(case)
    assert isinstance(event, Case.ProgressNoteRecorded)
    assert event.with_client is with_client


@pytest.mark.parametrize(("kind", "client"), [("client", True), ("provider", False)])
def test_a_note_of_the_first_version_reads_with_the_client_only_in_a_client_contact(
    kind: str, client: bool
) -> None:
    case = opened_case()
    case.record_note("n-1", "Phoned", kind, "phone", ["GP"])
    codec = mapper()
    stored = codec.to_stored_event(last_event(case))
    state = codec.transcoder.decode(stored.state)
    v1 = {k: v for k, v in state.items() if k in V1_FIELDS}
    old = type(stored)(
        stored.originator_id, stored.originator_version, stored.topic, codec.transcoder.encode(v1)
    )

    read = codec.to_domain_event(old)

    assert isinstance(read, Case.ProgressNoteRecorded)
    assert read.client_participated is client
    assert (read.contact_status, read.goal_ids, read.providers) == ("happened", [], [])
    assert read.present == ["GP"]


V1_FIELDS = {
    "timestamp",
    "actor_id",
    "actor_role",
    "actor_agency_id",
    "effective_at",
    "reason",
    "correlation_id",
    "note_id",
    "text",
    "contact_kind",
    "contact_mode",
    "present",
}
