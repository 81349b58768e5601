"""PostgreSQL application recorder with the hash chain and idempotency keys written in the
same transaction as the events, after the library's table lock (so links are computed in
commit order)."""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from caserecord.persistence.chain import GENESIS, Link, chain, stream_key
from caserecord.persistence.idempotency import IdempotencyRecord
from caserecord.persistence.sqlite import group


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder):
    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self.chain_table = SQL("{}.event_chain").format(schema)
        self.idempotency_table = SQL("{}.idempotency_keys").format(schema)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                "originator_id text NOT NULL, originator_version bigint NOT NULL, "
                "prev_hash text NOT NULL, hash text NOT NULL, "
                "PRIMARY KEY (originator_id, originator_version))"
            ).format(self.chain_table)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                "agency_id text NOT NULL, idem_key text NOT NULL, fingerprint text NOT NULL, "
                "result text NOT NULL, created_at text NOT NULL, "
                "PRIMARY KEY (agency_id, idem_key))"
            ).format(self.idempotency_table)
        )

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        for stream_id, records in group(stored_events).items():
            prev = self._prev_hash(curs, stream_id, records[0].version)
            curs.executemany(
                SQL("INSERT INTO {} VALUES (%s,%s,%s,%s)").format(self.chain_table),
                [
                    (r.stream_id, r.version, link.prev_hash, link.hash)
                    for r, link in chain(prev, records)
                ],
            )
        idempotency: IdempotencyRecord | None = kwargs.get("idempotency")
        if idempotency is not None:
            curs.execute(
                SQL("INSERT INTO {} VALUES (%s,%s,%s,%s,%s)").format(self.idempotency_table),
                idempotency.row(),
            )
        return ids

    def _prev_hash(self, curs: Cursor[DictRow], stream_id: str, version: int) -> str:
        if version == 1:
            return GENESIS
        curs.execute(
            SQL("SELECT hash FROM {} WHERE originator_id=%s AND originator_version=%s").format(
                self.chain_table
            ),
            (stream_id, version - 1),
        )
        row = curs.fetchone()
        return str(row["hash"]) if row else "missing"

    def select_versions(self, originator_id: UUID, versions: Sequence[int]) -> list[StoredEvent]:
        """Chosen events of one stream in one query (a page of notes is scattered)."""
        if not versions:
            return []
        statement = self.select_events_statement + SQL(
            " AND originator_version = ANY(%s) ORDER BY originator_version"
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, [originator_id, list(versions)])
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    def chain_links(self, originator_id: UUID | str) -> dict[int, Link]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT originator_version, prev_hash, hash FROM {} "
                    "WHERE originator_id=%s ORDER BY originator_version"
                ).format(self.chain_table),
                (stream_key(originator_id),),
            )
            return {
                row["originator_version"]: Link(row["prev_hash"], row["hash"])
                for row in curs.fetchall()
            }

    def chain_heads(self) -> dict[str, tuple[int, str]]:
        """The latest link of every stream: what a signed checkpoint commits to."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT DISTINCT ON (originator_id) originator_id, originator_version, hash "
                    "FROM {} ORDER BY originator_id, originator_version DESC"
                ).format(self.chain_table)
            )
            return {
                row["originator_id"]: (row["originator_version"], row["hash"])
                for row in curs.fetchall()
            }

    def find_idempotency(self, agency_id: str, key: str) -> IdempotencyRecord | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT agency_id, idem_key, fingerprint, result, created_at FROM {} "
                    "WHERE agency_id=%s AND idem_key=%s"
                ).format(self.idempotency_table),
                (agency_id, key),
            )
            row = curs.fetchone()
            return IdempotencyRecord.from_row(tuple(row.values())) if row else None
