"""Read model 2: the cases on a caseload (waitlisted, open or on hold) per case manager and
per agency, with what needs attention.  Its last contact is the latest contact with the
client (they took part, and it happened): a call with a provider or a no-show does not
count."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from caserecord.domain.case import Case
from caserecord.domain.client import Client
from caserecord.domain.errors import InvalidValueError
from caserecord.domain.values import ACTIVE_STATUSES, FINAL_REFERRAL, ReferralStatus
from caserecord.projections.base import (
    PLAN_LIFECYCLE_EVENTS,
    ViewProjection,
    envelope,
    from_iso,
    iso,
    iso_date,
    latest,
    text_id,
    today,
)
from caserecord.projections.sql import Database, Statement, ViewSchema


class CaseloadSchema(ViewSchema):
    name = "caseload"
    tables = ("view_caseload", "view_caseload_clients", "view_caseload_contacts")
    ddl = (
        "CREATE TABLE IF NOT EXISTS {s}view_caseload ("
        "case_id TEXT PRIMARY KEY, agency_id TEXT NOT NULL, client_id TEXT NOT NULL, "
        "specialty TEXT NOT NULL, case_manager_id TEXT NOT NULL, status TEXT NOT NULL, "
        "opened_at TEXT NOT NULL, plan_status TEXT, "
        "next_review_on TEXT, open_referrals INTEGER NOT NULL, case_version BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS view_caseload_manager "
        "ON {s}view_caseload (agency_id, case_manager_id)",
        "CREATE TABLE IF NOT EXISTS {s}view_caseload_clients ("
        "client_id TEXT PRIMARY KEY, agency_id TEXT NOT NULL, "
        "given_name TEXT NOT NULL, family_name TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {s}view_caseload_contacts ("
        "case_id TEXT NOT NULL, version BIGINT NOT NULL, effective_at TEXT NOT NULL, "
        "PRIMARY KEY (case_id, version))",
        "CREATE INDEX IF NOT EXISTS view_caseload_contacts_latest "
        "ON {s}view_caseload_contacts (case_id, effective_at)",
    )
    digest_queries = (
        "SELECT * FROM {s}view_caseload ORDER BY case_id",
        "SELECT * FROM {s}view_caseload_clients ORDER BY client_id",
        "SELECT * FROM {s}view_caseload_contacts ORDER BY case_id, version",
    )


OPEN_REFERRALS = tuple(s for s in ReferralStatus if s not in FINAL_REFERRAL)

UPSERT_CASE = (
    "INSERT INTO {s}view_caseload VALUES (?,?,?,?,?,?,?,?,?,?,?) "
    "ON CONFLICT (case_id) DO UPDATE SET case_manager_id=excluded.case_manager_id, "
    "status=excluded.status, "
    "plan_status=excluded.plan_status, next_review_on=excluded.next_review_on, "
    "open_referrals=excluded.open_referrals, case_version=excluded.case_version"
)
ADD_CONTACT = "INSERT INTO {s}view_caseload_contacts VALUES (?,?,?)"
DROP_CONTACT = "DELETE FROM {s}view_caseload_contacts WHERE case_id=? AND version=?"
# Only these change what a caseload row shows (notes are handled on their own); a
# transfer moves the case to its new manager's caseload when it is accepted, not before.
ROW_EVENTS: frozenset[type] = frozenset(
    (
        Case.Opened,
        Case.CaseManagerAssigned,
        Case.ServiceStarted,
        Case.CasePutOnHold,
        Case.CaseResumed,
        Case.TransferAccepted,
        Case.Closed,
        Case.Reopened,
        *PLAN_LIFECYCLE_EVENTS,
        Case.ReferralMade,
        Case.ReferralAccepted,
        Case.ReferralDeclined,
        Case.ReferralCompleted,
        Case.ReferralWithdrawn,
        Case.EntryMarkedInError,
    )
)
UPSERT_CLIENT = (
    "INSERT INTO {s}view_caseload_clients VALUES (?,?,?,?) ON CONFLICT (client_id) "
    "DO UPDATE SET given_name=excluded.given_name, family_name=excluded.family_name"
)


class CaseloadProjection(ViewProjection):
    name = "caseload"
    schema = CaseloadSchema

    def writes_for(self, event: Any, position: int) -> list[Statement]:
        if isinstance(event, Client.Event):
            return self._client(event)
        if not isinstance(event, Case.Event):
            return []
        case = self.folder.fold(event)
        assert isinstance(case, Case)
        if isinstance(event, Case.ProgressNoteRecorded):
            if not event.with_client:
                return []
            effective = iso(envelope(event)["effective_at"])
            return [(ADD_CONTACT, (text_id(case.id), event.originator_version, effective))]
        if type(event) not in ROW_EVENTS:
            return []
        # The row keeps the effective time of the intake as its opening time.
        opened = envelope(event)["effective_at"] if isinstance(event, Case.Opened) else None
        earlier = self.touched.get(case.id)
        # The version of the last event that changed the row (later ones of the batch may
        # only move the fold on).
        self.touch(case.id, (case, case.version, opened or (earlier[2] if earlier else None)))
        if isinstance(event, Case.EntryMarkedInError):
            return [(DROP_CONTACT, (text_id(case.id), event.target_version))]
        return []

    def rows_for(self, key: UUID, value: Any) -> list[Statement]:
        case: Case
        version: int
        opened: datetime | None
        case, version, opened = value
        plan = case.current_plan
        row = (
            str(key),
            case.agency_id,
            str(case.client_id),
            case.specialty,
            latest(case.managers).value,
            latest(case.statuses).value,
            iso(opened or case.created_on),
            latest(plan.statuses).value if plan else None,
            iso_date(latest(plan.versions).next_review_on) if plan else None,
            sum(
                1
                for r in case.referrals.values()
                if not r.in_error and r.status in OPEN_REFERRALS and not r.rerouted_to
            ),
            version,
        )
        return [(UPSERT_CASE, row)]

    def _client(self, event: Client.Event) -> list[Statement]:
        client = self.folder.fold(event)
        assert isinstance(client, Client)
        if not isinstance(event, Client.Registered | Client.DetailsCorrected):
            return []
        row = (str(client.id), client.agency_id, client.given_name, client.family_name)
        return [(UPSERT_CLIENT, row)]


# Each sort is a keyset: the expressions order the rows and a page continues after the
# last row's values.  NULLs are replaced, so row-value comparison can follow them.
NO_REVIEW = "9999-12-31"
SORTS: dict[str, tuple[str, ...]] = {
    # Longest without contact first: who needs attention.
    "last_contact": ("COALESCE(last_contact_at, '')", "case_id"),
    "client_name": ("COALESCE(family_name, '')", "COALESCE(given_name, '')", "case_id"),
    "opened_at": ("opened_at", "case_id"),
    "next_review": (f"COALESCE(next_review_on, '{NO_REVIEW}')", "case_id"),
    "case_manager": ("case_manager_id", "case_id"),
}


def caseload(
    db: Database,
    agency_id: str,
    *,
    case_manager_id: str | None = None,
    specialty: str | None = None,
    review_overdue: bool | None = None,
    status: str | None = None,
    sort: str = "last_contact",
    after: tuple[str, ...] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Cases on the caseload (``status``: only those in that one of ``ACTIVE_STATUSES``)
    in ``sort`` order; ``after``: the :func:`caseload_key` of the last one already
    shown."""
    if sort not in SORTS:
        raise InvalidValueError(f"sort must be one of: {', '.join(SORTS)} (got {sort!r})")
    if limit < 1:
        raise InvalidValueError("limit must be at least 1")
    if after is not None and len(after) != len(SORTS[sort]):
        raise InvalidValueError(f"a {sort} page continues after {len(SORTS[sort])} values")
    if status is not None and status not in ACTIVE_STATUSES:
        allowed = ", ".join(ACTIVE_STATUSES)
        raise InvalidValueError(f"status must be one of: {allowed} (got {status!r})")
    statuses = [status] if status is not None else [s.value for s in ACTIVE_STATUSES]
    where = ["c.agency_id=?", f"c.status IN ({','.join('?' * len(statuses))})"]
    params: list[Any] = [agency_id, *statuses]
    if case_manager_id is not None:
        where.append("c.case_manager_id=?")
        params.append(case_manager_id)
    if specialty is not None:
        where.append("c.specialty=?")
        params.append(specialty)
    day = today().isoformat()
    if review_overdue is True:
        where.append("c.next_review_on IS NOT NULL AND c.next_review_on < ?")
        params.append(day)
    elif review_overdue is False:
        where.append("(c.next_review_on IS NULL OR c.next_review_on >= ?)")
        params.append(day)
    keys = ", ".join(SORTS[sort])
    outer, later = "", []
    if after is not None:
        outer = f"WHERE ({keys}) > ({', '.join('?' * len(after))}) "
        later = list(after)
    rows = db.query(
        "SELECT * FROM (SELECT c.*, k.given_name, k.family_name, "
        "(SELECT MAX(effective_at) FROM {s}view_caseload_contacts t "
        "WHERE t.case_id = c.case_id) AS last_contact_at FROM {s}view_caseload c "
        "LEFT JOIN {s}view_caseload_clients k ON k.client_id = c.client_id "
        f"WHERE {' AND '.join(where)}) AS q {outer}ORDER BY {keys} LIMIT ?",
        [*params, *later, limit],
    )
    return [caseload_row(r, day) for r in rows]


