"""Read model 3: the referral tracker, across cases, with days open and overdue."""

import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from caserecord.domain.case import Case
from caserecord.domain.entities import Change, current
from caserecord.domain.errors import InvalidValueError
from caserecord.domain.values import (
    AWAITING_ANSWER,
    EXPIRED,
    FINAL_REFERRAL,
    ReferralOutcome,
    ReferralStatus,
    parse,
    referral_expired,
)
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
        "resource_kind TEXT NOT NULL, urgency TEXT NOT NULL, organization_id TEXT NOT NULL, "
        "service_id TEXT NOT NULL, need TEXT NOT NULL, goal_id TEXT NOT NULL, "
        "rerouted_from TEXT NOT NULL, made_at TEXT NOT NULL, respond_by TEXT, "
        "status TEXT NOT NULL, closed_at TEXT, accepted_at TEXT, outcome TEXT NOT NULL, "
        "declined_by TEXT NOT NULL, reason_code TEXT NOT NULL, rerouted_to TEXT NOT NULL, "
        "case_version BIGINT NOT NULL, contact TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS view_referrals_status ON {s}view_referrals (agency_id, status)",
        "CREATE INDEX IF NOT EXISTS view_referrals_case ON {s}view_referrals (case_id)",
        "CREATE INDEX IF NOT EXISTS view_referrals_org "
        "ON {s}view_referrals (agency_id, organization_id)",
    )
    digest_queries = ("SELECT * FROM {s}view_referrals ORDER BY referral_id",)


FINAL = tuple(FINAL_REFERRAL)
OPEN = tuple(s.value for s in ReferralStatus if s not in FINAL_REFERRAL)
STATUS_EVENTS = (
    Case.ReferralReceived,
    Case.ReferralAccepted,
    Case.ReferralWaitlisted,
    Case.ReferralDeclined,
    Case.ReferralInProgress,
    Case.ReferralCompleted,
    Case.ReferralWithdrawn,
)

INSERT = "INSERT INTO {s}view_referrals VALUES (" + ",".join("?" * 24) + ")"
# closed_at is the effective time of the move into a final state, accepted_at of the move
# into accepted; each is kept while the referral stays there or beyond, and cleared when
# that move is marked in error.
SET_STATUS = (
    "UPDATE {s}view_referrals SET status=?, outcome=?, declined_by=?, reason_code=?, "
    "rerouted_to=?, case_version=?, "
    "closed_at=CASE WHEN ? THEN COALESCE(?, closed_at) ELSE NULL END, "
    "accepted_at=CASE WHEN ? THEN COALESCE(?, accepted_at) ELSE NULL END "
    "WHERE referral_id=?"
)
DELETE = "DELETE FROM {s}view_referrals WHERE referral_id=?"


@dataclass
class Touched:
    """What a referral's row needs beyond the case's state, from the events of a batch."""

    case: Case
    version: int  # of the last event that changed the row
    made: tuple[Any, ...] | None = None  # the row's fixed part, if made in this batch
    contact: str = "{}"  # what it shares of the client's contact (JSON), if made in it
    closed_at: str | None = None  # of the last move into a final state in this batch
    accepted_at: str | None = None  # of the last move into accepted in this batch


