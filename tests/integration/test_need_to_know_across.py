"""Need-to-know on the surfaces that read many cases at once: the audit trail, the event
feed, the worklist, a client's scores and the exports (the bulk on SQLite; the audit trail
on both stores)."""

from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.consent import form_hash
from caserecord.domain.recording import Actor
from caserecord.projections import ProjectionService
from caserecord.projections.worklist import contact_standards
from tests.factories import a_client

OTHER = Actor("worker-2", "caseworker", "agency-a")
REVIEWER = Actor("rita", "compliance_reviewer", "agency-a")
SECRET = "Session content."
DUE = date(2027, 1, 4)


@pytest.fixture
def views(sqlite_url: str, sqlite_records: CaseRecords) -> Iterator[ProjectionService]:
    service = ProjectionService(Settings(database_url=sqlite_url))
    yield service
    service.close()


def a_part2_case(records: CaseRecords, worker: Actor) -> tuple[UUID, int, int]:
    """A substance-use case managed by ``worker`` with a psychotherapy note by them and an
    addendum to it: the case id, the note's version and the addendum's."""
    case_id = records.open_case(
        worker,
        client_id=a_client(records, worker),
        specialty="substance_abuse",
        referral_source="drug court",
        presenting_needs=["opioid use"],
        interview_summary="Wants treatment.",
        case_manager_id=worker.id,
    ).id
    psy = records.record_note(
        worker, case_id, text=SECRET, contact_mode="in_person", labels=["psychotherapy_notes"]
    )
    assert psy.entity_id is not None
    addendum = records.append_addendum(worker, case_id, note_id=psy.entity_id, text="More.")
    return case_id, psy.version, addendum.version


def name_in_consent(records: CaseRecords, actor: Actor, case_id: UUID, staff_id: str) -> None:
    """A consent in force naming ``staff_id`` for the client's psychotherapy notes."""
    records.grant_consent(
        actor,
        records.client_of_case(actor, case_id),
        recipient_kind="person",
        recipient=staff_id,
        purpose="treatment",
        data=["psychotherapy_notes"],
        form_sha256=form_hash(b"signed"),
        expires_on_event="end_of_treatment",
        expires_with_case=case_id,
    )


def audit_of(
    records: CaseRecords, views: ProjectionService, reader: Actor, case_id: UUID
) -> dict[int, dict[str, Any]]:
    views.catch_up()
    rows = views.queries.audit_trail(reader.agency_id, case_id=case_id, limit=100)
    return {r["version"]: r for r in records.audit_rows(reader, rows)}


@pytest.mark.parametrize("reader", [REVIEWER, Actor("super-1", "supervisor", "agency-a")])
def test_the_audit_trail_keeps_a_psychotherapy_note_and_its_addendum_from_an_auditor(
    records: CaseRecords, projections: ProjectionService, worker: Actor, reader: Actor
) -> None:
    case_id, note, addendum = a_part2_case(records, worker)
    records.mark_entry_in_error(
        worker, case_id, target_version=addendum, reason=f"repeats: {SECRET}"
    )

    rows = audit_of(records, projections, reader, case_id)

    restricted = {v for v, r in rows.items() if r["restricted"]}
    assert restricted == {note, addendum, addendum + 1}
    for version in restricted:
        assert rows[version]["summary"] == rows[version]["event_type"]
        assert rows[version]["reason"] == ""
        assert "psychotherapy_notes" in rows[version]["labels"]
    assert rows[1]["summary"].startswith("Case opened") and rows[1]["labels"] == ["substance_use"]
    assert all("entry_author" not in r for r in rows.values())


