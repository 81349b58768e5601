"""Small builders so tests say only what matters to them."""

import itertools
import os
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from caserecord.application import CaseRecords
from caserecord.domain.case import Case
from caserecord.domain.client import Client
from caserecord.domain.recording import Actor, Recording, recording

NUMBERS = itertools.count(1001)  # with the process id: writer processes share a store


def a_client(app: CaseRecords, actor: Actor, **overrides: object) -> UUID:
    """A client; each call another person (its own number, and said to be distinct from
    any namesake), so tests can register as many as they need."""
    values: dict[str, object] = {
        "given_name": "Maria",
        "family_name": "Lopez",
        "date_of_birth": date(1984, 5, 17),
        "client_number": f"C-{os.getpid()}-{next(NUMBERS)}",
        "preferred_language": "es",
        "phone": "555-0100",
        "confirmed_distinct": True,
    } | overrides
    return app.register_client(actor, **values).id  # type: ignore[arg-type]


def an_open_case(
    app: CaseRecords, actor: Actor, client_id: UUID | None = None, **opts: Any
) -> UUID:
    """``opts``: the intake's options, e.g. ``effective_at`` to backdate it (entries of the
    case cannot be effective before it opened)."""
    client_id = client_id or a_client(app, actor)
    return app.open_case(
        actor,
        client_id=client_id,
        specialty="social_work",
        referral_source="county court",
        presenting_needs=["alcohol use", "housing instability"],
        interview_summary="Client requests help with sobriety and stable housing.",
        case_manager_id=actor.id,
        **opts,
    ).id


def an_active_plan(app: CaseRecords, actor: Actor, case_id: UUID) -> str:
    plan_id = app.draft_plan(
        actor,
        case_id,
        title="Recovery plan",
        activities=[{"activity": "AA meeting", "cadence": "weekly", "time": "19:00"}],
        next_review_on=date(2027, 3, 1),
    ).entity_id
    assert plan_id is not None
    app.change_plan_status(actor, case_id, plan_id=plan_id, action="activate")
    return plan_id


def all_notes(app: CaseRecords, actor: Actor, case_id: UUID) -> list[dict[str, Any]]:
    """Every note standing in the case, oldest first (a case shows only its latest)."""
    found: list[dict[str, Any]] = []
    before = None
    while True:
        page = app.case_notes(actor, case_id, limit=100, before=before)
        found += page["items"]
        before = page["next_before"]
        if before is None:
            return found[::-1]


def all_notes_over_http(http: Any, case_id: UUID | str) -> list[dict[str, Any]]:
    """The same through GET /v1/cases/{id}/notes (any httpx-like client)."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        response = http.get(f"/v1/cases/{case_id}/notes", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["items"]
        if page["next"] is None:
            return found[::-1]
        params["cursor"] = page["next"]


# ---- bulk history, written past the service's commands ----

BUSY = Actor("worker-b", "caseworker", "agency-b")


def registrations(count: int, actor: Actor = BUSY) -> list[DomainEventProtocol[Any]]:
    """``count`` client registrations of ``actor``'s agency, to write in one transaction."""
    with recording(Recording(actor)):
        clients = [
            Client(actor.agency_id, "Busy", f"Client {n}", None, "", "", "", "", "")
            for n in range(count)
        ]
    return [e for c in clients for e in c.collect_events()]


def many_events(records: CaseRecords, actor: Actor, cases: int, notes: int) -> int:
    """Bulk history: many notes per write, and no snapshots (they would take longer than
    the events), so thousands of events take little time."""
    for _ in range(cases):
        case_id = an_open_case(records, actor)
        case: object = records.repository.get(case_id)
        assert isinstance(case, Case)
        with recording(Recording(actor)):
            for i in range(notes):
                case.record_note(f"n{case_id}{i}", f"note {i}", "client", "phone", [])
        records.events.put(case.collect_events())
    return int(records.recorder.max_notification_id() or 0)