def was_accepted(statuses: list[Change]) -> bool:
    return any(c.value == ReferralStatus.ACCEPTED and not c.in_error for c in statuses)


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
                event.organization_id,
                event.service_id,
                event.need,
                event.goal_id,
                event.rerouted_from,
                iso(envelope(event)["effective_at"]),
                iso_date(event.respond_by),
            )
            contact = json.dumps(event.contact or {}, sort_keys=True)
            self.touch(event.referral_id, Touched(case, case.version, made, contact=contact))
            if event.rerouted_from:
                self._touched(event.rerouted_from, case)
        elif isinstance(event, STATUS_EVENTS):
            touched = self._touched(event.referral_id, case)
            at = iso(envelope(event)["effective_at"])
            status = case.referrals[event.referral_id].status
            touched.closed_at = at if status in FINAL else None
            if isinstance(event, Case.ReferralAccepted):
                touched.accepted_at = at
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
        accepted = was_accepted(r.statuses)
        d = status.details
        coded = (
            str(d.get("outcome", "")),
            str(d.get("declined_by", "")),
            str(d.get("reason_code", "")),
            r.rerouted_to,
        )
        if touched.made is None:
            params = (status.value, *coded, touched.version, final, touched.closed_at)
            return [(SET_STATUS, (*params, accepted, touched.accepted_at, key))]
        closed_at = touched.closed_at if final else None
        accepted_at = touched.accepted_at if accepted else None
        row = (*touched.made, status.value, closed_at, accepted_at, *coded, touched.version)
        row += (touched.contact,)
        return [(INSERT, row)]


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
    last one already shown.  ``status`` "expired" and ``overdue``: awaiting an answer past
    the response deadline (derived, never written)."""
    if limit < 1:
        raise InvalidValueError("limit must be at least 1")
    where = ["agency_id=?"]
    params: list[Any] = [agency_id]
    day = today()
    awaiting = ",".join("?" * len(AWAITING_ANSWER))
    expired_sql = f"status IN ({awaiting}) AND respond_by IS NOT NULL AND respond_by < ?"
    expired_params = [*sorted(AWAITING_ANSWER), day.isoformat()]
    if status == EXPIRED:
        overdue = True
    elif status is not None:
        where.append("status=?")
        params.append(parse(ReferralStatus, status, "status").value)
        if status in AWAITING_ANSWER:
            overdue = False
    if organisation is not None:
        where.append("organisation=?")
        params.append(organisation)
    if case_id is not None:
        where.append("case_id=?")
        params.append(str(case_id))
    if overdue is True:
        where.append(expired_sql)
        params += expired_params
    elif overdue is False:
        where.append(f"NOT ({expired_sql})")
        params += expired_params
    if after is not None:
        where.append("(made_at, referral_id) > (?, ?)")
        params.extend(after)
    rows = db.query(
        f"SELECT * FROM {{s}}view_referrals WHERE {' AND '.join(where)} "
        "ORDER BY made_at, referral_id LIMIT ?",
        [*params, limit],
    )
    return [referral_row(r, day) for r in rows]


NO_DEADLINE = "9999-12-31"


def open_referrals(
    db: Database,
    agency_id: str,
    *,
    organization_id: str | None = None,
    after: tuple[str, str] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Referrals still open (expired ones included, re-routed ones not), the nearest
    response deadline first, those without one last; ``after``: the :func:`open_key` of
    the last one already shown.  ``organization_id``: only those sent to it."""
    if limit < 1:
        raise InvalidValueError("limit must be at least 1")
    where = [f"agency_id=? AND status IN ({','.join('?' * len(OPEN))}) AND rerouted_to=''"]
    params: list[Any] = [agency_id, *OPEN]
    if organization_id is not None:
        where.append("organization_id=?")
        params.append(organization_id)
    if after is not None:
        where.append(f"(COALESCE(respond_by, '{NO_DEADLINE}'), referral_id) > (?, ?)")
        params.extend(after)
    rows = db.query(
        f"SELECT * FROM {{s}}view_referrals WHERE {' AND '.join(where)} "
        f"ORDER BY COALESCE(respond_by, '{NO_DEADLINE}'), referral_id LIMIT ?",
        [*params, limit],
    )
    day = today()
    return [referral_row(r, day) for r in rows]


def open_key(row: dict[str, Any]) -> tuple[str, str]:
    deadline = row["respond_by"]
    return (deadline.isoformat() if deadline else NO_DEADLINE, row["referral_id"])


def referral_row(row: dict[str, Any], day: date) -> dict[str, Any]:
    made = from_iso(row["made_at"])
    closed = from_iso(row["closed_at"])
    assert made is not None
    respond_by = date.fromisoformat(row["respond_by"]) if row["respond_by"] else None
    end = closed.date() if closed else day
    expired = referral_expired(row["status"], respond_by, day)
    return {
        "referral_id": row["referral_id"],
        "case_id": UUID(row["case_id"]),
        "client_id": UUID(row["client_id"]),
        "agency_id": row["agency_id"],
        "organisation": row["organisation"],
        "service_name": row["service_name"],
        "organization_id": row["organization_id"],
        "service_id": row["service_id"],
        "need": row["need"],
        "goal_id": row["goal_id"],
        "resource_kind": row["resource_kind"],
        "urgency": row["urgency"],
        "status": EXPIRED if expired else row["status"],
        "made_at": made,
        "respond_by": respond_by,
        "accepted_at": from_iso(row["accepted_at"]),
        "closed_at": closed,
        "outcome": row["outcome"],
        "declined_by": row["declined_by"],
        "reason_code": row["reason_code"],
        "rerouted_from": row["rerouted_from"],
        "rerouted_to": row["rerouted_to"],
        "contact": json.loads(row["contact"]),
        "days_open": (end - made.date()).days,
        "overdue": expired,
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
            | {s.value: 0 for s in ReferralStatus}
            | {"pending": 0},
        )
        counts[row["status"]] = int(row["n"])
        if row["status"] == ReferralStatus.SENT:  # its name before the closed loop
            counts["pending"] = int(row["n"])
        counts["total"] += int(row["n"])
    return list(groups.values())


