"""PostgreSQL application recorder with the hash chain, idempotency keys and the event
feed's agency index written in the same transaction as the events, after the library's table
lock (so links are computed in commit order)."""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from caserecord.persistence.chain import GENESIS, Link, chain, stream_key
from caserecord.persistence.feed import FEED_TABLE, agencies, index_rows
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
        self.feed_table = SQL("{}.{}").format(schema, Identifier(FEED_TABLE))
        self.events_table = SQL("{}.{}").format(schema, Identifier(self.events_table_name))
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
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                "agency_id text NOT NULL, notification_id bigint NOT NULL, "
                "PRIMARY KEY (agency_id, notification_id))"
            ).format(self.feed_table)
        )

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        # Runs before the events are inserted, where an error still rolls the transaction
        # back (one raised after the insert is re-raised only once the library committed).
        agencies(stored_events)
        super()._insert_events(curs, stored_events, **kwargs)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        curs.executemany(
            SQL("INSERT INTO {} VALUES (%s,%s)").format(self.feed_table),
            index_rows(agencies(stored_events), ids),
        )
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

    def agency_notifications(
        self, agency_id: str, *, after: int, limit: int
    ) -> tuple[int, list[Notification]]:
        """The head of the log, and up to ``limit`` of the agency's events after ``after``
        and not past that head, through the agency index.  The head is read first: the
        table lock makes positions commit in order, so every event up to it is visible."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.max_notification_id_statement)
            found = curs.fetchone()
            head = int(found["max"] or 0) if found else 0
            curs.execute(
                SQL(
                    "SELECT e.notification_id, e.originator_id, e.originator_version, "
                    "e.topic, e.state FROM {} AS a JOIN {} AS e "
                    "ON e.notification_id = a.notification_id "
                    "WHERE a.agency_id=%s AND a.notification_id>%s AND a.notification_id<=%s "
                    "ORDER BY a.notification_id LIMIT %s"
                ).format(self.feed_table, self.events_table),
                (agency_id, after, head, limit),
            )
            return head, [
                Notification(
                    id=row["notification_id"],
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    def probe_feed_index(self) -> None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT 1 FROM {} LIMIT 1").format(self.feed_table))

    def feed_index_counts(self) -> tuple[int, int]:
        """(events logged, events indexed): equal when the feed's index is complete.
        Also the probe that the index table exists."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT (SELECT COUNT(*) FROM {}) AS events, (SELECT COUNT(*) FROM {}) AS n"
                ).format(self.events_table, self.feed_table)
            )
            row = curs.fetchone()
            assert row is not None
            return int(row["events"]), int(row["n"])

    def add_to_feed_index(self, rows: Sequence[tuple[str, int]]) -> None:
        """Index events logged before the index existed; rows already there are kept."""
        with self.datastore.transaction(commit=True) as curs:
            curs.executemany(
                SQL("INSERT INTO {} VALUES (%s,%s) ON CONFLICT DO NOTHING").format(self.feed_table),
                rows,
            )

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
