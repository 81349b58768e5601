"""Read model 6: the worklist, what is due on each staff member's cases.

The view stores each item's due date, never whether it is overdue: that depends on the day
it is asked, so the query compares with today.  Items derived from the record (a goal's due
date, a plan's next review, a referral's response deadline, a revision a review decided on,
what was left open when a case closed) belong to the case manager; an explicit task to its
owner.  Whether a case has gone without client contact for too long depends on the
agency's contact standard for its specialty, a setting: the view keeps each case's client
contacts and the query adds the standard.
"""

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from caserecord.domain.benefits import (
    AWAITING,
    PROGRAM_LABELS,
    BenefitApplication,
    BenefitStatus,
)
from caserecord.domain.case import OPEN_REFERRALS, Case
from caserecord.domain.entities import Plan, current
from caserecord.domain.errors import InvalidValueError
from caserecord.domain.values import (
    AWAITING_ANSWER,
    OPEN_GOAL,
    CaseStatus,
    PlanStatus,
    ReferralStatus,
    Specialty,
    TaskConcerns,
    TaskStatus,
)
from caserecord.projections.base import (
    ViewProjection,
    envelope,
    iso_date,
    latest,
    text_id,
    today,
)
from caserecord.projections.sql import Database, Statement, ViewSchema


class WorklistSchema(ViewSchema):
    name = "worklist"
    tables = ("view_worklist_items", "view_worklist_cases", "view_worklist_contacts")
    ddl = (
        "CREATE TABLE IF NOT EXISTS {s}view_worklist_items ("
        "item_id TEXT NOT NULL, case_id TEXT NOT NULL, client_id TEXT NOT NULL, "
        "agency_id TEXT NOT NULL, "
        "owner_id TEXT NOT NULL, kind TEXT NOT NULL, due_on TEXT NOT NULL, "
        "subject_id TEXT NOT NULL, link TEXT NOT NULL, title TEXT NOT NULL, "
        # Keyed by case first: each batch deletes a case's items and writes them again.
        "case_open INTEGER NOT NULL, case_version BIGINT NOT NULL, "
        # Need to know: the labels of the entry the title comes from, and the note a task
        # concerns (whose labels the query adds).
        "labels TEXT NOT NULL, about_note TEXT NOT NULL, "
        "PRIMARY KEY (case_id, item_id))",
        "CREATE INDEX IF NOT EXISTS view_worklist_items_owner "
        "ON {s}view_worklist_items (agency_id, owner_id, due_on)",
        "CREATE TABLE IF NOT EXISTS {s}view_worklist_cases ("
        "case_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, agency_id TEXT NOT NULL, "
        "owner_id TEXT NOT NULL, "
        "specialty TEXT NOT NULL, status TEXT NOT NULL, opened_on TEXT NOT NULL, "
        "case_version BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS view_worklist_cases_owner "
        "ON {s}view_worklist_cases (agency_id, owner_id)",
        "CREATE TABLE IF NOT EXISTS {s}view_worklist_contacts ("
        "case_id TEXT NOT NULL, version BIGINT NOT NULL, contact_on TEXT NOT NULL, "
        "PRIMARY KEY (case_id, version))",
    )
    digest_queries = (
        "SELECT * FROM {s}view_worklist_items ORDER BY item_id",
        "SELECT * FROM {s}view_worklist_cases ORDER BY case_id",
        "SELECT * FROM {s}view_worklist_contacts ORDER BY case_id, version",
    )


BENEFIT_KINDS = (
    "benefit_decision",
    "benefit_documents",
    "benefit_appointment",
    "benefit_hearing",
    "benefit_renewal",
)

