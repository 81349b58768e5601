"""Read model 3: the referral tracker, across cases, with days open and overdue."""

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from caserecord.domain.case import Case
from caserecord.domain.entities import current
from caserecord.domain.errors import InvalidValueError
from caserecord.domain.values import ReferralStatus, parse
from caserecord.projections.base import (
    ViewProjection,
    envelope,
    from_iso,
    iso,
    iso_date,
    text_id,
    today,
)
from caserecord.projections.sql import Database, Statement, ViewSchema


class ReferralsSchema(ViewSchema):
    name = "referrals"
    tables = ("view_referrals",)
    ddl = (
        "CREATE TABLE IF NOT EXISTS {s}view_referrals ("
        "referral_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, agency_id TEXT NOT NULL, "
        "client_id TEXT NOT NULL, organisation TEXT NOT NULL, service_name TEXT NOT NULL, "
        "resource_kind TEXT NOT NULL, urgency TEXT NOT NULL, status TEXT NOT NULL, "
        "made_at TEXT NOT NULL, respond_by TEXT, closed_at TEXT, outcome TEXT NOT NULL, "
        "declined_by TEXT NOT NULL, case_version BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS view_referrals_status ON {s}view_referrals (agency_id, status)",
        "CREATE INDEX IF NOT EXISTS view_referrals_case ON {s}view_referrals (case_id)",
    )
    digest_queries = ("SELECT * FROM {s}view_referrals ORDER BY referral_id",)


FINAL = (ReferralStatus.DECLINED, ReferralStatus.COMPLETED, ReferralStatus.WITHDRAWN)
STATUS_EVENTS = (
    Case.ReferralAccepted,
    Case.ReferralDeclined,
    Case.ReferralCompleted,
    Case.ReferralWithdrawn,
)

INSERT = "INSERT INTO {s}view_referrals VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
# closed_at is the effective time of the move into a final state; it is kept while the
# referral stays final and cleared when that move is marked in error.
SET_STATUS = (
    "UPDATE {s}view_referrals SET status=?, outcome=?, declined_by=?, case_version=?, "
    "closed_at=CASE WHEN ? THEN COALESCE(?, closed_at) ELSE NULL END WHERE referral_id=?"
)
DELETE = "DELETE FROM {s}view_referrals WHERE referral_id=?"


@dataclass
class Touched:
    """What a referral's row needs beyond the case's state, from the events of a batch."""

    case: Case
    version: int  # of the last event that changed the row
    made: tuple[Any, ...] | None = None  # the row's fixed part, if made in this batch
    closed_at: str | None = None  # of the last move into a final state in this batch


class ReferralsProjection(ViewProjection):
    """One row per referral, written once per batch (see ``ViewProjection.touch``): a
    referral made and accepted in one page of a catch-up is one insert."""

    name = "referrals"
    schema = ReferralsSchema

    def writes_for(self, event: Any, position: int) -> list[Statement]:
        if not isinstance(event, Case.Event):
            return []
        case = self.folder.fold(event)
        assert isinstance(case, Case)
        if isinstance(event, Case.ReferralMade):
            made = (
                event.referral_id,
                text_id(case.id),
                case.agency_id,
                str(case.client_id),
                event.organisation,
                event.service_name,
                event.resource_kind,
                event.urgency,
                iso(envelope(event)["effective_at"]),
                iso_date(event.respond_by),
            )
            self.touch(event.referral_id, Touched(case, case.version, made))
        elif isinstance(event, STATUS_EVENTS):
            touched = self._touched(event.referral_id, case)
            final = case.referrals[event.referral_id].status in FINAL
            touched.closed_at = iso(envelope(event)["effective_at"]) if final else None
        elif isinstance(event, Case.EntryMarkedInError):
            for referral_id in case.referrals:
                self._touched(referral_id, case)
        return []

    def _touched(self, referral_id: str, case: Case) -> Touched:
        touched: Touched | None = self.touched.get(referral_id)
        if touched is None:
            touched = Touched(case, case.version)
            self.touch(referral_id, touched)
        touched.case, touched.version = case, case.version
        return touched

    def rows_for(self, key: str, value: Any) -> list[Statement]:
        touched: Touched = value
        r = touched.case.referrals[key]
        if r.in_error:  # set aside: gone, or never written if made in this batch
            return [] if touched.made else [(DELETE, (key,))]
        status = current(r.statuses)
        final = status.value in FINAL
        outcome = status.details.get("outcome", "")
        declined_by = status.details.get("declined_by", "")
        if touched.made is None:
            params = (status.value, outcome, declined_by, touched.version, final)
            return [(SET_STATUS, (*params, touched.closed_at, key))]
        (*fixed, made_at, respond_by) = touched.made
        closed_at = touched.closed_at if final else None
        row = (*fixed, status.value, made_at, respond_by, closed_at, outcome, declined_by)
        return [(INSERT, (*row, touched.version))]