def caseload_row(row: dict[str, Any], day: str) -> dict[str, Any]:
    review = row["next_review_on"]
    name = " ".join(n for n in (row["given_name"], row["family_name"]) if n)
    return {
        "case_id": UUID(row["case_id"]),
        "client_id": UUID(row["client_id"]),
        "agency_id": row["agency_id"],
        "client_name": name,
        "given_name": row["given_name"] or "",
        "family_name": row["family_name"] or "",
        "specialty": row["specialty"],
        "case_manager_id": row["case_manager_id"],
        "status": row["status"],
        "opened_at": from_iso(row["opened_at"]),
        "last_contact_at": from_iso(row["last_contact_at"]),
        "plan_status": row["plan_status"],
        "next_review_on": date.fromisoformat(review) if review else None,
        "review_overdue": review is not None and review < day,
        "open_referrals": row["open_referrals"],
        "case_version": row["case_version"],
    }


def caseload_key(row: dict[str, Any], sort: str) -> tuple[str, ...]:
    """The values of ``SORTS[sort]`` for a row :func:`caseload` returned."""
    case_id = str(row["case_id"])
    review = row["next_review_on"]
    contact = row["last_contact_at"]
    keys: dict[str, tuple[str, ...]] = {
        "last_contact": (iso(contact) if contact else "", case_id),
        "client_name": (row["family_name"], row["given_name"], case_id),
        "opened_at": (iso(row["opened_at"]), case_id),
        "next_review": (review.isoformat() if review else NO_REVIEW, case_id),
        "case_manager": (row["case_manager_id"], case_id),
    }
    return keys[sort]
