"""The access log: who read which client's or case's records, when and for what purpose.

A read is written here before its data is returned; if the write fails the caller gets
:class:`AccessLogUnavailableError` and must not return the data.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from caserecord.access.db import Tables


class AccessLogUnavailableError(Exception):
    """The read could not be recorded, so its data must be withheld."""


@dataclass(frozen=True)
class Reader:
    actor_id: str
    actor_role: str
    agency_id: str
    token_id: str
    purpose: str


@dataclass(frozen=True)
class Subject:
    client_id: UUID | None
    case_id: UUID | None = None


def listed_subjects(items: Sequence[dict[str, Any]]) -> list[Subject]:
    """The clients and cases a listing's rows reveal, one subject per row."""
    return [
        Subject(
            UUID(str(i["client_id"])) if i.get("client_id") else None,
            UUID(str(i["case_id"])) if i.get("case_id") else None,
        )
        for i in items
    ]


class AccessLog:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def record(self, reader: Reader, action: str, subjects: Sequence[Subject]) -> None:
        if not subjects:
            return
        now = datetime.now(UTC).isoformat()
        rows = [
            (
                reader.agency_id,
                reader.actor_id,
                reader.actor_role,
                reader.token_id,
                action,
                reader.purpose,
                None if s.client_id is None else str(s.client_id),
                None if s.case_id is None else str(s.case_id),
                now,
            )
            for s in subjects
        ]
        try:
            self.tables.execute_many(
                "INSERT INTO {t}access_log (agency_id, actor_id, actor_role, token_id, action, "
                "purpose, client_id, case_id, accessed_at) VALUES (?,?,?,?,?,?,?,?,?)",
                rows,
            )
        except Exception as e:
            raise AccessLogUnavailableError(
                "the read could not be recorded in the access log"
            ) from e

    def for_client(
        self, agency_id: str, client_id: UUID, *, after: int = 0, limit: int = 100
    ) -> list[dict[str, Any]]:
        return self.tables.query(
            "SELECT entry_id, actor_id, actor_role, token_id, action, purpose, client_id, "
            "case_id, accessed_at FROM {t}access_log "
            "WHERE agency_id = ? AND client_id = ? AND entry_id > ? "
            "ORDER BY entry_id LIMIT ?",
            (agency_id, str(client_id), after, limit),
        )