def test_the_audit_trail_shows_a_psychotherapy_note_to_its_author_and_to_whom_a_consent_names(
    sqlite_records: CaseRecords, views: ProjectionService, supervisor: Actor
) -> None:
    records = sqlite_records
    case_id, note, addendum = a_part2_case(records, supervisor)
    boss = Actor("super-2", "supervisor", "agency-a")
    before = audit_of(records, views, boss, case_id)
    name_in_consent(records, supervisor, case_id, boss.id)

    own = audit_of(records, views, supervisor, case_id)
    named = audit_of(records, views, boss, case_id)

    assert [before[v]["restricted"] for v in (note, addendum)] == [True, True]
    assert [own[v]["restricted"] for v in (note, addendum)] == [False, False]
    assert [named[v]["restricted"] for v in (note, addendum)] == [False, False]


def test_a_relabelling_reaches_the_audit_rows_of_the_entry_and_of_what_is_about_it(
    sqlite_records: CaseRecords, views: ProjectionService, worker: Actor
) -> None:
    records = sqlite_records
    case_id, note, addendum = a_part2_case(records, worker)
    records.relabel_entry(
        worker, case_id, target_version=note, labels=["substance_use"], reason="not therapy"
    )

    rows = audit_of(records, views, REVIEWER, case_id)

    assert [rows[v]["restricted"] for v in (note, addendum)] == [False, False]
    assert rows[note]["labels"] == ["substance_use"]
    assert rows[addendum + 1]["event_type"] == "EntryRelabelled"
    assert rows[addendum + 1]["reason"] == "not therapy"


