"""The quarantine: the streams a read model stopped applying, and why.

A view that meets a stored event it cannot apply (undecodable, lacking what the view reads,
or needing an earlier event that is not in the store) writes a row here, in the same
transaction as its own writes and position, and applies no later event of that stream;
every other stream carries on.  One row per view and stream: the first event it could not
apply.  A rebuild of a view removes the view's rows and quarantines again what is still
damaged.

The table is made by the event store's recorders (``caserecord db init``) and read by the
service (``CaseRecords.quarantined_streams``); the views write it through their own
connection (``projections/base.py``).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

QUARANTINE_TABLE = "view_quarantine"

_COLUMNS = (
    "view_name {text} NOT NULL, stream_id {text} NOT NULL, agency_id {text} NOT NULL, "
    "version {int} NOT NULL, position {int} NOT NULL, problem {text} NOT NULL, "
    "quarantined_at {text} NOT NULL, PRIMARY KEY (view_name, stream_id)"
)
SQLITE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {QUARANTINE_TABLE} ("
    + _COLUMNS.format(text="TEXT", int="INTEGER")
    + ") WITHOUT ROWID"
)
# Formatted with the schema-qualified table name.
POSTGRES_DDL = "CREATE TABLE IF NOT EXISTS {} (" + _COLUMNS.format(text="text", int="bigint") + ")"

# The views' own SQL dialect (projections/sql.py): ``{s}`` before table names, ``?``.
INSERT = (
    f"INSERT INTO {{s}}{QUARANTINE_TABLE} VALUES (?,?,?,?,?,?,?) "
    "ON CONFLICT (view_name, stream_id) DO NOTHING"
)
STREAMS_OF_VIEW = f"SELECT stream_id FROM {{s}}{QUARANTINE_TABLE} WHERE view_name=?"
FORGET_VIEW = f"DELETE FROM {{s}}{QUARANTINE_TABLE} WHERE view_name=?"
SELECT = (
    "SELECT stream_id, view_name, agency_id, version, position, problem, quarantined_at "
    f"FROM {{s}}{QUARANTINE_TABLE}"
)
ORDER = " ORDER BY position, view_name"


@dataclass(frozen=True)
class Quarantined:
    """A stream one view stopped applying at ``version`` (log ``position``), and why."""

    stream_id: str
    view: str
    agency_id: str  # "" when no readable event of the stream says whose it is
    version: int
    position: int
    problem: str
    quarantined_at: str

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> "Quarantined":
        stream, view, agency, version, position, problem, at = row
        return cls(str(stream), str(view), str(agency), int(version), int(position), problem, at)


def select_statement(
    *, agency_id: str | None = None, stream_id: str | None = None
) -> tuple[str, list[str]]:
    """The query of the quarantined streams (of one agency, or of one stream), in the views'
    dialect, with its parameters."""
    where: list[str] = []
    params: list[str] = []
    if agency_id is not None:
        where.append("agency_id=?")
        params.append(agency_id)
    if stream_id is not None:
        where.append("stream_id=?")
        params.append(stream_id)
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    return SELECT + condition + ORDER, params


class RecordQuarantinedError(Exception):
    """The read models stopped applying the record's stream at a damaged event: what they
    show of it ends before that event, so the record is not served as if whole.  The
    message is one line."""

    code = "record_incomplete"

    def __init__(self, found: Quarantined) -> None:
        super().__init__(
            f"the read models quarantined stream {found.stream_id} at version {found.version} "
            f"({found.problem}): the record cannot be shown whole; check the case with "
            "GET /v1/cases/{case_id}/verification and GET /v1/quarantine"
        )
        self.stream_id = found.stream_id
        self.version = found.version
