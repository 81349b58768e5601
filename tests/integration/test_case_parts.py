"""CaseRecords: one part of a record by its id, the id of what a command created, and
revisions that name only what changes."""

from datetime import date
from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.errors import (
    EntryNotFoundError,
    GoalNotFoundError,
    NoteNotFoundError,
    SupportContactNotFoundError,
)
from caserecord.domain.recording import Actor
from tests.factories import a_client, an_active_plan, an_open_case


def a_goal(app: CaseRecords, actor: Actor, case_id: UUID, plan_id: str) -> str:
    goal_id = app.add_goal(
        actor, case_id, plan_id=plan_id, description="90 days sober",
        need_domain="therapeutic", target_measure="days", due_on=date(2027, 6, 1),
    ).entity_id  # fmt: skip
    assert goal_id is not None
    return goal_id


def test_entries_without_an_id_of_their_own_are_known_by_the_version_that_recorded_them(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    assessed = sqlite_records.assess_needs(
        worker, case_id, assessments=[{"domain": "medical", "level": "low"}]
    )
    reviewed = sqlite_records.review_prior_treatment(
        worker, case_id, treatment="Detox", effectiveness=3
    )

    assert assessed.entity_id == str(assessed.version) == "2"
    assert reviewed.entity_id == str(reviewed.version) == "3"
    rated = sqlite_records.get_assessment(worker, case_id, 2)["assessments"]
    assert [(a["domain"], a["level"]) for a in rated] == [("medical", "low")]
    assert sqlite_records.get_prior_treatment(worker, case_id, 3)["treatment"] == "Detox"
    with pytest.raises(EntryNotFoundError):
        sqlite_records.get_assessment(worker, case_id, 3)


def test_a_plan_revision_names_its_version_number_and_keeps_what_it_does_not_name(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    plan_id = an_active_plan(sqlite_records, worker, case_id)

    revised = sqlite_records.revise_plan(
        worker, case_id, plan_id=plan_id, title="Recovery plan v2", reason="renamed"
    )
    cleared = sqlite_records.revise_plan(
        worker, case_id, plan_id=plan_id, activities=None, reason="paused"
    )

    assert (revised.entity_id, cleared.entity_id) == ("2", "3")
    v2 = sqlite_records.get_plan_version(worker, case_id, plan_id, 2)
    v3 = sqlite_records.get_plan_version(worker, case_id, plan_id, 3)
    assert v2["activities"] == [{"activity": "AA meeting", "cadence": "weekly", "time": "19:00"}]
    assert v2["next_review_on"] == date(2027, 3, 1)
    assert (v3["title"], v3["activities"], v3["next_review_on"]) == (
        "Recovery plan v2",
        [],
        date(2027, 3, 1),
    )
    plan = sqlite_records.get_plan(worker, case_id, plan_id)
    assert [v["number"] for v in plan["versions"]] == [1, 2, 3]


def test_a_goal_revision_keeps_what_it_does_not_name(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    goal_id = a_goal(
        sqlite_records, worker, case_id, an_active_plan(sqlite_records, worker, case_id)
    )

    sqlite_records.revise_goal(worker, case_id, goal_id=goal_id, description="120 days")
    sqlite_records.revise_goal(worker, case_id, goal_id=goal_id, target_measure=None)

    goal = sqlite_records.get_goal(worker, case_id, goal_id)
    assert (goal["description"], goal["need_domain"]) == ("120 days", "therapeutic")
    assert (goal["target_measure"], goal["due_on"]) == ("", date(2027, 6, 1))
    assert len(goal["revisions"]) == 3


def test_a_progress_entry_and_a_note_read_back_by_their_ids(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    goal_id = a_goal(
        sqlite_records, worker, case_id, an_active_plan(sqlite_records, worker, case_id)
    )
    sqlite_records.change_goal_lifecycle(worker, case_id, goal_id=goal_id, lifecycle="active")
    progress = sqlite_records.record_goal_progress(
        worker, case_id, goal_id=goal_id, achievement="improving", measured_value="21"
    )
    note = sqlite_records.record_note(
        worker, case_id, text="Visit", contact_kind="client", contact_mode="in_person"
    )
    assert progress.entity_id is not None and note.entity_id is not None
    addendum = sqlite_records.append_addendum(worker, case_id, note_id=note.entity_id, text="PS")
    assert addendum.entity_id is not None

    entry = sqlite_records.get_progress(worker, case_id, goal_id, int(progress.entity_id))
    read = sqlite_records.get_note(worker, case_id, note.entity_id)
    added = sqlite_records.get_addendum(worker, case_id, note.entity_id, int(addendum.entity_id))

    assert (entry["achievement"], entry["measured_value"]) == ("improving", "21")
    assert read["text"] == "Visit" and [a["text"] for a in read["addenda"]] == ["PS"]
    assert added["text"] == "PS"
    with pytest.raises(EntryNotFoundError):
        sqlite_records.get_progress(worker, case_id, goal_id, note.version)
    with pytest.raises(GoalNotFoundError):
        sqlite_records.get_goal(worker, case_id, "no-such-goal")


def test_a_note_marked_in_error_and_a_removed_contact_are_no_longer_found(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    client_id = a_client(sqlite_records, worker)
    case_id = an_open_case(sqlite_records, worker, client_id)
    note = sqlite_records.record_note(
        worker, case_id, text="Wrong case", contact_kind="client", contact_mode="phone"
    )
    contact = sqlite_records.add_support_contact(
        worker, client_id, name="Eva", relationship="family"
    )
    assert note.entity_id is not None and contact.entity_id is not None
    assert sqlite_records.get_support_contact(worker, client_id, contact.entity_id)["name"] == "Eva"

    sqlite_records.mark_entry_in_error(
        worker, case_id, target_version=note.version, reason="wrong case"
    )
    sqlite_records.remove_support_contact(
        worker, client_id, contact_id=contact.entity_id, reason="asked"
    )

    with pytest.raises(NoteNotFoundError):
        sqlite_records.get_note(worker, case_id, note.entity_id)
    with pytest.raises(SupportContactNotFoundError):
        sqlite_records.get_support_contact(worker, client_id, contact.entity_id)