def referrals(
    db: Database,
    agency_id: str,
    *,
    status: str | None = None,
    overdue: bool | None = None,
    organisation: str | None = None,
    case_id: UUID | None = None,
    after: tuple[str, str] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Referrals in the order they were made; ``after``: the :func:`referral_key` of the
    last one already shown."""
    if limit < 1:
        raise InvalidValueError("limit must be at least 1")
    where = ["agency_id=?"]
    params: list[Any] = [agency_id]
    if status is not None:
        where.append("status=?")
        params.append(parse(ReferralStatus, status, "status").value)
    if organisation is not None:
        where.append("organisation=?")
        params.append(organisation)
    if case_id is not None:
        where.append("case_id=?")
        params.append(str(case_id))
    day = today()
    overdue_sql = "status=? AND respond_by IS NOT NULL AND respond_by < ?"
    if overdue is True:
        where.append(overdue_sql)
        params += [ReferralStatus.PENDING.value, day.isoformat()]
    elif overdue is False:
        where.append(f"NOT ({overdue_sql})")
        params += [ReferralStatus.PENDING.value, day.isoformat()]
    if after is not None:
        where.append("(made_at, referral_id) > (?, ?)")
        params.extend(after)
    rows = db.query(
        f"SELECT * FROM {{s}}view_referrals WHERE {' AND '.join(where)} "
        "ORDER BY made_at, referral_id LIMIT ?",
        [*params, limit],
    )
    return [referral_row(r, day) for r in rows]


def referral_row(row: dict[str, Any], day: date) -> dict[str, Any]:
    made = from_iso(row["made_at"])
    closed = from_iso(row["closed_at"])
    assert made is not None
    respond_by = date.fromisoformat(row["respond_by"]) if row["respond_by"] else None
    end = closed.date() if closed else day
    return {
        "referral_id": row["referral_id"],
        "case_id": UUID(row["case_id"]),
        "client_id": UUID(row["client_id"]),
        "agency_id": row["agency_id"],
        "organisation": row["organisation"],
        "service_name": row["service_name"],
        "resource_kind": row["resource_kind"],
        "urgency": row["urgency"],
        "status": row["status"],
        "made_at": made,
        "respond_by": respond_by,
        "closed_at": closed,
        "outcome": row["outcome"],
        "declined_by": row["declined_by"],
        "days_open": (end - made.date()).days,
        "overdue": row["status"] == ReferralStatus.PENDING
        and respond_by is not None
        and respond_by < day,
        "case_version": row["case_version"],
    }


def referral_key(row: dict[str, Any]) -> tuple[str, str]:
    return (iso(row["made_at"]), row["referral_id"])


def referral_outcomes(
    db: Database, agency_id: str, *, after: tuple[str, str] | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Referrals counted by status, per organisation and resource kind (no client data);
    ``after``: the :func:`outcome_key` of the last group already shown."""
    if limit < 1:
        raise InvalidValueError("limit must be at least 1")
    where, params = "agency_id=?", [agency_id]
    if after is not None:
        where += " AND (organisation, resource_kind) > (?, ?)"
        params.extend(after)
    # Whole groups: the first `limit` (organisation, resource kind) pairs, then their counts.
    rows = db.query(
        "SELECT r.organisation, r.resource_kind, r.status, COUNT(*) AS n "
        "FROM {s}view_referrals r JOIN (SELECT DISTINCT organisation, resource_kind "
        f"FROM {{s}}view_referrals WHERE {where} ORDER BY organisation, resource_kind "
        "LIMIT ?) g ON g.organisation = r.organisation AND g.resource_kind = r.resource_kind "
        "WHERE r.agency_id=? GROUP BY r.organisation, r.resource_kind, r.status "
        "ORDER BY r.organisation, r.resource_kind, r.status",
        [*params, limit, agency_id],
    )
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["organisation"], row["resource_kind"])
        counts = groups.setdefault(
            key,
            {"organisation": key[0], "resource_kind": key[1], "total": 0}
            | {s.value: 0 for s in ReferralStatus},
        )
        counts[row["status"]] = int(row["n"])
        counts["total"] += int(row["n"])
    return list(groups.values())


def outcome_key(row: dict[str, Any]) -> tuple[str, str]:
    return (row["organisation"], row["resource_kind"])
