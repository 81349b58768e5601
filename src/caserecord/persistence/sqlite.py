"""SQLite application recorder with the hash chain, idempotency keys and the event feed's
agency index in the same transaction as the events."""

from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    Notification,
    StoredEvent,
    Subscription,
)
from eventsourcing.sqlite import (
    SQLiteAggregateRecorder,
    SQLiteApplicationRecorder,
    SQLiteCursor,
    SQLiteDatastore,
)

from caserecord.persistence.chain import GENESIS, Link, Record, stream_key
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
    IDEMPOTENCY_TABLE,
    IDEMPOTENCY_UNSEALED,
    INDEXES_DDL,
    NOT_SEALED,
    IdempotencyRecord,
    idempotency_records,
    write_numbered,
)
from caserecord.persistence.identity import IDENTITY_TABLE, SQLITE_DDL, update_statement
from caserecord.persistence.mac import Macs
from caserecord.persistence.merkle import pack, unpack
from caserecord.persistence.quarantine import SQLITE_DDL as QUARANTINE_DDL
from caserecord.persistence.quarantine import Quarantined, select_statement
from caserecord.persistence.sealing import (
    LEAF_COLUMNS,
    LEAF_INDEX,
    SNAPSHOT_MACS,
    TREE_HEAD,
    TREE_NODES,
    NoIntegrityKeyError,
    Sealed,
    TreeHead,
    authentic_feed_rows,
    authentic_snapshots,
    seal,
    snapshot_mac_rows,
)
from caserecord.persistence.sqlite_file import check_file, watch
from caserecord.persistence.subscription import PollingSubscription


@lru_cache(maxsize=4096)
def _uuid(text: str) -> UUID:
    return UUID(text)


def notification(
    position: int, originator_id: UUID | str, version: int, topic: str, state: bytes
) -> Notification:
    """A Notification made as the library's mapper makes events, without the frozen
    dataclass's ``__init__`` (an ``object.__setattr__`` per field): a rebuild selects
    every notification, and that ``__init__`` is a large part of making one."""
    made = object.__new__(Notification)
    object.__setattr__(
        made,
        "__dict__",
        {
            "originator_id": originator_id,
            "originator_version": version,
            "topic": topic,
            "state": state,
            "id": position,
        },
    )
    return made


GROUP_EVENTS = 64
GROUP_BYTES = 256 * 1024


