"""Read model 6: instrument scores per client across cases (the trend), and the safety
flags still due per agency (the case manager's due items)."""

import json
from typing import Any
from uuid import UUID

from caserecord.domain.case import Case
from caserecord.domain.errors import InvalidValueError
from caserecord.projections.base import ViewProjection, envelope, from_iso, iso, text_id
from caserecord.projections.sql import Database, Statement, ViewSchema


class ScoresSchema(ViewSchema):
    name = "scores"
    tables = ("view_scores", "view_score_cases", "view_safety_flags")
    ddl = (
        "CREATE TABLE IF NOT EXISTS {s}view_scores ("
        "case_id TEXT NOT NULL, version BIGINT NOT NULL, agency_id TEXT NOT NULL, "
        "client_id TEXT NOT NULL, instrument TEXT NOT NULL, definition_version INTEGER NOT NULL, "
        "respondent TEXT NOT NULL, total DOUBLE PRECISION, band TEXT, flags TEXT NOT NULL, "
        "effective_at TEXT NOT NULL, PRIMARY KEY (case_id, version))",
        "CREATE INDEX IF NOT EXISTS view_scores_trend "
        "ON {s}view_scores (agency_id, client_id, instrument, effective_at)",
        # What a score row needs of its case, from the intake and assignments.
        "CREATE TABLE IF NOT EXISTS {s}view_score_cases ("
        "case_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, case_manager_id TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {s}view_safety_flags ("
        "case_id TEXT NOT NULL, version BIGINT NOT NULL, agency_id TEXT NOT NULL, "
        "client_id TEXT NOT NULL, case_manager_id TEXT NOT NULL, instrument TEXT NOT NULL, "
        "flags TEXT NOT NULL, effective_at TEXT NOT NULL, PRIMARY KEY (case_id, version))",
        "CREATE INDEX IF NOT EXISTS view_safety_flags_due "
        "ON {s}view_safety_flags (agency_id, effective_at)",
    )
    digest_queries = (
        "SELECT * FROM {s}view_scores ORDER BY case_id, version",
        "SELECT * FROM {s}view_score_cases ORDER BY case_id",
        "SELECT * FROM {s}view_safety_flags ORDER BY case_id, version",
    )


ADD_CASE = "INSERT INTO {s}view_score_cases VALUES (?,?,?)"
SET_MANAGER = (
    "UPDATE {s}view_score_cases SET case_manager_id=? WHERE case_id=?",
    "UPDATE {s}view_safety_flags SET case_manager_id=? WHERE case_id=?",
)
ADD_SCORE = (
    "INSERT INTO {s}view_scores SELECT ?, ?, ?, client_id, ?, ?, ?, ?, ?, ?, ? "
    "FROM {s}view_score_cases WHERE case_id=?"
)
ADD_FLAG = (
    "INSERT INTO {s}view_safety_flags SELECT ?, ?, ?, client_id, case_manager_id, ?, ?, ? "
    "FROM {s}view_score_cases WHERE case_id=?"
)
DROP_SCORE = "DELETE FROM {s}view_scores WHERE case_id=? AND version=?"
DROP_FLAG = "DELETE FROM {s}view_safety_flags WHERE case_id=? AND version=?"


class ScoresProjection(ViewProjection):
    """Rows from the administrations alone; only a marking folds the case, to learn who
    manages it once an assignment may have been set aside."""

    name = "scores"
    schema = ScoresSchema

    def writes_for(self, event: Any, position: int) -> list[Statement]:
        if not isinstance(event, Case.Event):
            return []
        case_id = text_id(event.originator_id)
        if isinstance(event, Case.Opened):
            return [(ADD_CASE, (case_id, str(event.client_id), event.case_manager_id))]
        if isinstance(event, Case.CaseManagerAssigned):
            return [(s, (event.case_manager_id, case_id)) for s in SET_MANAGER]
        if isinstance(event, Case.InstrumentAdministered):
            return administered(event, case_id)
        if isinstance(event, Case.SafetyFlagReviewed):
            return [(DROP_FLAG, (case_id, event.flag_version))]
        if isinstance(event, Case.EntryMarkedInError):
            case = self.folder.fold(event)
            assert isinstance(case, Case)
            drop = (case_id, event.target_version)
            manager = [(s, (case.case_manager_id, case_id)) for s in SET_MANAGER]
            return [(DROP_SCORE, drop), (DROP_FLAG, drop), *manager]
        return []