KINDS = (
    "task",
    "goal_due",
    "plan_review",
    "plan_revision",
    "referral_response",
    "referral_reroute",
    "client_contact",
    "left_open",
    "safety_flag",
    *BENEFIT_KINDS,
)
"""What an item is about: an explicit task; a goal's due date; a plan's next review; a
revision a review decided on (due the day of that review); a pending referral's response
deadline (past it, the referral has expired: re-route or withdraw it); a declined referral
not re-routed nor withdrawn (due the day it was declined); the contact standard of the
case's specialty; an item left open on a closed case (due the day it closed, never
overdue); a safety flag an instrument raised (due the day it was administered, until
someone reviews it); a benefits application's step (``benefit_items``)."""

INSERT_ITEM = "INSERT INTO {s}view_worklist_items VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
DROP_ITEMS = "DELETE FROM {s}view_worklist_items WHERE case_id=?"
UPSERT_CASE = (
    "INSERT INTO {s}view_worklist_cases VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (case_id) "
    "DO UPDATE SET owner_id=excluded.owner_id, status=excluded.status, "
    "case_version=excluded.case_version"
)
ADD_CONTACT = "INSERT INTO {s}view_worklist_contacts VALUES (?,?,?)"
DROP_CONTACT = "DELETE FROM {s}view_worklist_contacts WHERE case_id=? AND version=?"
# Entries that change no item: their content is not what is due.
NO_ITEMS = (Case.AddendumAppended, Case.GoalProgressRecorded)


# kind, subject id, due on, title, owner ("" for the case manager)
Item = tuple[str, str, date, str, str]


@dataclass
class Touched:
    case: Case
    version: int  # of the last event that changed the case's items
    opened_on: date | None  # from the intake, when it is in this batch


