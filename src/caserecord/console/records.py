"""Pages of the record: find a client, the client's record, a case, its timeline, the case
"as of" a moment and what changed between two. Each reads through the service the API uses
and is recorded in the access log before it is shown."""

import json
from datetime import date, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from caserecord.access import Subject
from caserecord.console import history
from caserecord.console.charts import Chart, progress_chart
from caserecord.console.web import (
    PREFIX,
    Console,
    ConsoleDep,
    ConsoleRoute,
    PageError,
    ReaderDep,
    Viewer,
    day_start,
    local_input,
    moment_through,
    query,
    reveal,
)
from caserecord.domain.errors import NotFoundError
from caserecord.history import (
    case_as_of,
    case_diff,
    case_timeline,
    checked_timeline,
    decoded_events,
)
from caserecord.presenters import event_to_dict
from caserecord.projections.summaries import summarise, unknown_event_type
from caserecord.projections.worklist import contact_standards

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

# Pages show this many of a case's notes and referrals, and of a goal's progress; the API's
# pages hold the rest.
SHOWN = 50
TIMELINE_PAGE = 100
# Services of other parts of the record that a case page shows when the service has them:
# (the CaseRecords method, the section's heading). Each answers plain rows (dicts).
# Sections read off the case as the service returns it: heading, the case's key, and the
# columns shown (in that order) of each row. Open tasks are in the worklist section, whose
# items are read as the viewer may read them (the case's own task list gives a task on a
# psychotherapy note its title whoever reads it); done ones are in the timeline.
CASE_SECTIONS = (
    (
        "Care team",
        "care_team",
        ("role", "name", "staff_id", "organisation", "starts_on", "ends_on", "current"),
    ),
    ("Transfers", "transfers", ("from_staff_id", "to_staff_id", "status", "handoff_summary")),
    ("Safety flags due", "safety_flags", ("instrument", "flags", "version")),
    (
        "Benefits applications",
        "benefit_applications",
        (
            "program",
            "agency_name",
            "status",
            "submitted_on",
            "expected_decision_on",
            "renews_on",
            "hearing_on",
        ),
    ),
)


