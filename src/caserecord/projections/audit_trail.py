"""Read model 4: the audit trail, one row per event across all cases and clients.

It keeps every event, including entries later marked in error (flagged, never dropped):
an audit trail that forgot corrected entries would not be one.  The hash of each event is
joined from the ``event_chain`` table at query time, so it is always the stored one.  The
rows also serve as the (stream, version, recorded_at, effective_at) index the "as of"
replay uses to find versions without reading the whole stream.
"""

from collections import OrderedDict
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import PersistenceError
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from caserecord.domain.base import RecordAggregate
from caserecord.domain.case import Case
from caserecord.domain.client import Client
from caserecord.domain.consent import SPECIALTY_LABELS
from caserecord.domain.errors import InvalidValueError
from caserecord.domain.values import TaskConcerns
from caserecord.projections.base import ViewProjection, envelope, from_iso, iso, text_id
from caserecord.projections.sql import Database, Statement, ViewSchema
from caserecord.projections.summaries import summarise


class AuditTrailSchema(ViewSchema):
    name = "audit_trail"
    tables = ("view_audit", "view_audit_streams")
    ddl = (
        "CREATE TABLE IF NOT EXISTS {s}view_audit ("
        "position {rowid} PRIMARY KEY, stream_id TEXT NOT NULL, stream_kind TEXT NOT NULL, "
        "version BIGINT NOT NULL, case_id TEXT, client_id TEXT, agency_id TEXT NOT NULL, "
        "event_type TEXT NOT NULL, recorded_at TEXT NOT NULL, effective_at TEXT NOT NULL, "
        "actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, actor_agency_id TEXT NOT NULL, "
        "summary TEXT NOT NULL, reason TEXT NOT NULL, correlation_id TEXT NOT NULL, "
        "late INTEGER NOT NULL, target_version BIGINT, marked_in_error_by BIGINT, "
        # Need to know: the entry's own labels (kept current), what it is about (an
        # addendum's note, a marking's target...) and the note id a note records.
        "labels TEXT NOT NULL, about_version BIGINT, entity_id TEXT NOT NULL)",
        "CREATE UNIQUE INDEX IF NOT EXISTS view_audit_stream ON {s}view_audit (stream_id, version)",
        "CREATE INDEX IF NOT EXISTS view_audit_recorded ON {s}view_audit (stream_id, recorded_at)",
        "CREATE INDEX IF NOT EXISTS view_audit_agency ON {s}view_audit (agency_id, position)",
        "CREATE INDEX IF NOT EXISTS view_audit_client ON {s}view_audit (client_id, position)",
        "CREATE INDEX IF NOT EXISTS view_audit_actor ON {s}view_audit (actor_id, position)",
        "CREATE TABLE IF NOT EXISTS {s}view_audit_streams ("
        "stream_id TEXT PRIMARY KEY, kind TEXT NOT NULL, agency_id TEXT NOT NULL, "
        "client_id TEXT NOT NULL, labels TEXT NOT NULL)",
    )
    digest_queries = (
        "SELECT * FROM {s}view_audit ORDER BY position",
        "SELECT * FROM {s}view_audit_streams ORDER BY stream_id",
    )


ADD_STREAM = "INSERT INTO {s}view_audit_streams VALUES (?,?,?,?,?)"
FIND_STREAM = (
    "SELECT kind, agency_id, client_id, labels FROM {s}view_audit_streams WHERE stream_id=?"
)
ADD_ROW = "INSERT INTO {s}view_audit VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,NULL,?,?,?)"
MARK = "UPDATE {s}view_audit SET marked_in_error_by=? WHERE stream_id=? AND version=?"
RELABEL = "UPDATE {s}view_audit SET labels=? WHERE stream_id=? AND version=?"
FIND_NOTE = "SELECT version FROM {s}view_audit WHERE stream_id=? AND event_type=? AND entity_id=?"
FIND_ABOUT = "SELECT about_version FROM {s}view_audit WHERE stream_id=? AND version=?"
# Events about another entry of the case, read as that entry is: its version.
TARGETS: dict[type, str] = {
    Case.EntryMarkedInError: "target_version",
    Case.EntryRelabelled: "target_version",
    Case.SafetyFlagReviewed: "flag_version",
}


RECORDED = (Case.Event, Client.Event)  # a tuple: isinstance with a union costs more


def event_data(event: RecordAggregate.Event) -> dict[str, Any]:
    # The summaries read a few plain fields; no need to convert the whole event.
    return vars(event)