class WorklistProjection(ViewProjection):
    """Each case's items are written again, all of them, after each batch that changed
    the case: they follow from its whole state (what is set aside, who manages it)."""

    name = "worklist"
    schema = WorklistSchema
    REMEMBERED = 5_000  # referral deadlines and closing days kept, so few events are read

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (case id, version) -> what the event at that version said: a referral's
        # respond_by, or the day a closing took effect.
        self.seen: OrderedDict[tuple[UUID, int], date | None] = OrderedDict()

    def writes_for(self, event: Any, position: int) -> list[Statement]:
        if not isinstance(event, Case.Event):
            return []
        case = self.folder.fold(event)
        assert isinstance(case, Case)
        if isinstance(event, Case.ProgressNoteRecorded):
            if not event.with_client:  # a no-show or a collateral call is not client contact
                return []
            day = envelope(event)["effective_at"].date().isoformat()
            return [(ADD_CONTACT, (text_id(case.id), event.originator_version, day))]
        if isinstance(event, NO_ITEMS):
            return []
        if isinstance(event, Case.ReferralMade):
            self._remember(case.id, event.originator_version, event.respond_by)
        elif isinstance(event, Case.Closed | Case.InstrumentAdministered | Case.ReferralDeclined):
            self._remember(
                case.id, event.originator_version, envelope(event)["effective_at"].date()
            )
        opened = envelope(event)["effective_at"].date() if isinstance(event, Case.Opened) else None
        earlier: Touched | None = self.touched.get(case.id)
        if opened is None and earlier is not None:
            opened = earlier.opened_on
        self.touch(case.id, Touched(case, case.version, opened))
        if isinstance(event, Case.EntryMarkedInError):
            return [(DROP_CONTACT, (text_id(case.id), event.target_version))]
        return []

    def rows_for(self, key: UUID, value: Any) -> list[Statement]:
        touched: Touched = value
        case, case_id, client_id = touched.case, text_id(key), text_id(touched.case.client_id)
        manager = latest(case.managers).value
        status = latest(case.statuses).value
        writes: list[Statement] = [(DROP_ITEMS, (case_id,))]
        is_open = status != CaseStatus.CLOSED
        items = self._open_items(case) if is_open else self._left_open(case)
        for kind, subject, due, title, owner in items:
            part = f"{LINKS[kind]}/{subject}" if LINKS[kind] else subject
            link = f"/v1/cases/{case_id}/{part}"
            row = (
                f"{case_id}:{kind}:{subject}",
                case_id,
                client_id,
                case.agency_id,
                owner or manager,
                kind,
                due.isoformat(),
                subject,
                link,
                title[:200],
                int(is_open),
                touched.version,
                *item_labels(case, kind, subject),
            )
            writes.append((INSERT_ITEM, row))
        opened_on = iso_date(touched.opened_on) or ""
        case_row = (case_id, client_id, case.agency_id, manager, case.specialty, status, opened_on)
        writes.append((UPSERT_CASE, (*case_row, touched.version)))
        return writes

    def _open_items(self, case: Case) -> list[Item]:
        items: list[Item] = []
        for task in case.tasks.values():
            if not task.in_error and task.status == TaskStatus.OPEN:
                items.append(("task", task.task_id, task.due_on, task.title, task.owner_id))
        plan = case.current_plan
        if plan is not None:
            items += plan_items(plan)
            for goal in case.goals.values():
                if goal.plan_id != plan.plan_id or goal.in_error or goal.status not in OPEN_GOAL:
                    continue
                revision = latest(goal.revisions)
                if revision.due_on is not None:
                    items.append(
                        ("goal_due", goal.goal_id, revision.due_on, revision.description, "")
                    )
        # Due on its response deadline: past it the referral has expired, and the item
        # stays until the provider answers or it is re-routed.
        awaiting = [
            r
            for r in case.standing_referrals()
            if r.status in AWAITING_ANSWER and not r.rerouted_to
        ]
        for referral in awaiting:
            respond_by = self._said(case, referral.version)
            if respond_by is not None:
                title = "Referral awaiting a response (re-route it once expired)"
                items.append(("referral_response", referral.referral_id, respond_by, title, ""))
        for referral in case.standing_referrals():
            if referral.status == ReferralStatus.DECLINED and not referral.rerouted_to:
                declined_on = self._said(case, current(referral.statuses).version)
                if declined_on is not None:
                    title = "Referral declined: re-route it, or withdraw it to close the need"
                    items.append(("referral_reroute", referral.referral_id, declined_on, title, ""))
        for flag in case.open_safety_flags():
            flagged_on = self._said(case, flag.version)
            if flagged_on is not None:
                title = f"{flag.instrument}: {', '.join(flag.flags)} (review at once)"
                items.append(("safety_flag", str(flag.version), flagged_on, title, ""))
        for application in case.benefit_applications.values():
            if not application.in_error:
                items += benefit_items(application)
        return items

    def _left_open(self, case: Case) -> list[Item]:
        """What a closed case still holds open: due from the day it closed."""
        closed_on = self._said(case, latest(case.statuses).version)
        assert closed_on is not None, "a closing always has its day"
        items: list[Item] = []
        plan = case.current_plan
        if plan is not None:
            items.append(("left_open", f"plans/{plan.plan_id}", closed_on, "Plan still open", ""))
            for goal in case.goals.values():
                if goal.plan_id == plan.plan_id and not goal.in_error and goal.status in OPEN_GOAL:
                    subject = f"goals/{goal.goal_id}"
                    items.append(("left_open", subject, closed_on, "Goal still open", ""))
        for referral in case.standing_referrals():
            if referral.status in OPEN_REFERRALS and not referral.rerouted_to:
                subject = f"referrals/{referral.referral_id}"
                items.append(("left_open", subject, closed_on, "Referral left open", ""))
        for task in case.tasks.values():
            if not task.in_error and task.status == TaskStatus.OPEN:
                subject = f"tasks/{task.task_id}"
                items.append(("left_open", subject, closed_on, task.title, task.owner_id))
        return items

    def _said(self, case: Case, version: int) -> date | None:
        """The respond-by of the referral made at ``version``, or the day the closing,
        administration or decline recorded there took effect: remembered from the events
        seen, else read from the log."""
        key = (case.id, version)
        if key not in self.seen:
            event = self.folder.read(case.id, [version])[version]
            said = event.respond_by if isinstance(event, Case.ReferralMade) else None
            if isinstance(event, Case.Closed | Case.InstrumentAdministered | Case.ReferralDeclined):
                said = envelope(event)["effective_at"].date()
            self._remember(case.id, version, said)
        return self.seen[key]

    def _remember(self, case_id: UUID, version: int, said: date | None) -> None:
        self.seen[(case_id, version)] = said
        if len(self.seen) > self.REMEMBERED:
            self.seen.popitem(last=False)