def test_an_auditor_s_audit_page_loads_no_case(
    sqlite_records: CaseRecords,
    views: ProjectionService,
    worker: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records = sqlite_records
    for _ in range(3):
        a_part2_case(records, worker)
    views.catch_up()
    rows = views.queries.audit_trail("agency-a", limit=100)

    def refuse(*args: object) -> None:
        raise AssertionError("a case was loaded for an auditor's page")

    monkeypatch.setattr(records, "relation_to", refuse)
    monkeypatch.setattr(records, "_get", refuse)
    shown = records.audit_rows(REVIEWER, rows)

    assert sum(r["restricted"] for r in shown) == 6


def test_the_feed_reads_what_is_about_a_psychotherapy_note_as_the_note(
    sqlite_records: CaseRecords, supervisor: Actor
) -> None:
    records = sqlite_records
    worker = Actor("worker-1", "caseworker", "agency-a")
    case_id, note, addendum = a_part2_case(records, worker)
    note_id = records.get_case(worker, case_id)["notes"][0]["note_id"]
    task = records.create_task(
        worker,
        case_id,
        title=f"Follow up: {SECRET}",
        owner_id=worker.id,
        due_on=DUE,
        concerns="note",
        concerns_id=note_id,
    ).version
    marking = records.mark_entry_in_error(
        worker, case_id, target_version=addendum, reason=f"repeats: {SECRET}"
    ).version

    events = [
        e
        for e in records.case_events(worker, case_id)  # the case manager's: whole
        if e["stream_id"] == case_id
    ]
    as_read = {int(e["version"]): e for e in records.events_as_read(supervisor, events)}

    assert {v for v, e in as_read.items() if e["restricted"]} == {note, addendum, task, marking}
    assert SECRET not in repr([as_read[v] for v in (note, addendum, task, marking)])
    assert as_read[1]["data"]["interview_summary"] == "Wants treatment."


def test_the_feed_shows_a_caseworker_outside_the_case_no_labelled_content(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    records = sqlite_records
    case_id, _, _ = a_part2_case(records, worker)
    events = [e for e in records.case_events(worker, case_id) if e["stream_id"] == case_id]

    as_read = records.events_as_read(OTHER, events)
    own = records.events_as_read(worker, events)

    assert all(e["restricted"] and e["data"] == {} for e in as_read)
    assert [e["restricted"] for e in own] == [False] * len(own)


def worklist_of(
    records: CaseRecords, views: ProjectionService, reader: Actor, owner: str
) -> dict[str, dict[str, Any]]:
    views.catch_up()
    rows = views.queries.worklist("agency-a", owner_id=owner, standards=contact_standards(""))
    return {r["kind"] + ":" + r["title"][:9]: r for r in records.worklist_items(reader, rows)}


def test_a_task_on_a_part2_case_shows_its_owner_outside_the_case_only_that_it_is_due(
    sqlite_records: CaseRecords, views: ProjectionService, worker: Actor
) -> None:
    records = sqlite_records
    case_id, _, _ = a_part2_case(records, worker)
    records.create_task(
        worker, case_id, title="Call the methadone clinic", owner_id=OTHER.id, due_on=DUE
    )

    theirs = list(worklist_of(records, views, OTHER, OTHER.id).values())
    by_manager = list(worklist_of(records, views, supervisor_of(), OTHER.id).values())

    assert [(i["kind"], i["title"], i["restricted"]) for i in theirs] == [
        ("task", "Restricted entry", True)
    ]
    assert theirs[0]["due_on"] == DUE and theirs[0]["labels"] == ["substance_use"]
    assert by_manager[0]["title"] == "Call the methadone clinic"


def test_a_task_on_a_psychotherapy_note_is_read_as_the_note_and_a_safety_flag_as_its_entry(
    sqlite_records: CaseRecords, views: ProjectionService, worker: Actor
) -> None:
    records = sqlite_records
    case_id, _, _ = a_part2_case(records, worker)
    note_id = records.get_case(worker, case_id)["notes"][0]["note_id"]
    records.create_task(
        worker,
        case_id,
        title=f"Reflect on {SECRET}",
        owner_id=worker.id,
        due_on=DUE,
        concerns="note",
        concerns_id=note_id,
    )
    records.administer_instrument(
        worker, case_id, instrument="phq-9", respondent="client",
        responses={str(i): 1 for i in range(1, 10)},
    )  # fmt: skip

    own = worklist_of(records, views, worker, worker.id)
    boss = worklist_of(records, views, supervisor_of(), worker.id)
    other = worklist_of(records, views, OTHER, worker.id)

    task = next(k for k in own if k.startswith("task:"))
    flag = next(k for k in own if k.startswith("safety_flag:"))
    assert own[task]["title"] == f"Reflect on {SECRET}"
    assert "psychotherapy_notes" in own[task]["labels"]
    assert boss.get(task) is None and "task:Restricte" in boss
    assert not boss[flag]["restricted"]
    assert {i["title"] for i in other.values() if i["labels"]} == {"Restricted entry"}


def supervisor_of() -> Actor:
    return Actor("super-1", "supervisor", "agency-a")


def test_a_client_s_score_trend_blanks_the_scores_of_a_case_the_reader_may_not_read(
    sqlite_records: CaseRecords, views: ProjectionService, worker: Actor
) -> None:
    records = sqlite_records
    part2, _, _ = a_part2_case(records, worker)
    client_id = records.client_of_case(worker, part2)
    general = records.open_case(
        OTHER,
        client_id=client_id,
        specialty="social_work",
        referral_source="self",
        presenting_needs=["housing"],
        interview_summary="Needs a flat.",
        case_manager_id=OTHER.id,
    ).id
    for case_id, actor in ((part2, worker), (general, OTHER)):
        records.administer_instrument(
            actor, case_id, instrument="phq-9", respondent="client",
            responses={str(i): 1 for i in range(1, 10)},
        )  # fmt: skip
    views.catch_up()
    rows = views.queries.client_scores("agency-a", client_id)

    trend = {r["case_id"]: r for r in records.scores_as_read(OTHER, rows, client_id)}
    flags = records.scores_as_read(OTHER, views.queries.safety_flags("agency-a"))

    assert trend[general]["total"] == 9 and not trend[general]["restricted"]
    assert trend[part2]["restricted"] and trend[part2]["total"] is None
    assert trend[part2]["flags"] == [] and trend[part2]["band"] is None
    assert [(f["case_id"], f["restricted"], f["flags"]) for f in flags] == [
        (part2, True, []),
        (general, False, trend[general]["flags"]),
    ]
    assert all(not r["restricted"] for r in records.scores_as_read(worker, rows, client_id))