def outcome_key(row: dict[str, Any]) -> tuple[str, str]:
    return (row["organisation"], row["resource_kind"])


def median_days(spans: list[float]) -> float | None:
    return round(statistics.median(spans), 2) if spans else None


STAT_GROUPS = {
    "service": ("organization_id", "organisation", "service_id", "service_name"),
    "need": ("need",),
}


def stats_key(by: str) -> Callable[[dict[str, Any]], tuple[str, ...]]:
    return lambda row: tuple(row[c] for c in STAT_GROUPS[by])


def referral_stats(
    db: Database,
    agency_id: str,
    by: str,
    *,
    after: tuple[str, ...] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Per service (``by`` "service") or per need (``by`` "need"): how many referrals, the
    median days from made to accepted and from made to completed, over effective times
    (so an entry recorded late counts when it happened), and completions by outcome.
    Referrals naming no need count under need "".  In the order of their group's key;
    ``after``: the :func:`stats_key` of the last group already shown."""
    if limit < 1:
        raise InvalidValueError("limit must be at least 1")
    group = STAT_GROUPS[by]
    rows = db.query(
        f"SELECT {', '.join(group)}, status, made_at, accepted_at, closed_at, outcome "
        "FROM {s}view_referrals WHERE agency_id=? ORDER BY " + ", ".join(group),
        [agency_id],
    )
    stats: dict[tuple[str, ...], dict[str, Any]] = {}
    spans: dict[tuple[str, ...], tuple[list[float], list[float]]] = {}
    for row in rows:
        key = tuple(str(row[c]) for c in group)
        entry = stats.setdefault(
            key,
            dict(zip(group, key, strict=True))
            | {"referrals": 0, "accepted": 0, "completed": 0}
            | {"outcomes": {o.value: 0 for o in ReferralOutcome} | {"not_coded": 0}},
        )
        to_accept, to_complete = spans.setdefault(key, ([], []))
        entry["referrals"] += 1
        made = from_iso(row["made_at"])
        assert made is not None
        accepted = from_iso(row["accepted_at"])
        if accepted is not None:
            entry["accepted"] += 1
            to_accept.append((accepted - made).total_seconds() / DAY)
        closed = from_iso(row["closed_at"])
        if row["status"] == ReferralStatus.COMPLETED and closed is not None:
            entry["completed"] += 1
            to_complete.append((closed - made).total_seconds() / DAY)
            entry["outcomes"][row["outcome"] or "not_coded"] += 1
    for key, entry in stats.items():
        to_accept, to_complete = spans[key]
        entry["median_days_to_accept"] = median_days(to_accept)
        entry["median_days_to_complete"] = median_days(to_complete)
    ordered = [stats[k] for k in sorted(stats) if after is None or k > tuple(after)]
    return ordered[:limit]


DAY = 86_400.0


PROVIDER_FIELDS = (
    "referral_id",
    "organization_id",
    "organisation",
    "service_id",
    "service_name",
    "resource_kind",
    "need",
    "urgency",
    "status",
    "made_at",
    "respond_by",
    "accepted_at",
    "closed_at",
    "outcome",
    "reason_code",
    "contact",
)
"""What a provider sees of a referral sent to it: what the referral asks of it and the
client's contact details the case manager chose to share, never the case, its client's
record or notes (minimum necessary)."""


def provider_referrals(
    db: Database,
    agency_id: str,
    organization_id: str,
    *,
    after: tuple[str, str] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The provider's inbox: the referrals sent to ``organization_id``, re-routed ones
    left out, in the order they were made; ``after``: the :func:`referral_key` of the last
    one already shown.  Each row keeps ``case_id`` and ``client_id`` for the access log;
    the route answers only ``PROVIDER_FIELDS``."""
    if limit < 1:
        raise InvalidValueError("limit must be at least 1")
    where = "agency_id=? AND organization_id=? AND rerouted_to=''"
    params: list[Any] = [agency_id, organization_id]
    if after is not None:
        where += " AND (made_at, referral_id) > (?, ?)"
        params.extend(after)
    rows = db.query(
        f"SELECT * FROM {{s}}view_referrals WHERE {where} ORDER BY made_at, referral_id LIMIT ?",
        [*params, limit],
    )
    day = today()
    return [referral_row(r, day) for r in rows]


def provider_referral(
    db: Database, agency_id: str, organization_id: str, referral_id: str
) -> dict[str, Any] | None:
    """One referral sent to ``organization_id``, or None (another's looks the same)."""
    rows = db.query(
        "SELECT * FROM {s}view_referrals "
        "WHERE referral_id=? AND agency_id=? AND organization_id=? AND rerouted_to=''",
        [referral_id, agency_id, organization_id],
    )
    return referral_row(rows[0], today()) if rows else None