def fits_one_group(stored_events: Sequence[StoredEvent]) -> bool:
    """A group's transaction stays short: the saves queued behind it wait for its commit."""
    return (
        len(stored_events) <= GROUP_EVENTS
        and sum(len(s.state) for s in stored_events) <= GROUP_BYTES
    )


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    macs: Macs | None = None  # given by the service (the key never enters the database)

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        watch(datastore)
        # The tree head this recorder last wrote: a write appends to it without reading
        # the head first when the stored one is still it (_replace_head).
        self._known_head: TreeHead | None = None
        # Each agency's last number in its feed, as this recorder last wrote it: current
        # while the store's head is still the one it last wrote (nobody else wrote since).
        self._known_feed: dict[str, int] = {}
        self.group_commit = GroupCommit(self._flight, fits_one_group)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """A process's own small saves are committed in groups (``group_commit.py``);
        a follower's save (with its tracking record) or a large one alone."""
        own = all(k in ("idempotency", "queued") or v is None for k, v in kwargs.items())
        if not (stored_events and own and fits_one_group(stored_events)):
            kwargs.pop("queued", None)
            return super().insert_events(stored_events, **kwargs)
        # Refused alone, before it joins a group: a save naming no agency, a recorder
        # without the key.
        agencies(stored_events)
        if self.macs is None:
            raise NoIntegrityKeyError("the recorder holds no integrity key: nothing was written")
        return self.group_commit.save(
            stored_events, kwargs.get("idempotency"), kwargs.get("queued")
        )

    def _flight(
        self, stored_events: Sequence[StoredEvent], idempotency: list[IdempotencyRecord]
    ) -> Sequence[int]:
        """One group's save, in one transaction."""
        with self.datastore.transaction(commit=True) as c:
            ids = self._insert_events(c, stored_events, idempotencies=idempotency)
        assert ids is not None
        return ids

    def convert_originator_id(self, originator_id: str) -> UUID | str:
        # A page of the log holds the events of a few streams: parsing each stream's id
        # once, not once per event, spares a parse for almost every event read.
        if self.datastore.originator_id_type == "uuid":
            return _uuid(originator_id)
        return originator_id

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """The library's query, with its rows made into notifications more cheaply."""
        where: list[str] = []
        params: list[int | str] = []
        if start is not None:
            where.append("rowid>=?" if inclusive_of_start else "rowid>?")
            params.append(start)
        if stop is not None:
            where.append("rowid<=?")
            params.append(stop)
        if topics:
            where.append(f"topic IN ({','.join('?' * len(topics))})")
            params.extend(topics)
        statement = (
            "SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {self.events_table_name} "
            f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY rowid LIMIT ?"
        )
        params.append(limit)
        convert = self.convert_originator_id
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return [
                notification(position, convert(stream), version, topic, state)
                for position, stream, version, topic, state in c.fetchall()
            ]

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS event_chain ("
            "originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL, "
            "prev_hash TEXT NOT NULL, hash TEXT NOT NULL, mac TEXT, leaf INTEGER, "
            "PRIMARY KEY (originator_id, originator_version)) WITHOUT ROWID",
            f"CREATE TABLE IF NOT EXISTS {IDEMPOTENCY_TABLE} ("
            "agency_id TEXT NOT NULL, idem_key TEXT NOT NULL, fingerprint TEXT NOT NULL, "
            "result TEXT NOT NULL, created_at TEXT NOT NULL, mac TEXT, seq INTEGER, "
            "PRIMARY KEY (agency_id, idem_key)) WITHOUT ROWID",
            HEADS_DDL.format(t=""),
            f"CREATE TABLE IF NOT EXISTS {FEED_TABLE} ("
            "agency_id TEXT NOT NULL, notification_id INTEGER NOT NULL, mac TEXT, seq INTEGER, "
            "PRIMARY KEY (agency_id, notification_id)) WITHOUT ROWID",
            f"CREATE TABLE IF NOT EXISTS {TREE_NODES} (level INTEGER NOT NULL, "
            "idx INTEGER NOT NULL, hash BLOB NOT NULL, position INTEGER, stream_id TEXT, "
            "version INTEGER, link TEXT, PRIMARY KEY (level, idx)) WITHOUT ROWID",
            f"CREATE TABLE IF NOT EXISTS {TREE_HEAD} (id INTEGER PRIMARY KEY CHECK (id = 1), "
            "size INTEGER NOT NULL, root BLOB NOT NULL, frontier BLOB NOT NULL, mac TEXT)",
            *SQLITE_DDL,
            f"CREATE TABLE IF NOT EXISTS {ENTRY_TABLE} ("
            "stream_id TEXT NOT NULL, kind TEXT NOT NULL, version INTEGER NOT NULL, "
            "entity_id TEXT NOT NULL, PRIMARY KEY (stream_id, version)) WITHOUT ROWID",
            f"CREATE INDEX IF NOT EXISTS {ENTRY_INDEX} "
            f"ON {ENTRY_TABLE} (stream_id, kind, entity_id, version)",
            f"CREATE TABLE IF NOT EXISTS {LINK_TABLE} ("
            "stream_id TEXT NOT NULL, kind TEXT NOT NULL, entity_id TEXT NOT NULL, "
            "version INTEGER NOT NULL, PRIMARY KEY (stream_id, kind, entity_id, version)) "
            "WITHOUT ROWID",
            QUARANTINE_DDL,
        ]

    def create_table(self) -> None:
        super().create_table()
        # Stores made before the MACs: SQLite has no ADD COLUMN IF NOT EXISTS.
        with self.datastore.transaction(commit=True) as c:
            for table, column, kind in (
                ("event_chain", "mac", "TEXT"),
                ("event_chain", "leaf", "INTEGER"),
                (FEED_TABLE, "mac", "TEXT"),
                (FEED_TABLE, "seq", "INTEGER"),
                (IDEMPOTENCY_TABLE, "mac", "TEXT"),
                (IDEMPOTENCY_TABLE, "seq", "INTEGER"),
                *((TREE_NODES, column, kind) for column, kind in LEAF_COLUMNS),
            ):
                c.execute(f"PRAGMA table_info({table})")
                if column not in {row[1] for row in c.fetchall()}:
                    c.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            c.execute(
                f"CREATE INDEX IF NOT EXISTS {LEAF_INDEX} ON {TREE_NODES} (stream_id, version) "
                "WHERE stream_id IS NOT NULL"
            )
            c.execute(
                f"CREATE INDEX IF NOT EXISTS {FEED_UNNUMBERED} ON {FEED_TABLE} (notification_id) "
                "WHERE seq IS NULL"
            )
            c.execute(
                f"CREATE INDEX IF NOT EXISTS {IDEMPOTENCY_UNSEALED} "
                f"ON {IDEMPOTENCY_TABLE} (agency_id) WHERE mac IS NULL"
            )
            for statement in INDEXES_DDL:
                c.execute(statement.format(t=""))

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Inside the events' transaction: refused here, nothing is acknowledged.
        check_file(self.datastore)
        agency_ids = agencies(stored_events)
        if self.macs is None:
            raise NoIntegrityKeyError("the recorder holds no integrity key: nothing was written")
        ids = super()._insert_events(c, stored_events, **kwargs)
        positions = index_rows(agency_ids, ids)

        def sealed_on(head: TreeHead, feed_last: dict[str, int]) -> Sealed:
            return seal(
                self.macs,
                stored_events,
                [p for _, p in positions],
                agency_ids,
                lambda stream, version: self._prev_hash(c, stream, version),
                head,
                self._feed_last(c, agency_ids, feed_last),
            )

        # The head this recorder last wrote, if the store's head is still that one (the
        # write lock is held, so nothing changes it meanwhile); otherwise, read it.  The
        # agencies' last feed numbers it knows hold exactly as long as that head does.
        known = self._known_head
        sealed = sealed_on(known, self._known_feed) if known is not None else None
        if sealed is None or not self._replace_head(c, sealed, known):
            self._known_feed = {}
            sealed = sealed_on(self._tree_head(c), self._known_feed)
            self._replace_head(c, sealed, None)
        self._known_feed.update(sealed.feed_last)
        # Kept before the commit: a transaction that then fails leaves a head the store
        # lacks, which the next write's conditional update finds.
        tree = sealed.tree
        self._known_head = TreeHead(tree.size, tree.root, tree.frontier, sealed.head_mac)
        c.executemany(f"INSERT INTO {FEED_TABLE} VALUES (?,?,?,?)", sealed.feed)
        c.executemany("INSERT INTO event_chain VALUES (?,?,?,?,?,?)", sealed.chain)
        c.executemany(f"INSERT INTO {TREE_NODES} VALUES (?,?,?,?,?,?,?)", sealed.tree_rows)
        entries = entry_rows(stored_events)
        if entries:
            c.executemany(
                f"INSERT INTO {ENTRY_TABLE} (stream_id, version, kind, entity_id) VALUES (?,?,?,?)",
                entries,
            )
        links = link_rows(stored_events)
        if links:
            c.executemany(
                f"INSERT INTO {LINK_TABLE} (stream_id, version, kind, entity_id) VALUES (?,?,?,?)",
                links,
            )
        for change in identity_changes(stored_events):
            if change.registered:
                c.execute(f"INSERT INTO {IDENTITY_TABLE} VALUES (?,?,?,?,?,?)", change.insert_row())
            else:
                c.execute(*update_statement(change, IDENTITY_TABLE, "?"))
        records = idempotency_records(kwargs)
        if records:  # under the write lock the events' INSERT took
            write_numbered(c, _plain, self.macs, records)
        return ids

    def _replace_head(self, c: SQLiteCursor, sealed: Sealed, expected: TreeHead | None) -> bool:
        """Write the new head: over ``expected`` only (False, nothing written, if the
        stored head is another: another process wrote since, a failed transaction, a
        restore), or whatever is stored when ``expected`` is None.  Size and root name a
        head's leaves, so its frontier too."""
        tree = sealed.tree
        row = (tree.size, tree.root, pack(tree.frontier), sealed.head_mac)
        if expected is None:
            c.execute(
                f"INSERT INTO {TREE_HEAD} VALUES (1,?,?,?,?) ON CONFLICT (id) DO UPDATE SET "
                "size=excluded.size, root=excluded.root, frontier=excluded.frontier, "
                "mac=excluded.mac",
                row,
            )
            return True
        c.execute(
            f"UPDATE {TREE_HEAD} SET size=?, root=?, frontier=?, mac=? "
            "WHERE id=1 AND size=? AND root=?",
            (*row, expected.size, expected.root),
        )
        return bool(c.sqlite_cursor.rowcount == 1)

    @staticmethod
    def _feed_last(
        c: SQLiteCursor, agency_ids: Sequence[str], known: dict[str, int]
    ) -> dict[str, int]:
        """Each agency's last number in its feed: as known, else read (under the write
        lock) from its latest row, through the index's primary key."""
        last = {}
        for agency in set(agency_ids):
            if agency in known:
                last[agency] = known[agency]
                continue
            c.execute(
                f"SELECT seq FROM {FEED_TABLE} WHERE agency_id=? "
                "ORDER BY notification_id DESC LIMIT 1",
                (agency,),
            )
            row = c.fetchone()
            last[agency] = int(row[0] or 0) if row else 0
        return last

    def _tree_head(self, c: SQLiteCursor) -> TreeHead:
        c.execute(f"SELECT size, root, frontier, mac FROM {TREE_HEAD} WHERE id=1")
        row = c.fetchone()
        if row is None:
            return TreeHead()
        return TreeHead(int(row[0]), bytes(row[1]), unpack(row[2]), row[3])

    def tree_head(self) -> TreeHead:
        """The Merkle tree's head as stored (checked by the caller)."""
        with self.datastore.transaction(commit=False) as c:
            return self._tree_head(c)

    def tree_node(self, level: int, index: int) -> bytes:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT hash FROM {TREE_NODES} WHERE level=? AND idx=?", (level, index))
            row = c.fetchone()
            if row is None:
                raise LookupError(f"the tree has no node at level {level}, index {index}")
            return bytes(row[0])

    def _prev_hash(self, c: SQLiteCursor, stream_id: str, version: int) -> str:
        if version == 1:
            return GENESIS
        c.execute(
            "SELECT hash FROM event_chain WHERE originator_id=? AND originator_version=?",
            (stream_id, version - 1),
        )
        row = c.fetchone()
        return str(row["hash"]) if row else "missing"

    def select_versions(self, originator_id: UUID, versions: Sequence[int]) -> list[StoredEvent]:
        """Chosen events of one stream in one query (a page of notes is scattered)."""
        if not versions:
            return []
        marks = ",".join("?" * len(versions))
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"{self.select_events_statement}AND originator_version IN ({marks}) "
                "ORDER BY originator_version",
                [originator_id.hex, *versions],
            )
            return [
                StoredEvent(
                    originator_id=self.convert_originator_id(row["originator_id"]),
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=row["state"],
                )
                for row in c.fetchall()
            ]

    def agency_notifications(self, agency_id: str, *, after: int, limit: int) -> FeedRows:
        """The head of the log, the agency's row at or before ``after`` (whose number the
        page's first must follow), and up to ``limit`` of the agency's events after
        ``after`` and not past that head, through the agency index (one read transaction)."""
        with self.datastore.transaction(commit=False) as c:
            head = self._max_notification_id(c) or 0
            c.execute(
                "SELECT e.rowid AS notification_id, e.originator_id, e.originator_version, "
                f"e.topic, e.state, a.seq, a.mac FROM {FEED_TABLE} AS a "
                f"JOIN {self.events_table_name} AS e ON e.rowid = a.notification_id "
                "WHERE a.agency_id=? AND a.notification_id>=COALESCE((SELECT "
                f"MAX(notification_id) FROM {FEED_TABLE} WHERE agency_id=? AND "
                "notification_id<=?), ?) AND a.notification_id<=? "
                "ORDER BY a.notification_id LIMIT ?",
                (agency_id, agency_id, after, after + 1, head, limit + 1),
            )
            convert = self.convert_originator_id
            return authentic_feed_rows(
                self.macs,
                agency_id,
                after,
                head,
                (
                    (notification(position, convert(stream), version, topic, state), seq, mac)
                    for position, stream, version, topic, state, seq, mac in c.fetchall()
                ),
            )

    def probe_feed_index(self) -> None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT 1 FROM {FEED_TABLE} LIMIT 1")

    def feed_index_counts(self) -> tuple[int, int]:
        """(events logged, events indexed): equal when the feed's index is complete.
        Also the probe that the index table exists."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT COUNT(*) FROM {self.events_table_name}")
            events = int(c.fetchone()[0])
            c.execute(f"SELECT COUNT(*) FROM {FEED_TABLE}")
            return events, int(c.fetchone()[0])

    def add_to_feed_index(self, rows: Sequence[tuple[str, int]]) -> None:
        """Index (agency, position) events logged before the index existed, unnumbered
        and without MACs (``db init``'s sealing gives them); rows already there are kept."""
        with self.datastore.transaction(commit=True) as c:
            c.executemany(
                f"INSERT OR IGNORE INTO {FEED_TABLE} (agency_id, notification_id) VALUES (?,?)",
                rows,
            )

    def unnumbered_feed_rows(self) -> int:
        """Feed-index rows without their number in the agency's feed (a store sealed by
        an earlier version, before `db init` numbers them)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT COUNT(*) FROM {FEED_TABLE} WHERE seq IS NULL")
            return int(c.fetchone()[0])

    # ---- the entry index (entries.py) ----------------------------------------------
    def entries_newest(
        self, stream_id: UUID, kind: str, entity_id: str | None, below: int, limit: int
    ) -> list[tuple[int, str, str]]:
        """(version, kind, entity id), newest first, of the entries recorded before version
        ``below``: with an entity, up to ``limit`` of the kind on it; without, those of any
        kind from version ``below - limit`` on (the caller picks: a window of versions
        bounds the rows read whatever plan the store makes)."""
        with self.datastore.transaction(commit=False) as c:
            if entity_id is None:
                c.execute(
                    f"SELECT version, kind, entity_id FROM {ENTRY_TABLE} WHERE stream_id=? "
                    "AND version>=? AND version<? ORDER BY version DESC",
                    (str(stream_id), below - limit, below),
                )
            else:
                c.execute(
                    f"SELECT version, kind, entity_id FROM {ENTRY_TABLE} WHERE stream_id=? "
                    "AND kind=? AND entity_id=? AND version<? ORDER BY version DESC LIMIT ?",
                    (str(stream_id), kind, entity_id, below, limit),
                )
            return [(int(v), str(k), str(e)) for v, k, e in c.fetchall()]

    def entries_of(
        self, stream_id: UUID, kind: str, entity_ids: Sequence[str], upto: int
    ) -> list[tuple[int, str]]:
        """(version, entity id) of the entries of the kind on the given entities, up to
        version ``upto``, oldest first."""
        found: list[tuple[int, str]] = []
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(entity_ids), 500):  # SQLite caps a statement's parameters
                chunk = list(entity_ids[start : start + 500])
                c.execute(
                    f"SELECT version, entity_id FROM {ENTRY_TABLE} WHERE stream_id=? AND kind=? "
                    f"AND entity_id IN ({','.join('?' * len(chunk))})",
                    [str(stream_id), kind, *chunk],
                )
                found += [(int(v), str(e)) for v, e in c.fetchall() if v <= upto]
        return sorted(found)

    def entries_at(self, stream_id: UUID, versions: Sequence[int]) -> list[tuple[int, str, str]]:
        """(version, kind, entity id) of the entries at the given versions."""
        found: list[tuple[int, str, str]] = []
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(versions), 500):
                chunk = list(versions[start : start + 500])
                c.execute(
                    f"SELECT version, kind, entity_id FROM {ENTRY_TABLE} WHERE stream_id=? "
                    f"AND version IN ({','.join('?' * len(chunk))})",
                    [str(stream_id), *chunk],
                )
                found += [(int(v), str(k), str(e)) for v, k, e in c.fetchall()]
        return sorted(found)

    def entry_counts(self, topics: Sequence[str]) -> tuple[int, int]:
        """(events of the given topics logged, entries indexed): equal when the index is
        complete.  Also the probe that the table exists."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT COUNT(*) FROM {self.events_table_name} "
                f"WHERE topic IN ({','.join('?' * len(topics))})",
                list(topics),
            )
            events = int(c.fetchone()[0])
            c.execute(f"SELECT COUNT(*) FROM {ENTRY_TABLE}")
            return events, int(c.fetchone()[0])

    def probe_entries(self) -> None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT 1 FROM {ENTRY_TABLE} LIMIT 1")
            c.execute(f"SELECT 1 FROM {LINK_TABLE} LIMIT 1")

    def links_newest(
        self, stream_id: UUID, kind: str, entity_id: str, upto: int, limit: int
    ) -> list[int]:
        """Versions of the notes concerning the goal or referral, up to ``upto``, newest
        first, at most ``limit``."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT version FROM {LINK_TABLE} WHERE stream_id=? AND kind=? "
                "AND entity_id=? AND version<=? ORDER BY version DESC LIMIT ?",
                (str(stream_id), kind, entity_id, upto, limit),
            )
            return [int(v) for (v,) in c.fetchall()]

    def links_upto(self, stream_id: UUID, upto: int) -> list[tuple[int, str, str]]:
        """(version, kind, entity id) of every link row of a case up to version ``upto``."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT version, kind, entity_id FROM {LINK_TABLE} WHERE stream_id=? "
                "AND version<=?",
                (str(stream_id), upto),
            )
            return sorted((int(v), str(k), str(e)) for v, k, e in c.fetchall())

    def add_entries(self, rows: Sequence[Row]) -> None:
        """Index entries logged before the index existed; rows already there are kept."""
        with self.datastore.transaction(commit=True) as c:
            c.executemany(
                f"INSERT OR IGNORE INTO {ENTRY_TABLE} (stream_id, version, kind, entity_id) "
                "VALUES (?,?,?,?)",
                rows,
            )

    def chain_links(self, originator_id: UUID | str) -> dict[int, Link]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT originator_version, prev_hash, hash FROM event_chain "
                "WHERE originator_id=? ORDER BY originator_version",
                (stream_key(originator_id),),
            )
            return {
                row["originator_version"]: Link(row["prev_hash"], row["hash"])
                for row in c.fetchall()
            }

    def link_macs(self, originator_id: UUID | str) -> dict[int, tuple[int, str | None]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT e.originator_version, e.rowid, c.mac FROM {self.events_table_name} e "
                "JOIN event_chain c ON c.originator_id=? "
                "AND c.originator_version = e.originator_version WHERE e.originator_id=?",
                (stream_key(originator_id), UUID(stream_key(originator_id)).hex),
            )
            return {int(v): (int(p), m) for v, p, m in c.fetchall()}

    def chain_head(self, originator_id: UUID | str) -> int:
        """The last version the chain or the tree's leaves know of the stream: a tail cut
        with its links is still named by the leaves."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT MAX(COALESCE((SELECT MAX(originator_version) FROM event_chain "
                f"WHERE originator_id=?), 0), COALESCE((SELECT MAX(version) FROM {TREE_NODES} "
                "WHERE stream_id=?), 0))",
                (stream_key(originator_id),) * 2,
            )
            return int(c.fetchone()[0] or 0)

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        # The library has no SQLite subscription: poll the notification log instead.
        return PollingSubscription(self, gt=gt, topics=topics)

    def tree_positions(self, originator_id: UUID | str) -> dict[int, tuple[int, int]]:
        """Each event of a stream's (log position, leaf index in the tree), by version."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT originator_version, rowid FROM {self.events_table_name} "
                "WHERE originator_id=?",
                (UUID(stream_key(originator_id)).hex,),
            )
            positions = {int(v): int(p) for v, p in c.fetchall()}
            c.execute(
                "SELECT originator_version, leaf FROM event_chain WHERE originator_id=?",
                (stream_key(originator_id),),
            )
            leaves = {int(v): leaf for v, leaf in c.fetchall()}
        return {v: (p, int(leaves[v])) for v, p in positions.items() if leaves.get(v) is not None}

    def chain_heads(self) -> dict[str, tuple[int, str]]:
        """The latest link of every stream: what a signed checkpoint commits to."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT originator_id, originator_version, hash FROM event_chain AS e "
                "WHERE originator_version = (SELECT MAX(originator_version) FROM event_chain "
                "WHERE originator_id = e.originator_id)"
            )
            return {
                row["originator_id"]: (row["originator_version"], row["hash"])
                for row in c.fetchall()
            }

    def client_identities(
        self, agency_id: str, *, client_number: str = "", person: tuple[str, str, str] | None = None
    ) -> list[str]:
        """Ids of the agency's clients with this number, or this (given, family) name key
        and date of birth."""
        if person is None:
            where, params = "client_number=?", [client_number]
        else:
            where, params = "given_key=? AND family_key=? AND date_of_birth=?", list(person)
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT client_id FROM {IDENTITY_TABLE} WHERE agency_id=? AND {where} "
                "ORDER BY client_id",
                [agency_id, *params],
            )
            return [str(row[0]) for row in c.fetchall()]

    def count_client_identities(self) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT COUNT(*) FROM {IDENTITY_TABLE}")
            return int(c.fetchone()[0])

    def add_client_identities(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Rows for clients registered before the table existed; a number already taken
        leaves the later client out (an upgraded store may hold duplicates)."""
        with self.datastore.transaction(commit=True) as c:
            c.executemany(f"INSERT OR IGNORE INTO {IDENTITY_TABLE} VALUES (?,?,?,?,?,?)", rows)

    def quarantined(
        self, *, agency_id: str | None = None, stream_id: str | None = None
    ) -> list[Quarantined]:
        statement, params = select_statement(agency_id=agency_id, stream_id=stream_id)
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement.replace("{s}", ""), params)
            return [Quarantined.from_row(tuple(row)) for row in c.fetchall()]

    def find_idempotency(self, agency_id: str, key: str) -> IdempotencyRecord | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {IDEMPOTENCY_COLUMNS} FROM {IDEMPOTENCY_TABLE} "
                "WHERE agency_id=? AND idem_key=?",
                (agency_id, key),
            )
            row = c.fetchone()
        return IdempotencyRecord.from_row(tuple(row), self.macs) if row else None

    def unsealed_idempotency_rows(self) -> bool:
        with self.datastore.transaction(commit=False) as c:
            c.execute(_plain(NOT_SEALED))
            return bool(c.fetchone()[0])