def case_sections(case: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The case's care team, transfers, due safety flags and benefits applications, each
    row cut to the columns a reader scans."""
    sections = []
    for heading, key, columns in CASE_SECTIONS:
        found = case.get(key)
        rows = found if isinstance(found, list) else [found] if found else []
        rows = [
            {"status": latest(row["statuses"]), **row} if "statuses" in row else row for row in rows
        ]
        sections.append((heading, [{c: row.get(c) for c in columns if c in row} for row in rows]))
    return sections


def latest(statuses: list[dict[str, Any]]) -> str | None:
    """The standing status of a part that keeps its statuses' history (a transfer)."""
    standing = [s["value"] for s in statuses if not s["in_error"]]
    return standing[-1] if standing else None


Text = Annotated[str, Query(max_length=200)]


@router.get("/clients")
def find_clients(
    request: Request,
    console: ConsoleDep,
    viewer: ReaderDep,
    name: Text = "",
    date_of_birth: Text = "",
    client_number: Text = "",
) -> HTMLResponse:
    searched = bool(name.strip() or date_of_birth or client_number.strip())
    rows: list[dict[str, Any]] = []
    if searched:
        rows = console.backend.views.search_clients(
            viewer.actor.agency_id,
            name=name.strip() or None,
            date_of_birth=birth_date(date_of_birth),
            client_number=client_number.strip() or None,
            limit=SHOWN,
        )
        reveal(console, viewer, "search_clients", [Subject(r["client_id"]) for r in rows])
    return console.render(
        request,
        "clients.html",
        viewer,
        rows=rows,
        searched=searched,
        form={"name": name, "date_of_birth": date_of_birth, "client_number": client_number},
    )


def birth_date(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PageError(400, "Cannot search", f"{text!r} is not a date") from None


@router.get("/clients/{client_id}")
def client_record(
    request: Request, client_id: UUID, console: ConsoleDep, viewer: ReaderDep
) -> HTMLResponse:
    records = console.backend.records
    client = records.get_client(viewer.actor, client_id)  # not found outside the agency
    events = [event_to_dict(e) for e in decoded_events(records, client_id)]
    corrections = [
        {**e, "summary": summarise(e["type"], e["data"])}
        for e in events
        if e["type"] != "Registered"
    ]
    opened = console.backend.views.audit_trail(
        viewer.actor.agency_id, client_id=client_id, event_type="Opened", limit=500
    )
    # The opening row's effective time, as the case page shows it: an intake recorded late
    # took effect earlier than the case's `opened_at` (when it was recorded).
    cases = [
        {**records.get_case(viewer.actor, row["case_id"]), "took_effect": row["effective_at"]}
        for row in opened
        if row["case_id"]
    ]
    consents = records.consents(viewer.actor, client_id, every=True)
    since = records.accounting_start(part2=False)
    disclosures = records.disclosures(viewer.actor, client_id, since=since)
    subjects = [Subject(client_id), *(Subject(client_id, c["id"]) for c in cases)]
    reveal(console, viewer, "read_client", subjects)
    # The same actions the API logs for these reads, so a reviewer finds every viewing of
    # the consents and of the accounting whichever way it was read.
    reveal(console, viewer, "read_consents", [Subject(client_id)])
    reveal(console, viewer, "read_disclosures", [Subject(client_id)])
    return console.render(
        request,
        "client.html",
        viewer,
        client=client,
        corrections=corrections,
        registered=events[0] if events else None,
        cases=cases,
        consents=consents,
        disclosures=disclosures,
        accounting_since=since,
    )


def case_parts(console: Console, viewer: Viewer, case: dict[str, Any]) -> dict[str, Any]:
    """What a case page shows besides the case: its client, goals' charts, every
    referral and note (those set aside struck through, never left out)."""
    records, actor, case_id = console.backend.records, viewer.actor, case["id"]
    timeline = case_timeline(records, actor, case_id)
    marked = history.set_aside(timeline)
    plan = case["current_plan"]
    charts = {}
    for goal in plan["goals"] if plan else []:
        if goal.get("score_target"):
            # A goal that targets a score moves with the instrument's administrations.
            scores = records.get_goal(actor, case_id, goal["goal_id"])["scores"]
            charts[goal["goal_id"]] = score_chart(scores, goal["score_target"])
            continue
        progress = records.goal_progress(actor, case_id, goal["goal_id"], limit=SHOWN)
        charts[goal["goal_id"]] = progress_chart(progress["items"], goal["target_measure"])
    notes = records.case_notes(actor, case_id, limit=SHOWN)
    referrals = records.case_referrals(actor, case_id, limit=SHOWN)
    optional = case_sections(case)
    return {
        "client": records.get_client(actor, case["client_id"]),
        "charts": charts,
        "notes": history.notes_with_set_aside(notes["items"], marked),
        "note_count": notes["note_count"],
        "referrals": referrals["items"],
        "scores": records.case_scores(actor, case_id, limit=SHOWN),
        "marked": marked,
        "optional": optional,
        "timeline": timeline,
        "opened": history.opened(timeline),
        "entries": history.case_entries(timeline),
    }


def score_chart(scores: list[dict[str, Any]], target: dict[str, Any]) -> Chart | None:
    """The administrations a goal's score target reads, as progress: the total, and
    whether it met the target."""
    instrument = str(target["instrument"]).upper()
    return progress_chart(
        [
            {
                "effective_at": s["effective_at"],
                "measured_value": s["total"],
                "achievement": "target met" if s["met"] else s["band"] or "target not met",
            }
            for s in scores
        ],
        f"{instrument} score",
    )


@router.get("/cases/{case_id}")
def case_page(
    request: Request, case_id: UUID, console: ConsoleDep, viewer: ReaderDep
) -> HTMLResponse:
    case = console.backend.records.get_case(viewer.actor, case_id)
    parts = case_parts(console, viewer, case)
    # What is due on the case, whoever it falls to: from the worklist view, each item as
    # the viewer may read it, as the API's worklist reads it.
    rows = console.backend.views.worklist(
        viewer.actor.agency_id,
        owner_id=None,
        standards=contact_standards(console.backend.settings.contact_standard_days),
        case_id=case_id,
        limit=SHOWN,
    )
    due = console.backend.records.worklist_items(viewer.actor, rows)
    reveal(console, viewer, "read_case", [Subject(case["client_id"], case_id)])
    return console.render(
        request, "case.html", viewer, case=case, as_of=None, worklist=due, **parts
    )


@router.get("/cases/{case_id}/as-of")
def case_as_of_page(
    request: Request,
    case_id: UUID,
    console: ConsoleDep,
    viewer: ReaderDep,
    axis: Annotated[str, Query(pattern="^(recorded|effective|both)$")] = "recorded",
    moment: Annotated[int | None, Query(ge=0, le=10**9)] = None,
    at: Text = "",
    effective: Text = "",
    use: Annotated[str, Query(pattern="^(moment|time)$")] = "moment",
) -> HTMLResponse:
    """The case as the record stood at a moment: a step of the slider (an event's own
    time, exactly) or a typed date and time."""
    records, actor = console.backend.records, viewer.actor
    timeline = case_timeline(records, actor, case_id)
    steps = history.moments(timeline, "effective" if axis == "effective" else "recorded")
    if not steps:
        raise PageError(404, "Not found", "The case has no events.")
    if use == "time" and at:
        cut = moment_through(at)
        index = history.index_at(steps, cut)
    else:
        index = len(steps) - 1 if moment is None else min(moment, len(steps) - 1)
        cut = steps[index]["at"]
    effective_cut = moment_through(effective) if axis == "both" and effective else cut
    shown = {
        "axis": axis,
        "index": index,
        "at": local_input(cut),
        "effective": local_input(effective_cut) if axis == "both" else "",
        "cut": cut,
        "effective_cut": effective_cut if axis != "recorded" else None,
    }
    try:
        case = case_as_of(
            records,
            actor,
            case_id,
            recorded_at=None if axis == "effective" else cut,
            effective_at=None if axis == "recorded" else effective_cut,
        )
    except NotFoundError:
        if cut >= steps[0]["at"] and effective_cut >= steps[0]["at"]:
            raise
        # The form again, with what was typed and where the case begins, rather than an
        # error page that loses both. Its slider names the case's events: a read.
        client_id = records.client_of_case(actor, case_id)
        reveal(console, viewer, "read_case_as_of", [Subject(client_id, case_id)])
        return console.render(
            request,
            "as_of.html",
            viewer,
            404,
            case_id=case_id,
            case=None,
            client=records.get_client(actor, client_id),
            steps=steps,
            as_of=shown,
        )
    marked = history.set_aside(timeline, None if axis == "effective" else cut)
    notes = history.notes_with_set_aside(case["notes"], marked)
    plan = case["current_plan"]
    charts = {
        g["goal_id"]: progress_chart(g["progress"], g["target_measure"])
        for g in (plan["goals"] if plan else [])
    }
    reveal(console, viewer, "read_case_as_of", [Subject(case["client_id"], case_id)])
    return console.render(
        request,
        "as_of.html",
        viewer,
        case_id=case_id,
        case=case,
        client=records.get_client(actor, case["client_id"]),
        steps=steps,
        as_of=shown,
        charts=charts,
        notes=notes,
        note_count=case["note_count"],
        referrals=case["referrals"],
        scores=[],
        marked=marked,
        optional=[],
        entries=history.case_entries(timeline, cut if axis != "effective" else None),
        opened=history.opened(timeline),
    )


@router.get("/cases/{case_id}/diff")
def case_diff_page(
    request: Request,
    case_id: UUID,
    console: ConsoleDep,
    viewer: ReaderDep,
    axis: Annotated[str, Query(pattern="^(recorded|effective)$")] = "recorded",
    t1: Annotated[int | None, Query(ge=0, le=10**9)] = None,
    t2: Annotated[int | None, Query(ge=0, le=10**9)] = None,
) -> HTMLResponse:
    """What changed between two moments of the case, each a step of its history."""
    records, actor = console.backend.records, viewer.actor
    timeline = case_timeline(records, actor, case_id)
    steps = history.moments(timeline, axis)
    if not steps:
        raise PageError(404, "Not found", "The case has no events.")
    last = len(steps) - 1
    first, second = min(t1 or 0, last), last if t2 is None else min(t2, last)
    problem, status = "", 200
    if steps[first]["at"] > steps[second]["at"]:
        # The form again with both choices, rather than an error page naming parameters.
        problem, status = "“From” is after “To”: choose a “From” at or before the “To”.", 400
        changes: dict[str, Any] = {"changes": [], "events": []}
    else:
        changes = case_diff(
            records, actor, case_id, t1=steps[first]["at"], t2=steps[second]["at"], axis=axis
        )
    client_id = records.client_of_case(actor, case_id)
    reveal(console, viewer, "read_case_diff", [Subject(client_id, case_id)])
    return console.render(
        request,
        "diff.html",
        viewer,
        status,
        problem=problem,
        case_id=case_id,
        client=records.get_client(actor, client_id),
        steps=steps,
        axis=axis,
        t1=first,
        t2=second,
        changes=[
            {**c, "before": as_text(c["before"]), "after": as_text(c["after"])}
            for c in changes["changes"]
        ],
        events=changes["events"],
    )


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


@router.get("/cases/{case_id}/timeline")
def timeline_page(
    request: Request,
    case_id: UUID,
    console: ConsoleDep,
    viewer: ReaderDep,
    event_type: Text = "",
    actor: Text = "",
    since: Text = "",
    until: Text = "",
    page: Annotated[int, Query(ge=1, le=10**6)] = 1,
) -> HTMLResponse:
    """Every event of the case and its client, filtered by event type, actor and the
    period they were recorded in (both days included)."""
    if event_type and (unknown := unknown_event_type(event_type)):
        # Only an edited address gets here (the form offers the types the case has), and an
        # empty page would read as "none happened".
        raise PageError(400, "Cannot filter", f"{unknown}: pick one from the list")
    records = console.backend.records
    found = checked_timeline(records, viewer.actor, case_id)
    timeline = found.entries
    shown = history.filtered(
        timeline,
        event_type=event_type,
        actor=actor,
        since=day_start(since) if since else None,
        before=day_start(until) + timedelta(days=1) if until else None,
    )
    start = (page - 1) * TIMELINE_PAGE
    client_id = records.client_of_case(viewer.actor, case_id)
    reveal(console, viewer, "read_timeline", [Subject(client_id, case_id)])
    filters = {"event_type": event_type, "actor": actor, "since": since, "until": until}
    more = len(shown) > start + TIMELINE_PAGE
    return console.render(
        request,
        "timeline.html",
        viewer,
        case_id=case_id,
        client=records.get_client(viewer.actor, client_id),
        entries=shown[start : start + TIMELINE_PAGE],
        missing=found.holes,
        total=len(timeline),
        matching=len(shown),
        filters=filters,
        event_types=sorted({e["event_type"] for e in timeline}),
        actors=sorted({e["actor"]["id"] for e in timeline}),
        next_page=query(**filters, page=page + 1) if more else None,
        previous_page=query(**filters, page=page - 1) if page > 1 else None,
    )