def item_labels(case: Case, kind: str, subject: str) -> tuple[str, str]:
    """The labels of the entry an item's title comes from (none for a title of fixed
    words), and the note a task concerns, if any."""
    versions: list[int] = []
    about = ""
    task = case.tasks.get(subject.removeprefix("tasks/")) if kind in ("task", "left_open") else None
    if task is not None:
        versions.append(task.version)
        about = task.concerns_id if task.concerns == TaskConcerns.NOTE else ""
    elif kind == "goal_due" and subject in case.goals:
        versions.append(latest(case.goals[subject].revisions).version)
    elif kind in ("plan_review", "plan_revision"):
        # A plan is read as the intake is (application/need_to_know.py).
        versions += [1, *(p.current_version.version for p in case.plans if p.plan_id == subject)]
    elif kind == "safety_flag":
        versions.append(int(subject))
    elif kind in BENEFIT_KINDS and subject in case.benefit_applications:
        versions.append(case.benefit_applications[subject].version)
    labels = sorted({c for v in versions for c in case.labels_of(v)})
    return ",".join(labels), about


# Where each kind of item links within its case (left-open items name their part).
LINKS = {
    "task": "tasks",
    "goal_due": "goals",
    "plan_review": "plans",
    "plan_revision": "plans",
    "referral_response": "referrals",
    "referral_reroute": "referrals",
    "left_open": "",
    "safety_flag": "scored-assessments",
    **dict.fromkeys(BENEFIT_KINDS, "benefit-applications"),
}


def benefit_items(application: BenefitApplication) -> list[Item]:
    """What a benefits application has coming, one item of each kind at most (the
    earliest): a decision awaited (due the day it is expected), documents requested and
    not yet provided, an appointment without an outcome, an appeal hearing, a renewal."""
    items: list[Item] = []
    aid, program = application.application_id, PROGRAM_LABELS[application.program]
    expected = application.expected_decision_on
    if application.status == BenefitStatus.SUBMITTED and expected is not None:
        items.append(("benefit_decision", aid, expected, f"{program}: decision expected", ""))
    due = [r.due_on for r in application.outstanding() if r.due_on is not None]
    if due and application.status in AWAITING:
        items.append(("benefit_documents", aid, min(due), f"{program}: documents due", ""))
    upcoming = application.upcoming()
    if upcoming and application.status in AWAITING:
        first = min(upcoming, key=lambda a: a.on)
        title = f"{program}: {first.kind.replace('_', ' ')} appointment"
        items.append(("benefit_appointment", aid, first.on, title, ""))
    if application.status == BenefitStatus.APPEALED and application.hearing_on is not None:
        title = f"{program}: appeal hearing"
        items.append(("benefit_hearing", aid, application.hearing_on, title, ""))
    if application.status == BenefitStatus.APPROVED and application.renews_on is not None:
        title = f"{program}: renewal due"
        items.append(("benefit_renewal", aid, application.renews_on, title, ""))
    return items


def plan_items(plan: Plan) -> list[Item]:
    items: list[Item] = []
    if plan.status in (PlanStatus.ACTIVE, PlanStatus.SUSPENDED):
        review_on = plan.next_review_on
        title = latest(plan.versions).title
        if review_on is not None:
            items.append(("plan_review", plan.plan_id, review_on, title, ""))
        decided = plan.revision_due
        if decided is not None:
            items.append(("plan_revision", plan.plan_id, decided.held_on, title, ""))
    return items


