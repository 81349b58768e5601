"""Pages of oversight: the audit trail, a client's access log, a case's verification and
export, and the agency's caseloads by case manager."""

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response

from caserecord.access import Subject, listed_subjects
from caserecord.console.web import (
    PREFIX,
    AuditorDep,
    ConsoleDep,
    ConsoleRoute,
    PageError,
    ReaderDep,
    day_start,
    query,
    reveal,
)
from caserecord.domain.values import CaseStatus
from caserecord.projections.caseload import caseload_key
from caserecord.projections.summaries import SUMMARIES, unknown_event_type
from caserecord.projections.worklist import contact_due, contact_standards

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

PAGE = 50
Text = Annotated[str, Query(max_length=200)]
# The caseload page reads at most this many open cases of the agency.
CASELOAD_LIMIT = 5000


def uuid_or_none(text: str, name: str) -> UUID | None:
    if not text.strip():
        return None
    try:
        return UUID(text.strip())
    except ValueError:
        raise PageError(
            400,
            "Cannot filter",
            f"{name} {text!r} is not an id: give the whole id, as the {name}'s address has it",
        ) from None


@router.get("/audit")
def audit_trail(
    request: Request,
    console: ConsoleDep,
    viewer: AuditorDep,
    case_id: Text = "",
    client_id: Text = "",
    actor: Text = "",
    event_type: Text = "",
    since: Text = "",
    until: Text = "",
    after: Annotated[int | None, Query(ge=0, le=2**53)] = None,
) -> HTMLResponse:
    """Who recorded what and when across the agency's records, in recording order."""
    filters = {
        "case_id": case_id,
        "client_id": client_id,
        "actor": actor,
        "event_type": event_type,
        "since": since,
        "until": until,
    }
    try:
        case, client = uuid_or_none(case_id, "case"), uuid_or_none(client_id, "client")
        start = day_start(since) if since else None
        end = day_start(until) + timedelta(days=1, microseconds=-1) if until else None
        if event_type.strip() and (unknown := unknown_event_type(event_type.strip())):
            raise PageError(400, "Cannot filter", f"{unknown}: pick one from the list")
    except PageError as e:
        # The form again with every filter as typed, rather than an error page that
        # loses them all; no record is shown, so nothing is logged.
        return console.render(
            request,
            "audit.html",
            viewer,
            e.status,
            rows=[],
            filters=filters,
            problem=e.detail,
            next_page=None,
            first_page=None,
            event_types=sorted(SUMMARIES),
        )
    rows = console.backend.views.audit_trail(
        viewer.actor.agency_id,
        case_id=case,
        client_id=client,
        actor_id=actor.strip() or None,
        event_type=event_type.strip() or None,
        since=start,
        until=end,
        after=after,
        limit=PAGE + 1,
    )
    page, more = rows[:PAGE], len(rows) > PAGE
    page = console.backend.records.audit_rows(viewer.actor, page)
    reveal(console, viewer, "read_audit_trail", listed_subjects(page))
    return console.render(
        request,
        "audit.html",
        viewer,
        rows=page,
        filters=filters,
        problem="",
        next_page=query(**filters, after=page[-1]["position"]) if more else None,
        first_page=query(**filters) if after is not None else None,
        event_types=sorted(SUMMARIES),
    )


@router.get("/clients/{client_id}/access-log")
def access_log(
    request: Request,
    client_id: UUID,
    console: ConsoleDep,
    viewer: AuditorDep,
    after: Annotated[int, Query(ge=0, le=2**53)] = 0,
) -> HTMLResponse:
    """Who has read this client's records, oldest first, one entry per page view or API
    read, naming what it showed."""
    client = console.backend.records.get_client(viewer.actor, client_id)
    reveal(console, viewer, "read_access_log", [Subject(client_id)])
    entries = console.backend.access_log.for_client(
        viewer.actor.agency_id, client_id, after=after, limit=PAGE + 1
    )
    page, more = entries[:PAGE], len(entries) > PAGE
    integrity = console.backend.access_log.integrity(
        viewer.actor.agency_id, client_id, entries, after=after
    )
    return console.render(
        request,
        "access_log.html",
        viewer,
        client=client,
        entries=page,
        integrity=integrity,
        next_page=query(after=page[-1]["entry_id"]) if more else None,
        first_page=after > 0,
    )


