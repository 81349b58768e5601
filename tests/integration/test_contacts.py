"""Contacts as practice records them: every participant at once, the client's consent for
their support network, the goals and referrals a note concerns, and the caseload's last
contact with the client, on SQLite and PostgreSQL."""

from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.errors import (
    ContactNotPermittedError,
    InvalidValueError,
    UnknownReferenceError,
)
from caserecord.domain.recording import Actor
from caserecord.projections import ProjectionService
from tests.factories import a_client, an_active_plan, an_open_case


def a_case_with_network(app: CaseRecords, actor: Actor) -> tuple[UUID, str, str]:
    """A case whose client has a sister who may be contacted and a father who may not."""
    client_id = a_client(app, actor)
    sister = app.add_support_contact(actor, client_id, name="Rosa", relationship="family")
    father = app.add_support_contact(
        actor, client_id, name="Luis", relationship="family", may_contact=False
    )
    assert sister.entity_id is not None and father.entity_id is not None
    return an_open_case(app, actor, client_id), sister.entity_id, father.entity_id


def test_a_note_records_every_kind_of_participant_at_once(
    records: CaseRecords, worker: Actor
) -> None:
    case_id, sister, _ = a_case_with_network(records, worker)

    noted = records.record_note(
        worker,
        case_id,
        text="Family meeting about discharge housing.",
        contact_mode="in_person",
        participants={
            "client": True,
            "support_contact_ids": [sister],
            "providers": [{"name": "Dr Okafor", "organisation": "St Mary's"}],
            "staff_ids": ["nurse-2"],
        },
        location="St Mary's ward 4",
        duration_minutes=45,
    )

    note = records.get_note(worker, case_id, str(noted.entity_id))
    assert note["participants"] == {
        "client": True,
        "support_contact_ids": [sister],
        "providers": [{"name": "Dr Okafor", "organisation": "St Mary's"}],
        "staff_ids": ["nurse-2"],
    }
    assert (note["contact_kind"], note["contact_status"]) == ("client", "happened")
    assert (note["location"], note["duration_minutes"]) == ("St Mary's ward 4", 45)


def test_a_note_in_the_old_shape_has_the_client_taking_part_in_a_client_contact(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)

    client = records.record_note(
        worker, case_id, text="Phoned", contact_kind="client", contact_mode="phone"
    )
    provider = records.record_note(
        worker, case_id, text="GP called", contact_kind="provider", contact_mode="phone"
    )

    assert records.get_note(worker, case_id, str(client.entity_id))["participants"]["client"]
    assert not records.get_note(worker, case_id, str(provider.entity_id))["participants"]["client"]


def test_a_support_contact_who_may_not_be_contacted_is_refused_and_named(
    records: CaseRecords, worker: Actor
) -> None:
    case_id, _, father = a_case_with_network(records, worker)
    version = records.get_case(worker, case_id)["version"]

    with pytest.raises(ContactNotPermittedError, match="Luis") as refused:
        records.record_note(
            worker,
            case_id,
            text="Called the father",
            contact_mode="phone",
            participants={"support_contact_ids": [father]},
        )

    assert refused.value.details == {"contact_id": father, "name": "Luis"}
    assert records.get_case(worker, case_id)["version"] == version


def test_a_support_contact_the_client_does_not_have_is_refused(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)

    with pytest.raises(UnknownReferenceError, match="no current support contact"):
        records.record_note(
            worker,
            case_id,
            text="Called",
            contact_mode="phone",
            participants={"support_contact_ids": ["someone"]},
        )


def test_the_goal_and_referral_pages_show_the_notes_that_concern_them(
    records: CaseRecords, worker: Actor, supervisor: Actor
) -> None:
    case_id = an_open_case(records, worker)
    plan_id = an_active_plan(records, worker, case_id)
    goal_id = records.add_goal(
        worker, case_id, plan_id=plan_id, description="Stay sober", need_domain="therapeutic"
    ).entity_id
    referral_id = records.make_referral(
        worker, case_id, resource_kind="housing", organisation="Shelter", service_name="Beds"
    ).entity_id
    assert goal_id is not None and referral_id is not None
    both = records.record_note(
        worker,
        case_id,
        text="Talked sobriety and housing",
        contact_mode="phone",
        goal_ids=[goal_id],
        referral_ids=[referral_id],
    )
    wrong = records.record_note(
        worker, case_id, text="Wrong goal", contact_mode="phone", goal_ids=[goal_id]
    )
    records.record_note(worker, case_id, text="Unrelated", contact_mode="phone")
    records.mark_entry_in_error(
        supervisor, case_id, target_version=wrong.version, reason="wrong case"
    )

    goal = records.get_goal(worker, case_id, goal_id)
    referral = records.get_referral(worker, case_id, referral_id)

    assert [n["note_id"] for n in goal["notes"]] == [both.entity_id]
    assert [n["note_id"] for n in referral["notes"]] == [both.entity_id]
    assert goal["notes"][0]["goal_ids"] == [goal_id]


def test_a_note_naming_a_goal_or_referral_the_case_does_not_have_is_refused(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)

    with pytest.raises(UnknownReferenceError, match="no goal nope"):
        records.record_note(worker, case_id, text="x", contact_mode="phone", goal_ids=["nope"])
    with pytest.raises(UnknownReferenceError, match="no referral nope"):
        records.record_note(worker, case_id, text="x", contact_mode="phone", referral_ids=["nope"])


def test_only_a_contact_with_the_client_that_happened_is_the_last_contact(
    records: CaseRecords, worker: Actor, projections: ProjectionService
) -> None:
    case_id = an_open_case(records, worker)
    met = records.record_note(worker, case_id, text="Met", contact_mode="in_person")
    records.record_note(
        worker,
        case_id,
        text="Probation officer called",
        contact_mode="phone",
        participants={"providers": [{"name": "J. Reyes", "organisation": "Probation"}]},
    )
    records.record_note(
        worker,
        case_id,
        text="Did not come",
        contact_mode="in_person",
        participants={"client": True},
        contact_status="no_show",
    )

    projections.catch_up()

    [row] = projections.queries.caseload("agency-a", case_manager_id=worker.id)
    met_note = records.get_note(worker, case_id, str(met.entity_id))
    assert row["last_contact_at"] == met_note["effective_at"]


def test_the_notes_about_a_goal_come_in_pages_newest_first(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    plan_id = an_active_plan(records, worker, case_id)
    goal_id = records.add_goal(
        worker, case_id, plan_id=plan_id, description="Stay sober", need_domain="therapeutic"
    ).entity_id
    assert goal_id is not None
    about = []
    for i in range(5):
        records.record_note(worker, case_id, text=f"other {i}", contact_mode="phone")
        noted = records.record_note(
            worker, case_id, text=f"about {i}", contact_mode="phone", goal_ids=[goal_id]
        )
        about.append(noted.entity_id)

    first = records.case_notes(worker, case_id, limit=3, concerning=("goal", goal_id))
    rest = records.case_notes(
        worker, case_id, limit=3, before=first["next_before"], concerning=("goal", goal_id)
    )

    assert [n["note_id"] for n in first["items"]] == about[:1:-1]
    assert [n["note_id"] for n in rest["items"]] == about[1::-1]
    assert rest["next_before"] is None


def test_a_client_contact_without_the_client_is_refused(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)

    with pytest.raises(InvalidValueError, match="client among its participants"):
        sqlite_records.record_note(
            worker,
            case_id,
            text="x",
            contact_kind="client",
            contact_mode="phone",
            participants={"client": False},
        )
