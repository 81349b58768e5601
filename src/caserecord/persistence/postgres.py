"""PostgreSQL application recorder with the hash chain, idempotency keys and the event
feed's agency index written in the same transaction as the events, after the library's table
lock (so links are computed in commit order).

One class, and so one long module: every table written in the events' transaction (chain,
feed index, client identity, entry index, idempotency) is written by the recorder's own
insert, and the queries over them share its datastore and schema.  ``sqlite.py`` is its
twin for the embedded store."""

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    InterfaceError,
    Notification,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
)
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from caserecord.persistence.chain import GENESIS, Link, stream_key
from caserecord.persistence.entries import (
    ENTRY_INDEX,
    ENTRY_TABLE,
    LINK_TABLE,
    Row,
    entry_rows,
    link_rows,
)
from caserecord.persistence.feed import (
    FEED_TABLE,
    FEED_UNNUMBERED,
    FeedRows,
    agencies,
    identity_changes,
    index_rows,
)
from caserecord.persistence.group_commit import GroupCommit
from caserecord.persistence.idempotency import (
    HEADS_DDL,
    IDEMPOTENCY_COLUMNS,
    IDEMPOTENCY_HEADS,
    IDEMPOTENCY_TABLE,
    IDEMPOTENCY_UNSEALED,
    INDEXES_DDL,
    NOT_SEALED,
    Head,
    IdempotencyRecord,
    idempotency_records,
    numbered,
)
from caserecord.persistence.identity import IDENTITY_TABLE, update_statement
from caserecord.persistence.mac import Macs
from caserecord.persistence.merkle import pack, unpack
from caserecord.persistence.postgres_flights import (
    Executes,
    fits_two_flights,
    insert_in_two_flights,
)
from caserecord.persistence.quarantine import (
    POSTGRES_DDL as QUARANTINE_DDL,
)
from caserecord.persistence.quarantine import (
    QUARANTINE_TABLE,
    Quarantined,
    select_statement,
)
from caserecord.persistence.sealing import (
    LEAF_COLUMNS,
    LEAF_INDEX,
    SNAPSHOT_MACS,
    TREE_HEAD,
    TREE_NODES,
    NoIntegrityKeyError,
    TreeHead,
    authentic_feed_rows,
    authentic_snapshots,
    seal,
    snapshot_mac_rows,
)


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder):
    macs: Macs | None = None  # given by the service (the key never enters the database)

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.group_commit = GroupCommit(self._flight, fits_two_flights)
        schema = Identifier(self.datastore.schema)
        self.chain_table = SQL("{}.event_chain").format(schema)
        self.idempotency_table = SQL("{}.{}").format(schema, Identifier(IDEMPOTENCY_TABLE))
        self.feed_table = SQL("{}.{}").format(schema, Identifier(FEED_TABLE))
        self.events_table = SQL("{}.{}").format(schema, Identifier(self.events_table_name))
        self.identity_table = SQL("{}.{}").format(schema, Identifier(IDENTITY_TABLE))
        self.identity_name = f'"{self.datastore.schema}"."{IDENTITY_TABLE}"'
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                "client_id text PRIMARY KEY, agency_id text NOT NULL, client_number text, "
                "given_key text, family_key text, date_of_birth text, "
                "UNIQUE (agency_id, client_number))"
            ).format(self.identity_table)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE INDEX IF NOT EXISTS {} ON {} (agency_id, family_key, date_of_birth)"
            ).format(Identifier(f"{IDENTITY_TABLE}_person"), self.identity_table)
        )
        self.entry_table = SQL("{}.{}").format(schema, Identifier(ENTRY_TABLE))
        self.link_table = SQL("{}.{}").format(schema, Identifier(LINK_TABLE))
        self.tree_nodes = SQL("{}.{}").format(schema, Identifier(TREE_NODES))
        self.tree_head_table = SQL("{}.{}").format(schema, Identifier(TREE_HEAD))
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
        # Stores made before the MACs get the column; rows are sealed by `db init`.
        for table in (self.chain_table, self.feed_table, self.idempotency_table):
            self.sql_create_statements.append(
                SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS mac text").format(table)
            )
        self.sql_create_statements.append(
            SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS leaf bigint").format(self.chain_table)
        )
        # Each row's number in its agency's feed; rows from before it are numbered by
        # `db init`.
        self.sql_create_statements.append(
            SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS seq bigint").format(self.feed_table)
        )
        self.sql_create_statements.append(
            SQL("CREATE INDEX IF NOT EXISTS {} ON {} (notification_id) WHERE seq IS NULL").format(
                Identifier(FEED_UNNUMBERED), self.feed_table
            )
        )
        self.sql_create_statements.append(
            SQL("CREATE INDEX IF NOT EXISTS {} ON {} (agency_id) WHERE mac IS NULL").format(
                Identifier(IDEMPOTENCY_UNSEALED), self.idempotency_table
            )
        )
        # Each idempotency row's number among its agency's, and each agency's head; rows from
        # before them are numbered, and the heads made, by `db init`.
        self.sql_create_statements.append(
            SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS seq bigint").format(self.idempotency_table)
        )
        self.prefix = f'"{self.datastore.schema}".'
        for statement in (HEADS_DDL, *INDEXES_DDL):
            self.sql_create_statements.append(SQL(statement.format(t=self.prefix)).format())
        self.idempotency_heads = SQL("{}.{}").format(schema, Identifier(IDEMPOTENCY_HEADS))
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (level integer NOT NULL, idx bigint NOT NULL, "
                "hash bytea NOT NULL, PRIMARY KEY (level, idx))"
            ).format(self.tree_nodes)
        )
        for column, kind in LEAF_COLUMNS:
            self.sql_create_statements.append(
                SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} " + kind).format(
                    self.tree_nodes, Identifier(column)
                )
            )
        self.sql_create_statements.append(
            SQL(
                "CREATE INDEX IF NOT EXISTS {} ON {} (stream_id, version) "
                "WHERE stream_id IS NOT NULL"
            ).format(Identifier(LEAF_INDEX), self.tree_nodes)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (id integer PRIMARY KEY CHECK (id = 1), "
                "size bigint NOT NULL, root bytea NOT NULL, frontier bytea NOT NULL, mac text)"
            ).format(self.tree_head_table)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                "stream_id text NOT NULL, kind text NOT NULL, version bigint NOT NULL, "
                "entity_id text NOT NULL, PRIMARY KEY (stream_id, version))"
            ).format(self.entry_table)
        )
        self.sql_create_statements.append(
            SQL("CREATE INDEX IF NOT EXISTS {} ON {} (stream_id, kind, entity_id, version)").format(
                Identifier(ENTRY_INDEX), self.entry_table
            )
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                "stream_id text NOT NULL, kind text NOT NULL, entity_id text NOT NULL, "
                "version bigint NOT NULL, PRIMARY KEY (stream_id, kind, entity_id, version))"
            ).format(self.link_table)
        )
        self.sql_create_statements.append(
            SQL(QUARANTINE_DDL).format(SQL("{}.{}").format(schema, Identifier(QUARANTINE_TABLE)))
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The library's insert (table lock, NOTIFY, events, then our rows, one transaction)
        without psycopg's pipeline mode.  In pipeline mode psycopg flushes once after the last
        queued command and then only waits to read, so a statement larger than the socket
        buffers (a save of 10,000 notes) is never sent in full and both sides wait for ever.
        Outside it each statement is sent in full before its result is awaited; the few extra
        round trips cost far less than the commit.  And unlike the library's pipeline, which
        commits before re-raising a Python error raised after the insert, any error here rolls
        the whole transaction back."""
        if not stored_events:
            return None
        # A save the process makes for a command (a tracking record would be a follower's).
        own = all(k in ("idempotency", "queued") or v is None for k, v in kwargs.items())
        if own and fits_two_flights(stored_events):
            # Refused alone, before it joins a group: a save naming no agency, a recorder
            # without the key.
            agencies(stored_events)
            if self.macs is None:
                raise NoIntegrityKeyError(
                    "the recorder holds no integrity key: nothing was written"
                )
            return self.group_commit.save(
                stored_events, kwargs.get("idempotency"), kwargs.get("queued")
            )
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)
            self._insert_stored_events(curs, stored_events, **kwargs)
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)

    def _flight(
        self, stored_events: Sequence[StoredEvent], idempotency: list[IdempotencyRecord]
    ) -> Sequence[int]:
        """One group's save (``group_commit.py``), in two round trips."""
        return insert_in_two_flights(self, stored_events, idempotencies=idempotency)

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        # Checked before the table lock is taken, so a misconfigured writer is refused
        # without holding up the other writers.
        agencies(stored_events)
        if self.macs is None:
            raise NoIntegrityKeyError("the recorder holds no integrity key: nothing was written")
        super()._insert_events(curs, stored_events, **kwargs)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        assert ids is not None
        idempotency_agencies = sorted({r.agency_id for r in idempotency_records(kwargs)})
        heads: dict[str, Head] = {}
        if idempotency_agencies:
            curs.execute(
                SQL(
                    "SELECT w.a AS agency, {} AS number, {} AS mac FROM unnest(%s::text[]) AS w(a)"
                ).format(self.idempotency_head_number, self.idempotency_head_mac),
                (idempotency_agencies,),
            )
            heads = {str(r["agency"]): (int(r["number"]), r["mac"]) for r in curs.fetchall()}
        self._write_beside(
            curs,
            stored_events,
            ids,
            lambda stream, version: self._prev_hash(curs, stream, version),
            self._tree_head(curs),
            self._feed_last(curs, agencies(stored_events)),
            heads,
            lambda agency: self._idempotency_last(curs, agency),
            **kwargs,
        )
        return ids

    @property
    def idempotency_head_number(self) -> Composed:
        """Agency ``w.a``'s last idempotency number as its head names it, or without a head
        -1 minus its rows' last number (read only then; a subquery)."""
        return SQL(
            "COALESCE((SELECT h.last_seq FROM {} h WHERE h.agency_id = w.a), "
            "-1 - COALESCE((SELECT MAX(i.seq) FROM {} i WHERE i.agency_id = w.a), 0))"
        ).format(self.idempotency_heads, self.idempotency_table)

    @property
    def idempotency_head_mac(self) -> Composed:
        return SQL("(SELECT h.mac FROM {} h WHERE h.agency_id = w.a)").format(
            self.idempotency_heads
        )

    def _idempotency_last(self, curs: Cursor[DictRow], agency: str) -> int:
        """An agency's last idempotency number from its rows (its head missing or not
        authentic)."""
        curs.execute(
            SQL("SELECT COALESCE(MAX(seq), 0) AS n FROM {} WHERE agency_id = %s").format(
                self.idempotency_table
            ),
            (agency,),
        )
        row = curs.fetchone()
        assert row is not None
        return int(row["n"])

    def _write_beside(
        self,
        curs: Executes,
        stored_events: Sequence[StoredEvent],
        ids: Sequence[int],
        prev_hash: Callable[[str, int], str],
        head: TreeHead,
        feed_last: dict[str, int],
        idempotency_heads: dict[str, Head],
        idempotency_last: Callable[[str], int],
        **kwargs: Any,
    ) -> None:
        """Every row written beside the events, from the positions the log gave them, the
        chain's previous links, the tree's head, each agency's last feed number and the
        heads of the agencies of the idempotency keys (``idempotency.numbered``).  Only
        ``execute`` is called on ``curs``: the two-flight save (``postgres_flights.py``)
        hands in a batch that sends these statements as one."""
        # Each table gets one statement of arrays, not executemany: psycopg runs executemany
        # in pipeline mode, which can stall on a large batch (see insert_events).
        agency_ids = agencies(stored_events)
        positions = [p for _, p in index_rows(agency_ids, ids)]
        sealed = seal(self.macs, stored_events, positions, agency_ids, prev_hash, head, feed_last)
        curs.execute(
            SQL(
                "INSERT INTO {} (agency_id, notification_id, mac, seq) "
                "SELECT * FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::bigint[])"
            ).format(self.feed_table),
            tuple(list(column) for column in zip(*sealed.feed, strict=True)),
        )
        curs.execute(
            SQL(
                "INSERT INTO {} SELECT * FROM unnest("
                "%s::text[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::bigint[])"
            ).format(self.chain_table),
            tuple(list(column) for column in zip(*sealed.chain, strict=True)),
        )
        curs.execute(
            SQL(
                "INSERT INTO {} SELECT * FROM unnest(%s::integer[], %s::bigint[], %s::bytea[], "
                "%s::bigint[], %s::text[], %s::bigint[], %s::text[])"
            ).format(self.tree_nodes),
            tuple(list(column) for column in zip(*sealed.tree_rows, strict=True)),
        )
        curs.execute(
            SQL(
                "INSERT INTO {} VALUES (1,%s,%s,%s,%s) ON CONFLICT (id) DO UPDATE SET "
                "size=excluded.size, root=excluded.root, frontier=excluded.frontier, "
                "mac=excluded.mac"
            ).format(self.tree_head_table),
            (sealed.tree.size, sealed.tree.root, pack(sealed.tree.frontier), sealed.head_mac),
        )
        for change in identity_changes(stored_events):
            if change.registered:
                curs.execute(
                    SQL("INSERT INTO {} VALUES (%s,%s,%s,%s,%s,%s)").format(self.identity_table),
                    change.insert_row(),
                )
            else:
                statement, params = update_statement(change, self.identity_name, "%s")
                curs.execute(statement.encode(), params)
        entries = entry_rows(stored_events)
        if entries:
            curs.execute(
                SQL(
                    "INSERT INTO {} (stream_id, version, kind, entity_id) SELECT * FROM unnest("
                    "%s::text[], %s::bigint[], %s::text[], %s::text[])"
                ).format(self.entry_table),
                tuple(list(column) for column in zip(*entries, strict=True)),
            )
        concerns = link_rows(stored_events)
        if concerns:
            curs.execute(
                SQL(
                    "INSERT INTO {} (stream_id, version, kind, entity_id) SELECT * FROM unnest("
                    "%s::text[], %s::bigint[], %s::text[], %s::text[])"
                ).format(self.link_table),
                tuple(list(column) for column in zip(*concerns, strict=True)),
            )
        records = idempotency_records(kwargs)
        if records:
            assert self.macs is not None
            rows, heads = numbered(records, idempotency_heads, self.macs, idempotency_last)
            curs.execute(
                SQL(
                    "INSERT INTO {} (" + IDEMPOTENCY_COLUMNS + ") SELECT * FROM unnest(%s::text[], "
                    "%s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[], %s::text[])"
                ).format(self.idempotency_table),
                tuple(list(column) for column in zip(*rows, strict=True)),
            )
            curs.execute(
                SQL(
                    "INSERT INTO {} (agency_id, last_seq, mac) SELECT * FROM unnest(%s::text[], "
                    "%s::bigint[], %s::text[]) ON CONFLICT (agency_id) DO UPDATE SET "
                    "last_seq = excluded.last_seq, mac = excluded.mac"
                ).format(self.idempotency_heads),
                tuple(list(column) for column in zip(*heads, strict=True)),
            )

    def _feed_last(self, curs: Cursor[DictRow], agency_ids: Sequence[str]) -> dict[str, int]:
        """Each agency's last number in its feed, read under the table lock from its latest
        row (the index's primary key)."""
        wanted = sorted(set(agency_ids))
        curs.execute(
            SQL("SELECT w.a AS agency, ({}) AS seq FROM unnest(%s::text[]) AS w(a)").format(
                self.feed_last_query
            ),
            (wanted,),
        )
        return {str(row["agency"]): int(row["seq"] or 0) for row in curs.fetchall()}

    @property
    def feed_last_query(self) -> Composed:
        """The last number of agency ``w.a``'s feed (a subquery)."""
        return SQL(
            "SELECT f.seq FROM {} f WHERE f.agency_id = w.a ORDER BY f.notification_id DESC LIMIT 1"
        ).format(self.feed_table)

    def _tree_head(self, curs: Cursor[DictRow]) -> TreeHead:
        curs.execute(
            SQL("SELECT size, root, frontier, mac FROM {} WHERE id=1").format(self.tree_head_table)
        )
        row = curs.fetchone()
        if row is None:
            return TreeHead()
        return TreeHead(int(row["size"]), bytes(row["root"]), unpack(row["frontier"]), row["mac"])

    def tree_head(self) -> TreeHead:
        """The Merkle tree's head as stored (checked by the caller)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            return self._tree_head(curs)

    def tree_node(self, level: int, index: int) -> bytes:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT hash FROM {} WHERE level=%s AND idx=%s").format(self.tree_nodes),
                (level, index),
            )
            row = curs.fetchone()
            if row is None:
                raise LookupError(f"the tree has no node at level {level}, index {index}")
            return bytes(row["hash"])

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

    def agency_notifications(self, agency_id: str, *, after: int, limit: int) -> FeedRows:
        """The head of the log, the agency's row at or before ``after`` (whose number the
        page's first must follow), and up to ``limit`` of the agency's events after
        ``after`` and not past that head, through the agency index.  The head is read first:
        the table lock makes positions commit in order, so every event up to it is visible."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.max_notification_id_statement)
            found = curs.fetchone()
            head = int(found["max"] or 0) if found else 0
            curs.execute(
                SQL(
                    "SELECT e.notification_id, e.originator_id, e.originator_version, "
                    "e.topic, e.state, a.seq, a.mac FROM {} AS a JOIN {} AS e "
                    "ON e.notification_id = a.notification_id "
                    "WHERE a.agency_id=%s AND a.notification_id>=COALESCE((SELECT "
                    "MAX(notification_id) FROM {} WHERE agency_id=%s AND notification_id<=%s), "
                    "%s) AND a.notification_id<=%s ORDER BY a.notification_id LIMIT %s"
                ).format(self.feed_table, self.events_table, self.feed_table),
                (agency_id, agency_id, after, after + 1, head, limit + 1),
            )
            return authentic_feed_rows(
                self.macs,
                agency_id,
                after,
                head,
                (
                    (
                        Notification(
                            id=row["notification_id"],
                            originator_id=row["originator_id"],
                            originator_version=row["originator_version"],
                            topic=row["topic"],
                            state=bytes(row["state"]),
                        ),
                        row["seq"],
                        row["mac"],
                    )
                    for row in curs.fetchall()
                ),
            )

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
        """Index (agency, position) events logged before the index existed, unnumbered
        and without MACs (``db init``'s sealing gives them); rows already there are kept."""
        if not rows:
            return
        with self.datastore.transaction(commit=True) as curs:
            # One statement of arrays, like the insert path (executemany pipelines).
            curs.execute(
                SQL(
                    "INSERT INTO {} (agency_id, notification_id) "
                    "SELECT * FROM unnest(%s::text[], %s::bigint[]) ON CONFLICT DO NOTHING"
                ).format(self.feed_table),
                tuple(list(column) for column in zip(*rows, strict=True)),
            )

    def unnumbered_feed_rows(self) -> int:
        """Feed-index rows without their number in the agency's feed (a store sealed by
        an earlier version, before `db init` numbers them)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT COUNT(*) AS n FROM {} WHERE seq IS NULL").format(self.feed_table)
            )
            row = curs.fetchone()
            assert row is not None
            return int(row["n"])

    # ---- the entry index (entries.py) ----------------------------------------------
    def entries_newest(
        self, stream_id: UUID, kind: str, entity_id: str | None, below: int, limit: int
    ) -> list[tuple[int, str, str]]:
        """(version, kind, entity id), newest first, of the entries recorded before version
        ``below``: with an entity, up to ``limit`` of the kind on it; without, those of any
        kind from version ``below - limit`` on (the caller picks: a window of versions
        bounds the rows read whatever plan the server makes, even without statistics)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            if entity_id is None:
                curs.execute(
                    SQL(
                        "SELECT version, kind, entity_id FROM {} WHERE stream_id=%s "
                        "AND version>=%s AND version<%s ORDER BY version DESC"
                    ).format(self.entry_table),
                    (str(stream_id), below - limit, below),
                )
            else:
                curs.execute(
                    SQL(
                        "SELECT version, kind, entity_id FROM {} WHERE stream_id=%s AND kind=%s "
                        "AND entity_id=%s AND version<%s ORDER BY version DESC LIMIT %s"
                    ).format(self.entry_table),
                    (str(stream_id), kind, entity_id, below, limit),
                )
            return [(int(r["version"]), str(r["kind"]), str(r["entity_id"])) for r in curs]

    def entries_of(
        self, stream_id: UUID, kind: str, entity_ids: Sequence[str], upto: int
    ) -> list[tuple[int, str]]:
        """(version, entity id) of the entries of the kind on the given entities, up to
        version ``upto``, oldest first."""
        # One statement per id, each an equality on every column of the index before the
        # version: with ``entity_id = ANY(...)`` a planner without statistics (a table
        # just filled) walks every entry of the kind instead.
        statement = SQL(
            "SELECT version, entity_id FROM {} WHERE stream_id=%s AND kind=%s AND entity_id=%s"
        ).format(self.entry_table)
        rows: list[tuple[int, str]] = []
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            for entity_id in dict.fromkeys(entity_ids):
                curs.execute(statement, (str(stream_id), kind, entity_id))
                rows += [(int(r["version"]), str(r["entity_id"])) for r in curs.fetchall()]
        return sorted((v, e) for v, e in rows if v <= upto)

    def entries_at(self, stream_id: UUID, versions: Sequence[int]) -> list[tuple[int, str, str]]:
        """(version, kind, entity id) of the entries at the given versions."""
        if not versions:
            return []
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT version, kind, entity_id FROM {} WHERE stream_id=%s "
                    "AND version = ANY(%s) ORDER BY version"
                ).format(self.entry_table),
                [str(stream_id), list(versions)],
            )
            return [
                (int(r["version"]), str(r["kind"]), str(r["entity_id"])) for r in curs.fetchall()
            ]

    def entry_counts(self, topics: Sequence[str]) -> tuple[int, int]:
        """(events of the given topics logged, entries indexed): equal when the index is
        complete.  Also the probe that the table exists."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT (SELECT COUNT(*) FROM {} WHERE topic = ANY(%s)) AS events, "
                    "(SELECT COUNT(*) FROM {}) AS n"
                ).format(self.events_table, self.entry_table),
                (list(topics),),
            )
            row = curs.fetchone()
            assert row is not None
            return int(row["events"]), int(row["n"])

    def probe_entries(self) -> None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT 1 FROM {} LIMIT 1").format(self.entry_table))
            curs.execute(SQL("SELECT 1 FROM {} LIMIT 1").format(self.link_table))

    def links_newest(
        self, stream_id: UUID, kind: str, entity_id: str, upto: int, limit: int
    ) -> list[int]:
        """Versions of the notes concerning the goal or referral, up to ``upto``, newest
        first, at most ``limit``."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT version FROM {} WHERE stream_id=%s AND kind=%s AND entity_id=%s "
                    "AND version<=%s ORDER BY version DESC LIMIT %s"
                ).format(self.link_table),
                (str(stream_id), kind, entity_id, upto, limit),
            )
            return [int(r["version"]) for r in curs]

    def links_upto(self, stream_id: UUID, upto: int) -> list[tuple[int, str, str]]:
        """(version, kind, entity id) of every link row of a case up to version ``upto``."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT version, kind, entity_id FROM {} WHERE stream_id=%s AND version<=%s"
                ).format(self.link_table),
                (str(stream_id), upto),
            )
            return sorted((int(r["version"]), str(r["kind"]), str(r["entity_id"])) for r in curs)

    def add_entries(self, rows: Sequence[Row]) -> None:
        """Index entries logged before the index existed; rows already there are kept."""
        if not rows:
            return
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL(
                    "INSERT INTO {} (stream_id, version, kind, entity_id) SELECT * FROM unnest("
                    "%s::text[], %s::bigint[], %s::text[], %s::text[]) ON CONFLICT DO NOTHING"
                ).format(self.entry_table),
                tuple(list(column) for column in zip(*rows, strict=True)),
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

    def link_macs(self, originator_id: UUID | str) -> dict[int, tuple[int, str | None]]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT e.originator_version, e.notification_id, c.mac FROM {} e "
                    "JOIN {} c ON c.originator_id = e.originator_id::text "
                    "AND c.originator_version = e.originator_version WHERE e.originator_id=%s"
                ).format(self.events_table, self.chain_table),
                (UUID(stream_key(originator_id)),),
            )
            return {
                int(r["originator_version"]): (int(r["notification_id"]), r["mac"])
                for r in curs.fetchall()
            }

    def chain_head(self, originator_id: UUID | str) -> int:
        """The last version the chain or the tree's leaves know of the stream: a tail cut
        with its links is still named by the leaves."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT GREATEST((SELECT MAX(originator_version) FROM {} "
                    "WHERE originator_id=%s), (SELECT MAX(version) FROM {} WHERE stream_id=%s)) "
                    "AS head"
                ).format(self.chain_table, self.tree_nodes),
                (stream_key(originator_id),) * 2,
            )
            row = curs.fetchone()
            return int(row["head"] or 0) if row else 0

    def tree_positions(self, originator_id: UUID | str) -> dict[int, tuple[int, int]]:
        """Each event of a stream's (log position, leaf index in the tree), by version."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT e.originator_version, e.notification_id, c.leaf FROM {} e "
                    "JOIN {} c ON c.originator_id = e.originator_id::text "
                    "AND c.originator_version = e.originator_version WHERE e.originator_id=%s"
                ).format(self.events_table, self.chain_table),
                (UUID(stream_key(originator_id)),),
            )
            return {
                int(r["originator_version"]): (int(r["notification_id"]), int(r["leaf"]))
                for r in curs.fetchall()
                if r["leaf"] is not None
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

    def client_identities(
        self, agency_id: str, *, client_number: str = "", person: tuple[str, str, str] | None = None
    ) -> list[str]:
        """Ids of the agency's clients with this number, or this (given, family) name key
        and date of birth."""
        if person is None:
            where, params = "client_number=%s", [client_number]
        else:
            where, params = "given_key=%s AND family_key=%s AND date_of_birth=%s", list(person)
        statement = (
            f"SELECT client_id FROM {self.identity_name} WHERE agency_id=%s AND {where} "
            "ORDER BY client_id"
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement.encode(), [agency_id, *params])
            return [str(row["client_id"]) for row in curs.fetchall()]

    def count_client_identities(self) -> int:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT COUNT(*) AS n FROM {}").format(self.identity_table))
            row = curs.fetchone()
            return int(row["n"]) if row else 0

    def add_client_identities(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Rows for clients registered before the table existed; a number already taken
        leaves the later client out (an upgraded store may hold duplicates)."""
        with self.datastore.transaction(commit=True) as curs:
            for row in rows:
                curs.execute(
                    SQL("INSERT INTO {} VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING").format(
                        self.identity_table
                    ),
                    row,
                )

    def quarantined(
        self, *, agency_id: str | None = None, stream_id: str | None = None
    ) -> list[Quarantined]:
        statement, params = select_statement(agency_id=agency_id, stream_id=stream_id)
        prefixed = statement.replace("{s}", f'"{self.datastore.schema}".').replace("?", "%s")
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL(prefixed).format(), params)
            return [Quarantined.from_row(tuple(row.values())) for row in curs.fetchall()]

    def find_idempotency(self, agency_id: str, key: str) -> IdempotencyRecord | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT " + IDEMPOTENCY_COLUMNS + " FROM {} WHERE agency_id=%s AND idem_key=%s"
                ).format(self.idempotency_table),
                (agency_id, key),
            )
            row = curs.fetchone()
        return IdempotencyRecord.from_row(tuple(row.values()), self.macs) if row else None

    def unsealed_idempotency_rows(self) -> bool:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL(NOT_SEALED.replace("{t}", self.prefix) + " AS not_sealed"))
            row = curs.fetchone()
            return row is not None and bool(row["not_sealed"])


