"""The stored rows of events and their hash chain, reached directly as someone with database
access could: for tests that tamper with them."""

import sqlite3
from typing import Any
from urllib.parse import parse_qs, urlparse
from uuid import UUID

import psycopg
from psycopg import sql

from tests.stores import PG_ADMIN_DSN


class StoredRows:
    """Direct access to the event and chain tables, as someone with database access has."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.postgres = not database_url.startswith("sqlite")

    def _run(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        # The library names the PostgreSQL events table after the application.
        if self.postgres:
            query = query.replace("stored_events", "caserecords_events")
            query = query.replace("stored_snapshots", "caserecords_snapshots").replace("?", "%s")
            schema = parse_qs(urlparse(self.url).query)["schema"][0]
            with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as pg:
                pg.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
                cursor = pg.execute(query.encode(), params)
                return cursor.fetchall() if cursor.description else []
        lite = sqlite3.connect(self.url.removeprefix("sqlite:///"))
        try:
            with lite:
                return lite.execute(query, params).fetchall()
        finally:
            lite.close()

    def event_id(self, stream: UUID) -> Any:
        return stream if self.postgres else stream.hex

    def state(self, stream: UUID, version: int) -> bytes:
        (row,) = self._run(
            "SELECT state FROM stored_events WHERE originator_id=? AND originator_version=?",
            self.event_id(stream),
            version,
        )
        return bytes(row[0])

    def set_state(self, stream: UUID, version: int, state: bytes) -> None:
        self._run(
            "UPDATE stored_events SET state=? WHERE originator_id=? AND originator_version=?",
            state,
            self.event_id(stream),
            version,
        )

    def flip_byte(self, stream: UUID, version: int, position: int | None = None) -> None:
        state = bytearray(self.state(stream, version))
        state[len(state) // 2 if position is None else position] ^= 0x01
        self.set_state(stream, version, bytes(state))

    def delete_event(self, stream: UUID, version: int) -> None:
        self._run(
            "DELETE FROM stored_events WHERE originator_id=? AND originator_version=?",
            self.event_id(stream),
            version,
        )

    def snapshot(self, stream: UUID, version: int) -> bytes:
        (row,) = self._run(
            "SELECT state FROM stored_snapshots WHERE originator_id=? AND originator_version=?",
            self.event_id(stream),
            version,
        )
        return bytes(row[0])

    def set_snapshot(self, stream: UUID, version: int, state: bytes) -> None:
        self._run(
            "UPDATE stored_snapshots SET state=? WHERE originator_id=? AND originator_version=?",
            state,
            self.event_id(stream),
            version,
        )

    def append_event(self, stream: UUID, version: int, topic: str, state: bytes) -> None:
        self._run(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
            "VALUES (?,?,?,?)",
            self.event_id(stream),
            version,
            topic,
            state,
        )

    def set_link(self, stream: UUID, version: int, column: str, value: str) -> None:
        assert column in ("hash", "prev_hash")
        self._run(
            f"UPDATE event_chain SET {column}=? WHERE originator_id=? AND originator_version=?",
            value,
            str(stream),
            version,
        )

    def link(self, stream: UUID, version: int) -> tuple[str, str]:
        (row,) = self._run(
            "SELECT prev_hash, hash FROM event_chain "
            "WHERE originator_id=? AND originator_version=?",
            str(stream),
            version,
        )
        return str(row[0]), str(row[1])