class AuditTrailProjection(ViewProjection):
    name = "audit_trail"
    schema = AuditTrailSchema
    STREAMS = 10_000  # more than a catch-up page can add, so a page never loses its own

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Stream id -> (kind, agency, client, default labels), fixed by a stream's first
        # event: remembered rather than looked up in SQL for every row.
        self.streams: OrderedDict[str, tuple[str, str, str, str]] = OrderedDict()
        # (stream id, note id) -> the version that recorded the note, for its addenda;
        # (stream id, version) -> what the entry there is about, for a marking of it.
        self.notes: OrderedDict[tuple[str, str], int] = OrderedDict()
        self.abouts: OrderedDict[tuple[str, int], int] = OrderedDict()

    def writes_for(self, event: Any, position: int) -> list[Statement]:
        if not isinstance(event, RECORDED):
            return []
        stream = text_id(event.originator_id)
        writes: list[Statement] = []
        if isinstance(event, Case.Opened):
            defaults = ",".join(SPECIALTY_LABELS.get(event.specialty, ()))
            self._remember(stream, ("case", event.agency_id, str(event.client_id), defaults))
            writes.append((ADD_STREAM, (stream, *self.streams[stream])))
        elif isinstance(event, Client.Registered):
            self._remember(stream, ("client", event.agency_id, stream, ""))
            writes.append((ADD_STREAM, (stream, *self.streams[stream])))
        kind, agency_id, client_id, labels = self._stream(stream)
        env = envelope(event)
        recorded = iso(event.timestamp)
        effective = iso(env["effective_at"])
        target = event.target_version if isinstance(event, Case.EntryMarkedInError) else None
        event_type = type(event).__name__
        row = (
            position,
            stream,
            kind,
            event.originator_version,
            stream if kind == "case" else None,
            client_id,
            agency_id,
            event_type,
            recorded,
            effective,
            env["actor_id"],
            env["actor_role"],
            env["actor_agency_id"],
            summarise(event_type, event_data(event)),
            env["reason"],
            env["correlation_id"],
            int(effective < recorded),
            target,
            own_labels(event, labels),
            self._about(stream, event),
            event.note_id if isinstance(event, Case.ProgressNoteRecorded) else "",
        )
        writes.append((ADD_ROW, row))
        if target is not None:
            writes.append((MARK, (event.originator_version, stream, target)))
        about = row[-2]
        if about is not None:
            remember(self.abouts, (stream, event.originator_version), about, self.STREAMS)
        if isinstance(event, Case.ProgressNoteRecorded):
            remember(self.notes, (stream, event.note_id), event.originator_version, self.STREAMS)
        elif isinstance(event, Case.EntryRelabelled):
            writes.append((RELABEL, (",".join(event.labels), stream, event.target_version)))
        return writes

    def _about(self, stream: str, event: Any) -> int | None:
        """The version of the entry whose labels govern the event's content as well as
        its own: an addendum's note, a task's note, a marking's or relabelling's target,
        a safety flag review's flag."""
        field = TARGETS.get(type(event))
        if field is not None:
            # A marking of an addendum is about the addendum's note.
            target = int(getattr(event, field))
            return self._about_of(stream, target) or target
        note_id = None
        if isinstance(event, Case.AddendumAppended):
            note_id = event.note_id
        elif isinstance(event, Case.TaskCreated) and event.concerns == TaskConcerns.NOTE:
            note_id = event.concerns_id
        if not note_id:
            return None
        found = self.notes.get((stream, note_id))
        if found is None:
            rows = self.view.db.query(FIND_NOTE, (stream, "ProgressNoteRecorded", note_id))
            found = int(rows[0]["version"]) if rows else None
        return found

    def _about_of(self, stream: str, version: int) -> int | None:
        found = self.abouts.get((stream, version))
        if found is None:
            rows = self.view.db.query(FIND_ABOUT, (stream, version))
            found = rows[0]["about_version"] if rows else None
        return None if found is None else int(found)

    def _stream(self, stream: str) -> tuple[str, str, str, str]:
        found = self.streams.get(stream)
        if found is not None:
            self.streams.move_to_end(stream)
            return found
        rows = self.view.db.query(FIND_STREAM, (stream,))
        if not rows:
            msg = f"the audit trail has no first event of stream {stream}"
            raise RuntimeError(msg)
        row = rows[0]
        found = (row["kind"], row["agency_id"], row["client_id"], row["labels"])
        self._remember(stream, found)
        return found

    def _remember(self, stream: str, facts: tuple[str, str, str, str]) -> None:
        self.streams[stream] = facts
        self.streams.move_to_end(stream)
        if len(self.streams) > self.STREAMS:
            self.streams.popitem(last=False)


def remember(cache: OrderedDict[Any, int], key: Any, value: int, most: int) -> None:
    cache[key] = value
    if len(cache) > most:
        cache.popitem(last=False)


def own_labels(event: Any, defaults: str) -> str:
    """The labels an event's entry carries when recorded: its case's defaults, and for a
    note those it was recorded with besides."""
    if isinstance(event, Case.ProgressNoteRecorded) and event.labels:
        found = defaults.split(",") if defaults else []
        found += [c for c in event.labels if c not in found]
        return ",".join(found)
    return defaults