# ---- the contact standard ---------------------------------------------------------
DEFAULT_CONTACT_DAYS: dict[str, int] = {
    Specialty.SUBSTANCE_ABUSE: 7,
    Specialty.MENTAL_HEALTH: 14,
    Specialty.CLINICAL: 14,
    Specialty.CORRECTIONAL: 14,
    Specialty.FORENSIC: 14,
    Specialty.JUVENILE: 7,
    Specialty.CHILD: 7,
    Specialty.NURSE: 14,
    Specialty.MEDICAL: 30,
    Specialty.GERIATRIC: 30,
    Specialty.REHABILITATION: 14,
    Specialty.LEGAL: 30,
    Specialty.SOCIAL_WORK: 30,
}


def contact_standards(setting: str) -> dict[str, int]:
    """The days a case of each specialty may go without client contact: the defaults,
    with ``setting`` ("substance_abuse=7,mental_health=14") over them.  ValueError names
    the first part that is not a known specialty and a number of days."""
    standards = {str(k): v for k, v in DEFAULT_CONTACT_DAYS.items()}
    for part in filter(None, (p.strip() for p in setting.split(","))):
        name, _, days = part.partition("=")
        name = name.strip()
        if name not in standards:
            known = ", ".join(sorted(standards))
            raise ValueError(f"{name!r} is not a specialty (one of: {known})")
        if not days.strip().isdigit() or int(days) < 1:
            raise ValueError(f"{part!r}: the days must be a whole number from 1")
        standards[name] = int(days)
    return standards


def contact_due(since: date, specialty: str, standards: dict[str, int]) -> tuple[date, int]:
    """The day a case of ``specialty`` whose client was last in contact (or whose case
    opened) on ``since`` is due for contact, and the standard's days: one rule for the
    worklist and the console's caseloads."""
    days = standards.get(specialty, max(standards.values(), default=30))
    return since + timedelta(days=days), days


# ---- queries ------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """Which items a worklist shows: of which kinds, due on or before and after which days."""

    kinds: tuple[str, ...] = ()
    due_before: date | None = None
    due_after: date | None = None


ALL = Window()


def worklist(
    db: Database,
    agency_id: str,
    *,
    owner_id: str | None,
    standards: dict[str, int],
    window: Window = ALL,
    after: tuple[str, str] | None = None,
    limit: int = 50,
    case_id: UUID | None = None,
) -> list[dict[str, Any]]:
    """Items of ``owner_id`` (everyone's when None), of one case if ``case_id`` is given,
    by due date; ``after``: the :func:`item_key` of the last one already shown."""
    if limit < 1:
        raise InvalidValueError("limit must be at least 1")
    day = today()
    found = sorted(items(db, agency_id, owner_id, standards, window, day, case_id), key=item_key)
    if after is not None:
        found = [i for i in found if item_key(i) > after]
    return found[:limit]


def item_key(item: dict[str, Any]) -> tuple[str, str]:
    return (item["due_on"].isoformat(), item["item_id"])


def items(
    db: Database,
    agency_id: str,
    owner_id: str | None,
    standards: dict[str, int],
    window: Window,
    day: date,
    case_id: UUID | None = None,
) -> list[dict[str, Any]]:
    kinds = window.kinds or KINDS
    where, params = ["agency_id=?"], [agency_id]
    if owner_id is not None:
        where.append("owner_id=?")
        params.append(owner_id)
    if case_id is not None:
        where.append("case_id=?")
        params.append(text_id(case_id))
    stored = [k for k in kinds if k != "client_contact"]
    found: list[dict[str, Any]] = []
    if stored:
        rows = db.query(
            f"SELECT * FROM {{s}}view_worklist_items WHERE {' AND '.join(where)} "
            f"AND kind IN ({','.join('?' * len(stored))})",
            [*params, *stored],
        )
        found += [item_row(r, day) for r in rows]
    if "client_contact" in kinds:
        found += contact_items(db, where, params, standards, day)
    return [i for i in found if within(i["due_on"], window)]