def administered(event: Case.InstrumentAdministered, case_id: str) -> list[Statement]:
    version = event.originator_version
    effective = iso(envelope(event)["effective_at"])
    agency = event.actor_agency_id
    writes: list[Statement] = [
        (
            ADD_SCORE,
            (
                case_id,
                version,
                agency,
                event.instrument,
                event.definition_version,
                event.respondent,
                event.total,
                event.band,
                json.dumps(list(event.flags)),
                effective,
                case_id,
            ),
        )
    ]
    if event.safety_flags:
        flags = json.dumps(list(event.safety_flags))
        row = (case_id, version, agency, event.instrument, flags, effective, case_id)
        writes.append((ADD_FLAG, row))
    return writes


def client_scores(
    db: Database,
    agency_id: str,
    client_id: UUID,
    instrument: str | None = None,
    *,
    after: tuple[str, str, int] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The client's scores (on one instrument, if named) across its cases, oldest first
    (by when they were given); ``after``: the :func:`score_key` of the last one shown."""
    if limit < 1:
        raise InvalidValueError("limit must be at least 1")
    where, params = ["agency_id=?", "client_id=?"], list[Any]([agency_id, str(client_id)])
    if instrument is not None:
        where.append("instrument=?")
        params.append(instrument)
    if after is not None:
        where.append("(effective_at, case_id, version) > (?, ?, ?)")
        params += list(after)
    rows = db.query(
        f"SELECT * FROM {{s}}view_scores WHERE {' AND '.join(where)} "
        "ORDER BY effective_at, case_id, version LIMIT ?",
        [*params, limit],
    )
    return [score_row(r) for r in rows]


def score_row(row: dict[str, Any]) -> dict[str, Any]:
    total = row["total"]
    return {
        "case_id": UUID(row["case_id"]),
        "version": row["version"],
        "instrument": row["instrument"],
        "definition_version": row["definition_version"],
        "respondent": row["respondent"],
        "total": int(total) if isinstance(total, float) and total.is_integer() else total,
        "band": row["band"],
        "flags": json.loads(row["flags"]),
        "effective_at": from_iso(row["effective_at"]),
    }


def score_key(row: dict[str, Any]) -> tuple[str, str, int]:
    effective = row["effective_at"]
    return (iso(effective), str(row["case_id"]), row["version"])


def safety_flags(
    db: Database,
    agency_id: str,
    *,
    case_manager_id: str | None = None,
    after: tuple[str, str, int] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Safety flags not yet reviewed, oldest first: each a due item for the case's
    manager."""
    if limit < 1:
        raise InvalidValueError("limit must be at least 1")
    where, params = ["agency_id=?"], list[Any]([agency_id])
    if case_manager_id is not None:
        where.append("case_manager_id=?")
        params.append(case_manager_id)
    if after is not None:
        where.append("(effective_at, case_id, version) > (?, ?, ?)")
        params += list(after)
    rows = db.query(
        f"SELECT * FROM {{s}}view_safety_flags WHERE {' AND '.join(where)} "
        "ORDER BY effective_at, case_id, version LIMIT ?",
        [*params, limit],
    )
    return [
        {
            "case_id": UUID(r["case_id"]),
            "version": r["version"],
            "client_id": UUID(r["client_id"]),
            "case_manager_id": r["case_manager_id"],
            "instrument": r["instrument"],
            "flags": json.loads(r["flags"]),
            "effective_at": from_iso(r["effective_at"]),
        }
        for r in rows
    ]