class SealedPostgresSnapshotRecorder(PostgresAggregateRecorder):
    """The snapshots' recorder, with each snapshot's MAC written in its own transaction and
    checked before a read uses it."""

    macs: Macs | None = None

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.mac_table = SQL("{}.{}").format(
            Identifier(self.datastore.schema), Identifier(SNAPSHOT_MACS)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (originator_id text NOT NULL, "
                "originator_version bigint NOT NULL, mac text NOT NULL, "
                "PRIMARY KEY (originator_id, originator_version))"
            ).format(self.mac_table)
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return None
        rows = snapshot_mac_rows(self.macs, stored_events)
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_stored_events(curs, stored_events, **kwargs)
            curs.execute(
                SQL(
                    "INSERT INTO {} SELECT * FROM unnest(%s::text[], %s::bigint[], %s::text[]) "
                    "ON CONFLICT (originator_id, originator_version) DO UPDATE SET mac=excluded.mac"
                ).format(self.mac_table),
                tuple(list(column) for column in zip(*rows, strict=True)),
            )
        return None

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        stored = self.select_stored(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        if not stored:
            return stored
        # A load reads one snapshot: its MAC, not every MAC of a long case's stream.
        versions = [s.originator_version for s in stored] if len(stored) <= 500 else None
        return authentic_snapshots(self.macs, stored, self.snapshot_macs(originator_id, versions))

    def select_stored(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        """The snapshots as stored, MAC or not (for verification)."""
        found: Sequence[StoredEvent] = super().select_events(
            originator_id, gt=gt, lte=lte, desc=desc, limit=limit
        )
        return found

    def snapshot_macs(
        self, originator_id: UUID | str, versions: Sequence[int] | None = None
    ) -> dict[int, str]:
        """The stream's snapshot MACs by version: of the given versions only (a load
        reads one snapshot, and a long case has one MAC per hundred events), or all."""
        statement = SQL("SELECT originator_version, mac FROM {} WHERE originator_id=%s").format(
            self.mac_table
        )
        params: list[object] = [stream_key(originator_id)]
        if versions is not None:
            statement += SQL(" AND originator_version = ANY(%s)")
            params.append(list(versions))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params)
            return {int(r["originator_version"]): str(r["mac"]) for r in curs.fetchall()}