@router.get("/cases/{case_id}/verification")
def verification(
    request: Request, case_id: UUID, console: ConsoleDep, viewer: AuditorDep
) -> HTMLResponse:
    """The hash chains of the case's and its client's streams, recomputed from what is
    stored, and the export a reviewer checks offline."""
    records = console.backend.records
    streams = records.verify_case(viewer.actor, case_id)
    client_id = records.client_of_case(viewer.actor, case_id)
    reveal(console, viewer, "verify_case", [Subject(client_id, case_id)])
    settings = console.backend.settings
    covered = records.checkpoint_coverage(
        streams, settings.checkpoint_dir, settings.checkpoint_public_key
    )
    return console.render(
        request,
        "verification.html",
        viewer,
        case_id=case_id,
        client=records.get_client(viewer.actor, client_id),
        ok=all(s.ok for s in streams) and covered["ok"],
        chains_ok=all(s.ok for s in streams),
        coverage=covered,
        streams=[
            {**vars(s), "kind": "case" if str(s.stream_id) == str(case_id) else "client"}
            for s in streams
        ],
        checked_at=datetime.now(UTC),
    )


@router.get("/cases/{case_id}/export")
def export(
    case_id: UUID,
    console: ConsoleDep,
    viewer: AuditorDep,
    stream: Annotated[str, Query(pattern="^(case|client)$")] = "case",
) -> Response:
    """The stream's stored records and links, as ``caserecord chain export`` writes them,
    for ``caserecord chain check`` against a signed checkpoint."""
    records = console.backend.records
    client_id = records.client_of_case(viewer.actor, case_id)
    stream_id = case_id if stream == "case" else client_id
    document = records.export_stream(stream_id)
    reveal(console, viewer, f"export_{stream}", [Subject(client_id, case_id)])
    body = json.dumps(document, indent=2, sort_keys=True) + "\n"
    name = f"{stream}-{stream_id}.json"
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/caseloads")
def caseloads(request: Request, console: ConsoleDep, viewer: ReaderDep) -> HTMLResponse:
    """Open cases per case manager with what is overdue: reviews, referrals past their
    respond-by date, and client contact past its specialty's standard (the worklist's)."""
    views, agency = console.backend.views, viewer.actor.agency_id
    cases: list[dict[str, Any]] = []
    after: tuple[str, ...] | None = None
    while len(cases) < CASELOAD_LIMIT:
        rows = views.caseload(agency, sort="case_manager", after=after, limit=500)
        cases += rows
        if len(rows) < 500:
            break
        after = caseload_key(rows[-1], "case_manager")
    overdue_referrals: dict[str, int] = defaultdict(int)
    for row in views.referrals(agency, overdue=True, limit=CASELOAD_LIMIT):
        overdue_referrals[str(row["case_id"])] += 1
    standards = contact_standards(console.backend.settings.contact_standard_days)
    today = datetime.now(UTC).date()
    managers: dict[str, dict[str, Any]] = {}
    for case in cases:
        case["overdue_referrals"] = overdue_referrals.get(str(case["case_id"]), 0)
        case["contact_overdue"] = contact_overdue(case, standards, today)
        load = managers.setdefault(
            case["case_manager_id"],
            {
                "manager": case["case_manager_id"],
                "cases": [],
                "reviews": 0,
                "referrals": 0,
                "contacts": 0,
            },
        )
        load["cases"].append(case)
        load["reviews"] += case["review_overdue"]
        load["referrals"] += case["overdue_referrals"]
        load["contacts"] += case["contact_overdue"]
    reveal(console, viewer, "list_caseloads", listed_subjects(cases))
    return console.render(
        request,
        "caseloads.html",
        viewer,
        managers=sorted(managers.values(), key=lambda m: m["manager"]),
        total=len(cases),
    )


def contact_overdue(case: dict[str, Any], standards: dict[str, int], today: date) -> bool:
    """As the worklist has it: an open case whose client was last in contact (or whose
    case opened) longer ago than its specialty's standard allows."""
    if case["status"] != CaseStatus.OPEN.value:
        return False
    since = case["last_contact_at"] or case["opened_at"]
    if since is None:
        return False
    return bool(contact_due(since.date(), case["specialty"], standards)[0] < today)
