"""Read model 8: the agency's benefits applications across cases, by status and program."""

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from caserecord.domain.benefits import BenefitProgram, BenefitStatus
from caserecord.domain.case import Case
from caserecord.domain.errors import InvalidValueError
from caserecord.domain.values import parse
from caserecord.projections.base import ViewProjection, envelope, iso, iso_date, text_id, today
from caserecord.projections.sql import Database, Statement, ViewSchema


class BenefitsSchema(ViewSchema):
    name = "benefits"
    tables = ("view_benefit_applications",)
    ddl = (
        "CREATE TABLE IF NOT EXISTS {s}view_benefit_applications ("
        "application_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, agency_id TEXT NOT NULL, "
        "client_id TEXT NOT NULL, program TEXT NOT NULL, agency_name TEXT NOT NULL, "
        "status TEXT NOT NULL, started_at TEXT NOT NULL, submitted_on TEXT, "
        "expected_decision_on TEXT, renews_on TEXT, case_version BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS view_benefit_applications_status "
        "ON {s}view_benefit_applications (agency_id, status, program)",
    )
    digest_queries = ("SELECT * FROM {s}view_benefit_applications ORDER BY application_id",)


# started_at is written once, by the batch that saw the application start.
UPSERT = (
    "INSERT INTO {s}view_benefit_applications VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
    "ON CONFLICT (application_id) DO UPDATE SET status=excluded.status, "
    "submitted_on=excluded.submitted_on, expected_decision_on=excluded.expected_decision_on, "
    "renews_on=excluded.renews_on, case_version=excluded.case_version"
)
DELETE = "DELETE FROM {s}view_benefit_applications WHERE application_id=?"
BENEFIT_EVENTS: tuple[type[Case.Event], ...] = tuple(
    v for k, v in vars(Case).items() if k.startswith("Benefit") and isinstance(v, type)
)


@dataclass
class Touched:
    case: Case
    version: int
    started_at: str = ""


class BenefitsProjection(ViewProjection):
    """One row per application, written once per batch from the case's state."""

    name = "benefits"
    schema = BenefitsSchema

    def writes_for(self, event: Any, position: int) -> list[Statement]:
        if isinstance(event, Case.EntryMarkedInError):
            case = self.folder.fold(event)
            assert isinstance(case, Case)
            for application_id in case.benefit_applications:
                self._touched(application_id, case)
            return []
        if not isinstance(event, BENEFIT_EVENTS):
            return []
        case = self.folder.fold(event)
        assert isinstance(case, Case)
        touched = self._touched(vars(event)["application_id"], case)
        if isinstance(event, Case.BenefitApplicationStarted):
            touched.started_at = iso(envelope(event)["effective_at"])
        return []

    def _touched(self, application_id: str, case: Case) -> Touched:
        touched: Touched | None = self.touched.get(application_id)
        if touched is None:
            touched = Touched(case, case.version)
            self.touch(application_id, touched)
        touched.case, touched.version = case, case.version
        return touched

    def rows_for(self, key: str, value: Any) -> list[Statement]:
        touched: Touched = value
        case = touched.case
        a = case.benefit_applications[key]
        if a.in_error:  # set aside: gone, or never written if started in this batch
            return [] if touched.started_at else [(DELETE, (key,))]
        row = (
            key,
            text_id(case.id),
            case.agency_id,
            str(case.client_id),
            a.program,
            a.agency_name,
            a.status,
            touched.started_at,
            iso_date(a.submitted_on),
            iso_date(a.expected_decision_on),
            iso_date(a.renews_on),
            touched.version,
        )
        return [(UPSERT, row)]


def benefit_applications(
    db: Database,
    agency_id: str,
    *,
    status: str | None = None,
    program: str | None = None,
    after: tuple[str, str] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Applications in the order they were started; ``after``: the :func:`benefit_key` of
    the last one already shown."""
    if limit < 1:
        raise InvalidValueError("limit must be at least 1")
    where, params = ["agency_id=?"], [agency_id]
    if status is not None:
        where.append("status=?")
        params.append(parse(BenefitStatus, status, "status").value)
    if program is not None:
        where.append("program=?")
        params.append(parse(BenefitProgram, program, "program").value)
    if after is not None:
        where.append("(started_at, application_id) > (?, ?)")
        params.extend(after)
    rows = db.query(
        f"SELECT * FROM {{s}}view_benefit_applications WHERE {' AND '.join(where)} "
        "ORDER BY started_at, application_id LIMIT ?",
        [*params, limit],
    )
    day = today()
    return [benefit_row(r, day) for r in rows]


def benefit_key(row: dict[str, Any]) -> tuple[str, str]:
    return (row["started_at"], row["application_id"])


def benefit_row(row: dict[str, Any], day: date) -> dict[str, Any]:
    def day_of(name: str) -> date | None:
        return date.fromisoformat(row[name]) if row[name] else None

    expected = day_of("expected_decision_on")
    return {
        "application_id": row["application_id"],
        "case_id": UUID(row["case_id"]),
        "client_id": UUID(row["client_id"]),
        "program": row["program"],
        "agency_name": row["agency_name"],
        "status": row["status"],
        "started_at": row["started_at"],
        "submitted_on": day_of("submitted_on"),
        "expected_decision_on": expected,
        "renews_on": day_of("renews_on"),
        "decision_overdue": row["status"] == BenefitStatus.SUBMITTED
        and expected is not None
        and expected < day,
        "case_version": row["case_version"],
    }