def audit_trail(
    db: Database,
    agency_id: str,
    *,
    case_id: UUID | None = None,
    client_id: UUID | None = None,
    actor_id: str | None = None,
    event_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Events in recording order; ``since``/``until`` bound ``recorded_at``, ``after`` is
    the position of the last row already shown."""
    if limit < 1:
        raise InvalidValueError("limit must be at least 1")
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.utcoffset() is None:
            raise InvalidValueError(f"{name} must include a timezone offset")
    where = ["a.agency_id=?"]
    params: list[Any] = [agency_id]
    filters: list[tuple[str, Any]] = [
        ("a.case_id=?", str(case_id) if case_id else None),
        ("a.client_id=?", str(client_id) if client_id else None),
        ("a.actor_id=?", actor_id),
        ("a.event_type=?", event_type),
        ("a.recorded_at>=?", iso(since) if since else None),
        ("a.recorded_at<=?", iso(until) if until else None),
        ("a.position>?", after),
    ]
    for clause, value in filters:
        if value is not None:
            where.append(clause)
            params.append(value)
    rows = db.query(
        "SELECT a.*, ch.hash, t.labels AS about_labels, t.actor_id AS about_actor "
        "FROM {s}view_audit a LEFT JOIN {s}event_chain ch "
        "ON ch.originator_id = a.stream_id AND ch.originator_version = a.version "
        "LEFT JOIN {s}view_audit t ON t.stream_id = a.stream_id AND t.version = a.about_version "
        f"WHERE {' AND '.join(where)} ORDER BY a.position LIMIT ?",
        [*params, limit],
    )
    return [audit_row(r) for r in rows]


def audit_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "position": row["position"],
        "stream_id": UUID(row["stream_id"]),
        "stream_kind": row["stream_kind"],
        "version": row["version"],
        "case_id": UUID(row["case_id"]) if row["case_id"] else None,
        "client_id": UUID(row["client_id"]) if row["client_id"] else None,
        "agency_id": row["agency_id"],
        "event_type": row["event_type"],
        "recorded_at": from_iso(row["recorded_at"]),
        "effective_at": from_iso(row["effective_at"]),
        "actor": {
            "id": row["actor_id"],
            "role": row["actor_role"],
            "agency_id": row["actor_agency_id"],
        },
        "summary": row["summary"],
        "reason": row["reason"],
        "correlation_id": row["correlation_id"],
        "late": bool(row["late"]),
        "in_error": row["marked_in_error_by"] is not None,
        "marked_in_error_by": row["marked_in_error_by"],
        "target_version": row["target_version"],
        "hash": row["hash"],
        # The labels now governing what the row says: its own and its subject's.
        "labels": sorted({*split(row["labels"]), *split(row["about_labels"])}),
        "entry_author": row["about_actor"],
    }


def split(labels: str | None) -> list[str]:
    return labels.split(",") if labels else []


# One event's place on both time axes: (version, recorded_at, effective_at, event_type,
# target_version of a marking), times as the view's UTC text.
Times = tuple[int, str, str, str, int | None]


class StreamTimes:
    """The audit rows of one stream as a (version, recorded_at, effective_at) index, for
    finding versions by time without reading the stream.  With no view tables (never
    initialised) every query finds nothing, and the caller reads the log instead."""

    def __init__(self, datastore: SQLiteDatastore | PostgresDatastore, stream_id: UUID) -> None:
        self.db = Database(datastore)
        self.stream = str(stream_id)

    def top(self) -> int:
        """The highest version the view holds (a stream's rows are written in version
        order, so versions 1..top are all there)."""
        rows = self._query(
            "SELECT MAX(version) AS v FROM {s}view_audit WHERE stream_id=?", (self.stream,)
        )
        value = rows[0]["v"] if rows else None
        return int(value) if value is not None else 0

    def recorded_by(self, cut: str) -> tuple[int, int] | None:
        """The last version recorded by the cut, and the view's top, in one query."""
        rows = self._query(
            "SELECT version, (SELECT MAX(version) FROM {s}view_audit WHERE stream_id=?) AS top "
            "FROM {s}view_audit WHERE stream_id=? AND recorded_at<=? "
            "ORDER BY recorded_at DESC, version DESC LIMIT 1",
            (self.stream, self.stream, cut),
        )
        return (int(rows[0]["version"]), int(rows[0]["top"])) if rows else None

    def first_effective_after(self, upto: int, cut: str) -> int | None:
        """The first version up to ``upto`` that took effect after the cut."""
        rows = self._query(
            "SELECT MIN(version) AS v FROM {s}view_audit "
            "WHERE stream_id=? AND version<=? AND effective_at>?",
            (self.stream, upto, cut),
        )
        value = rows[0]["v"] if rows else None
        return int(value) if value is not None else None

    def in_effect(self, after: int, upto: int, cut: str, or_type: str) -> list[Times]:
        """Versions after ``after`` up to ``upto`` in effect by the cut, or of ``or_type``."""
        rows = self._query(
            "SELECT version, recorded_at, effective_at, event_type, target_version "
            "FROM {s}view_audit WHERE stream_id=? AND version>? AND version<=? "
            "AND (effective_at<=? OR event_type=?) ORDER BY version",
            (self.stream, after, upto, cut, or_type),
        )
        return [
            (
                int(r["version"]),
                r["recorded_at"],
                r["effective_at"],
                r["event_type"],
                None if r["target_version"] is None else int(r["target_version"]),
            )
            for r in rows
        ]

    def _query(self, statement: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        try:
            return self.db.query(statement, params)
        except PersistenceError:
            return []