def _plain(statement: str) -> str:
    """A statement written for either store (``{t}`` table prefixes, ``?``) for SQLite."""
    return statement.replace("{t}", "")


def group(stored_events: Sequence[StoredEvent]) -> dict[str, list[Record]]:
    streams: dict[str, list[Record]] = {}
    for s in stored_events:
        key = stream_key(s.originator_id)
        streams.setdefault(key, []).append(
            Record(key, s.originator_version, s.topic, bytes(s.state))
        )
    return streams


class SealedSQLiteSnapshotRecorder(SQLiteAggregateRecorder):
    """The snapshots' recorder, with each snapshot's MAC written in its own transaction and
    checked before a read uses it."""

    macs: Macs | None = None

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {SNAPSHOT_MACS} (originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, mac TEXT NOT NULL, "
            "PRIMARY KEY (originator_id, originator_version)) WITHOUT ROWID",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        rows = snapshot_mac_rows(self.macs, stored_events)
        super()._insert_events(c, stored_events, **kwargs)
        c.executemany(f"INSERT OR REPLACE INTO {SNAPSHOT_MACS} VALUES (?,?,?)", rows)
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
        return super().select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)

    def snapshot_macs(
        self, originator_id: UUID | str, versions: Sequence[int] | None = None
    ) -> dict[int, str]:
        """The stream's snapshot MACs by version: of the given versions only (a load
        reads one snapshot, and a long case has one MAC per hundred events), or all."""
        statement = f"SELECT originator_version, mac FROM {SNAPSHOT_MACS} WHERE originator_id=?"
        params: list[object] = [stream_key(originator_id)]
        if versions is not None:
            statement += f" AND originator_version IN ({','.join('?' * len(versions))})"
            params += versions
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return {int(v): str(m) for v, m in c.fetchall()}