def within(due: date, window: Window) -> bool:
    if window.due_before is not None and due > window.due_before:
        return False
    return window.due_after is None or due >= window.due_after


def item_row(row: dict[str, Any], day: date) -> dict[str, Any]:
    due = date.fromisoformat(row["due_on"])
    is_open = bool(row["case_open"])
    return {
        "item_id": row["item_id"],
        "kind": row["kind"],
        "case_id": UUID(row["case_id"]),
        "client_id": UUID(row["client_id"]),
        "owner_id": row["owner_id"],
        "due_on": due,
        "overdue": is_open and due < day,
        "days_until_due": (due - day).days,
        "subject_id": row["subject_id"],
        "link": row["link"],
        "title": row["title"],
        "case_version": row["case_version"],
        "labels": row["labels"].split(",") if row["labels"] else [],
        "about_note": row["about_note"],
    }


def contact_items(
    db: Database, where: list[str], params: list[Any], standards: dict[str, int], day: date
) -> list[dict[str, Any]]:
    """An item per open case: the day the contact standard runs out, from the latest
    client contact (or the opening)."""
    rows = db.query(
        "SELECT c.case_id, c.client_id, c.owner_id, c.specialty, c.opened_on, c.case_version, "
        "(SELECT MAX(t.contact_on) FROM {s}view_worklist_contacts t "
        "WHERE t.case_id = c.case_id) AS last_contact FROM {s}view_worklist_cases c "
        f"WHERE {' AND '.join('c.' + w for w in where)} AND c.status=?",
        [*params, CaseStatus.OPEN.value],
    )
    found = []
    for row in rows:
        since = row["last_contact"] or row["opened_on"]
        if not since:
            continue
        due, days = contact_due(date.fromisoformat(since), row["specialty"], standards)
        found.append(
            item_row(
                {
                    "item_id": f"{row['case_id']}:client_contact:",
                    "kind": "client_contact",
                    "case_id": row["case_id"],
                    "client_id": row["client_id"],
                    "owner_id": row["owner_id"],
                    "due_on": due.isoformat(),
                    "case_open": 1,
                    "subject_id": "",
                    "link": f"/v1/cases/{row['case_id']}/notes",
                    "title": f"Client contact due (every {days} days)",
                    "case_version": row["case_version"],
                    "labels": "",
                    "about_note": "",
                },
                day,
            )
        )
    return found


def worklist_summary(
    db: Database,
    agency_id: str,
    *,
    standards: dict[str, int],
    after: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Per staff member of the agency (by id, after ``after``): open cases and items."""
    if limit < 1:
        raise InvalidValueError("limit must be at least 1")
    day = today()
    staff: dict[str, dict[str, Any]] = {}

    def of(owner: str) -> dict[str, Any]:
        return staff.setdefault(
            owner,
            {"staff_id": owner, "open_cases": 0, "items": 0, "overdue": 0, "due_today": 0},
        )

    for row in db.query(
        "SELECT owner_id, COUNT(*) AS n FROM {s}view_worklist_cases "
        "WHERE agency_id=? AND status=? GROUP BY owner_id",
        [agency_id, CaseStatus.OPEN.value],
    ):
        of(row["owner_id"])["open_cases"] = int(row["n"])
    for item in items(db, agency_id, None, standards, ALL, day):
        counts = of(item["owner_id"])
        counts["items"] += 1
        counts["overdue"] += int(item["overdue"])
        counts["due_today"] += int(item["due_on"] == day)
    chosen = sorted(k for k in staff if after is None or k > after)
    return [staff[k] for k in chosen[:limit]]
