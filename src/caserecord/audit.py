"""`caserecord verify --all`: every stream, snapshot, MAC-covered table and the Merkle tree,
checked from the stored rows in one process.

It reads raw rows in pages in log order and never decodes an event: a link is recomputed
from the stored bytes, its MAC from the link, the tree from the links, so the cost is
reading plus a few hashes per event.  Each finding is a :class:`Problem` naming the table,
the row and what is wrong; the caller turns the list into a summary and an exit code.

Long because it walks every table that decides what is served, each a few lines; the
per-table checks share the pager, the MAC key and the report.
"""

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from operator import itemgetter
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

from caserecord.access.log import ACCESS_COLUMNS, subject_key
from caserecord.access.tokens import (
    ISSUED,
    MAC_READ_COLUMNS,
    REVOKED,
    TOKEN_COLUMNS,
    append_to_ledger,
    covered,
)
from caserecord.application import CaseRecords
from caserecord.persistence.chain import GENESIS, link_digest, plain_text
from caserecord.persistence.entries import ENTRY_KINDS, ENTRY_TABLE
from caserecord.persistence.feed import FEED_TABLE
from caserecord.persistence.idempotency import (
    IDEMPOTENCY_COLUMNS,
    IDEMPOTENCY_HEADS,
    IDEMPOTENCY_TABLE,
)
from caserecord.persistence.mac import Macs
from caserecord.persistence.merkle import (
    EMPTY_ROOT,
    append,
    leaf_data,
    leaf_hash,
    root_of_frontier,
)
from caserecord.persistence.sealing import (
    SNAPSHOT_MACS,
    TREE_HEAD,
    TREE_NODES,
    Leaf,
    tree_rows,
)
from caserecord.store import StoreError

PAGE = 5000
MAX_PROBLEMS = 1000  # a store changed everywhere is named by its first thousand findings


@dataclass(frozen=True)
class Problem:
    """One finding: what part (``events``, ``tree``...), which row, what is wrong."""

    part: str
    where: str
    problem: str
    stream_id: str | None = None
    version: int | None = None


@dataclass
class Report:
    events: int = 0
    streams: int = 0
    snapshots: int = 0
    feed_rows: int = 0
    tokens: int = 0
    access_entries: int = 0
    idempotency_keys: int = 0
    tree_size: int = 0
    tree_root: str = ""
    problems: list[Problem] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)  # parts that could not be checked

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unchecked

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def as_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["ok"] = self.ok
        document["problems_shown"] = len(self.problems)
        return document


Progress = Callable[[int, int], None]  # called with (events done, events in all)
# Further checks (e.g. the views' quarantine list): each yields its own problems.
ExtraCheck = Callable[[], Iterable[Problem]]


def _key_of(text: str) -> str:
    """A stream key (dashed UUID) from the events table's id (hex on SQLite)."""
    return str(UUID(text)) if len(text) == 32 else text


class Raw:
    """The stored rows, read as a database user would, on either store."""

    def __init__(self, records: CaseRecords) -> None:
        datastore: Any = records.store.datastore
        self.datastore = datastore
        self.postgres = isinstance(datastore, PostgresDatastore)
        self.prefix = f'"{datastore.schema}".' if self.postgres else ""
        self.events = self.prefix + records.recorder.events_table_name  # type: ignore[attr-defined]
        snapshots: Any = records.snapshots.recorder if records.snapshots else None
        self.snapshots = self.prefix + snapshots.events_table_name if snapshots else None

    def t(self, name: str) -> str:
        return self.prefix + name

    def sql(self, statement: str) -> str:
        """A statement written as for ``access.db.Tables``: ``{t}`` table prefixes, ``?``."""
        statement = statement.replace("{t}", self.prefix)
        return statement.replace("?", "%s") if self.postgres else statement

    def rows(
        self, statement: str, params: Sequence[Any] = (), cursor: Any = None
    ) -> list[tuple[Any, ...]]:
        """Rows as plain tuples, in a read transaction of their own or on ``cursor`` (one
        of this store's, inside a transaction the caller holds)."""
        if cursor is not None:
            return self._fetch(cursor, statement, params)
        with self.datastore.transaction(commit=False) as c:
            return self._fetch(c, statement, params)

    def _fetch(self, c: Any, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        if self.postgres:
            c.execute(statement.replace("?", "%s"), tuple(params))
            return [tuple(r.values()) for r in c.fetchall()]
        # Plain tuples straight from sqlite3: making a Row of each costs more than
        # hashing it.
        plain = c.sqlite_cursor.connection.cursor()
        plain.row_factory = None
        try:
            plain.execute(statement, tuple(params))
            found: list[tuple[Any, ...]] = plain.fetchall()
        finally:
            plain.close()
        return found

    def event_page(
        self, after: int, limit: int, stop: int | None = None, cursor: Any = None
    ) -> list[tuple[Any, ...]]:
        """(position, stream, version, topic, state, prev, hash, mac) in log order."""
        if self.postgres:
            return self.rows(
                "SELECT e.notification_id, e.originator_id::text, e.originator_version, e.topic, "
                f"e.state, c.prev_hash, c.hash, c.mac FROM {self.events} e "
                f"LEFT JOIN {self.t('event_chain')} c ON c.originator_id = e.originator_id::text "
                "AND c.originator_version = e.originator_version "
                "WHERE e.notification_id > ? AND e.notification_id <= ? "
                "ORDER BY e.notification_id LIMIT ?",
                (after, stop if stop is not None else 2**62, limit),
                cursor,
            )
        dashed = (
            "lower(substr(e.originator_id,1,8)||'-'||substr(e.originator_id,9,4)||'-'||"
            "substr(e.originator_id,13,4)||'-'||substr(e.originator_id,17,4)||'-'||"
            "substr(e.originator_id,21))"
        )
        return self.rows(
            "SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, "
            f"c.prev_hash, c.hash, c.mac FROM {self.events} e "
            f"LEFT JOIN event_chain c ON c.originator_id = {dashed} "
            "AND c.originator_version = e.originator_version "
            "WHERE e.rowid > ? AND e.rowid <= ? ORDER BY e.rowid LIMIT ?",
            (after, stop if stop is not None else 2**62, limit),
            cursor,
        )

    def keyset(
        self, table: str, columns: str, key: Sequence[str], where: str = "", cursor: Any = None
    ) -> Iterator[tuple[Any, ...]]:
        """Every row of a table, a page at a time, in the order of its key."""
        last: tuple[Any, ...] | None = None
        order = ", ".join(key)
        while True:
            clauses = [where] if where else []
            params: list[Any] = []
            if last is not None:
                clauses.append(f"({order}) > ({', '.join('?' * len(key))})")
                params.extend(last[: len(key)])
            condition = f"WHERE {' AND '.join(clauses)} " if clauses else ""
            page = self.rows(
                f"SELECT {columns} FROM {table} {condition}ORDER BY {order} LIMIT ?",
                [*params, PAGE],
                cursor,
            )
            yield from page
            if len(page) < PAGE:
                return
            last = page[-1]


@dataclass(slots=True)
class StreamTally:
    """A stream as the walk over the log has found it so far."""

    key: str  # the stream's id as the chain names it (a dashed UUID)
    mac: Callable[[bytes], str]  # the MAC of this stream's event links
    plain: bool  # the key is text canonical JSON writes as it is
    version: int = 0
    prev: str = GENESIS


def _tally(streams: dict[str, StreamTally], stored_id: str, macs: Macs) -> StreamTally:
    key = _key_of(stored_id)
    tally = streams.get(key)
    if tally is None:
        tally = streams[key] = StreamTally(
            key, macs.prefixed(Macs.event_prefix(key)), plain_text(key)
        )
    return tally


def verify_all(
    records: CaseRecords,
    *,
    progress: Progress | None = None,
    extra: Sequence[ExtraCheck] = (),
) -> Report:
    """Check everything the service serves from, from the stored rows."""
    raw, macs, report = Raw(records), records.integrity_macs, Report()
    head = _frozen_head(raw)
    feed_positions = _check_feed(raw, macs, report, head.last_position)
    streams = _check_events(raw, macs, report, feed_positions, progress, head)
    _check_chain_rows(raw, report, streams, head.size)
    _check_leaves(raw, report, streams, head.size)
    _check_snapshots(raw, macs, report, streams)
    _check_tokens(raw, macs, report)
    _check_access_log(raw, macs, report)
    _check_idempotency_keys(raw, macs, report)
    for check in extra:
        for problem in check():
            report.add(problem)
    return report


@dataclass(frozen=True)
class FrozenHead:
    """The tree's head and the log's last position, read in one statement: what the run
    checks (events written while it runs are left to the next run)."""

    size: int
    root: bytes
    mac: str | None
    last_position: int
    found: bool


def _frozen_head(raw: Raw) -> FrozenHead:
    position = "notification_id" if raw.postgres else "rowid"
    last = f"(SELECT COALESCE(MAX({position}), 0) FROM {raw.events})"
    rows = raw.rows(f"SELECT size, root, mac, {last} FROM {raw.t(TREE_HEAD)} WHERE id = 1")
    if not rows:
        return FrozenHead(0, EMPTY_ROOT, None, int(raw.rows(f"SELECT {last}")[0][0]), False)
    size, root, mac, last_position = rows[0]
    return FrozenHead(int(size), bytes(root), mac, int(last_position), True)


def _check_feed(raw: Raw, macs: Macs, report: Report, max_position: int) -> bytearray:
    """Each feed-index row's MAC, and that each agency's rows are numbered 1, 2, 3, ... in
    log order (a gap: rows deleted); returns how many rows name each position."""
    seen = bytearray(max_position + 1)
    mac_of: dict[Any, Callable[[bytes], str]] = {}  # an agency's feed MAC, its prefix hashed
    rows = 0
    agency_now: Any = None
    last, last_position = 0, 0  # the agency's last authentic row so far
    for agency, position, mac, number in raw.keyset(
        raw.t(FEED_TABLE), "agency_id, notification_id, mac, seq", ("agency_id", "notification_id")
    ):
        rows += 1
        if agency != agency_now:
            agency_now, last, last_position = agency, 0, 0
        feed_mac = mac_of.get(agency)
        if feed_mac is None:
            feed_mac = mac_of[agency] = macs.prefixed(Macs.feed_prefix(agency))
        if type(number) is not int or feed_mac(f"{position}\x1f{number}".encode()) != mac:
            where = f"agency {agency}, position {position}"
            report.add(
                Problem("feed_index", where, "the row fails its MAC (moved, renumbered or made up)")
            )
        elif number != last + 1:
            report.add(_feed_gap(agency, last, last_position, number, position))
            last, last_position = max(last, number), position
        else:
            last, last_position = number, position
        if 0 < position <= max_position:
            count = seen[position]
            if count < 255:
                seen[position] = count + 1
        elif position <= 0:  # past the log's end: written during the run, or by its MAC
            where = f"agency {agency}, position {position}"
            report.add(Problem("feed_index", where, "the row names no event"))
    report.feed_rows = rows
    return seen


def _feed_gap(agency: Any, last: int, last_position: int, number: int, position: int) -> Problem:
    where = f"agency {agency}, positions {last_position} to {position}"
    if number <= last:
        return Problem("feed_index", where, f"feed number {number} repeats or goes back")
    missing = f"{last + 1}" if number == last + 2 else f"{last + 1} to {number - 1}"
    return Problem("feed_index", where, f"feed numbers {missing} are missing (rows deleted)")


def _check_events(
    raw: Raw,
    macs: Macs,
    report: Report,
    feed: bytearray,
    progress: Progress | None,
    head: FrozenHead,
) -> dict[str, StreamTally]:
    """Every event in log order: its link, the link's MAC, its feed row and its leaf; the
    tree recomputed from the leaves and compared with the stored nodes and the head.

    One pass over the stored rows, no event decoded: the link is hashed from the stored
    state's bytes, and each leaf goes into the tree as it is made.  The loop is the cost
    of a full verify, so it is written flat: per stream its key, link MAC (prefix hashed
    once) and whether its key needs JSON escaping are looked up once; the link's
    canonical JSON is formatted directly (``link_digest`` for anything unusual); messages
    are only made for what fails."""
    streams: dict[str, StreamTally] = {}
    by_stored_id: dict[str, StreamTally] = {}
    plain_topic: dict[Any, bool] = {}
    stack: list[bytes] = []  # the tree's right edge
    size = after = indexed = 0
    sha256 = hashlib.sha256
    kind_of = ENTRY_KINDS.get
    while page := raw.event_page(after, PAGE, head.last_position):
        first = size
        made: list[list[bytes]] = [[]]  # the nodes this page completes, per level
        leaves = made[0]
        entries: list[tuple[str, int, str]] = []  # the page's events the entry index holds
        named: list[tuple[int, str, int, str]] = []  # what each leaf's row must name
        for position, stored_id, version, topic, state, prev, digest, mac in page:
            tally = by_stored_id.get(stored_id)
            if tally is None:
                tally = by_stored_id[stored_id] = _tally(streams, stored_id, macs)
            key, expected_prev = tally.key, tally.prev
            plain = plain_topic.get(topic)
            if plain is None:
                plain = plain_topic[topic] = plain_text(topic)
            if plain and tally.plain and type(version) is int and type(state) is bytes:
                # link_digest's canonical JSON, formatted here
                computed = sha256(
                    f'{{"prev":"{expected_prev}","state_sha256":"{sha256(state).hexdigest()}",'
                    f'"stream":"{key}","topic":"{topic}","version":{version}}}'.encode()
                ).hexdigest()
            else:
                computed = link_digest(expected_prev, key, version, topic, bytes(state))
            if (
                version != tally.version + 1
                or digest != computed
                or prev != expected_prev
                or tally.mac(f"{version}\x1f{position}\x1f{digest}".encode()) != mac  # event_rest
            ):
                _event_problem(report, tally, position, key, version, prev, digest, computed)
            kind = kind_of(topic)
            if kind is not None:
                entries.append((key, version, kind))
            if feed[position] != 1:
                _feed_problem(report, feed[position], position, key, version)
            feed[position] = 0  # what is left afterwards names no event
            tally.version, tally.prev = version, computed
            # leaf_hash(leaf_data(...)), and the nodes it completes (one per trailing zero
            # bit of the new size)
            node = sha256(f"\x00{position}\n{key}\n{version}\n{computed}".encode()).digest()
            leaves.append(node)
            named.append((position, key, version, computed))
            size += 1
            count, level = size, 0
            while not count & 1:
                node = sha256(b"\x01" + stack.pop() + node).digest()
                level += 1
                count >>= 1
                if level == len(made):
                    made.append([])
                made[level].append(node)
            stack.append(node)
        _check_nodes(raw, report, first, size, made)
        _check_leaf_names(raw, report, first, named)
        indexed += _check_entries(raw, report, entries)
        report.events += len(page)
        after = page[-1][0]
        if progress is not None:
            progress(report.events, head.size)
    report.streams = len(streams)
    for position, count in enumerate(feed):
        if count:
            report.add(Problem("feed_index", f"position {position}", "the row names no event"))
    _check_head(macs, report, head, size, root_of_frontier(stack))
    _check_entry_rows(raw, report, indexed, head.last_position)
    return streams


def entry_column(
    raw: Raw, column: str, keys: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], str]:
    """(stream, version) -> ``column`` of the entry-index rows of ``keys`` that exist."""
    pairs = ", ".join(["(?, ?)"] * len(keys))
    return {
        (str(stream), int(version)): str(value)
        for stream, version, value in raw.rows(
            # From the keys to the rows, so that each is a search of the primary key (a
            # row-value IN list would scan the table once per statement).
            f"SELECT e.stream_id, e.version, e.{column} FROM (VALUES {pairs}) AS v "
            f"JOIN {raw.t(ENTRY_TABLE)} e ON e.stream_id = v.column1 AND e.version = v.column2",
            [value for key in keys for value in key],
        )
    }


def _check_entries(raw: Raw, report: Report, entries: list[tuple[str, int, str]]) -> int:
    """The entry index's row of each of a page's notes, addenda, goal progress and scores
    (a note whose row was deleted is left out of the case's pages); returns how many
    matched.  Looked up by key, a few hundred per statement."""
    matched = 0
    for start in range(0, len(entries), 500):
        chunk = entries[start : start + 500]
        found = entry_column(raw, "kind", [(key, version) for key, version, _ in chunk])
        for key, version, kind in chunk:
            row = found.get((key, version))
            if row == kind:
                matched += 1
                continue
            problem = (
                "the event has no entry-index row (left out of the case's pages)"
                if row is None
                else f"the entry-index row says {row!r}, the event is a {kind!r}"
            )
            where = f"stream {key} version {version}"
            report.add(Problem("entry_index", where, problem, key, version))
    return matched


def _check_entry_rows(raw: Raw, report: Report, matched: int, last_position: int) -> None:
    """Entry-index rows no indexed event of the log accounts for (made up, or moved to
    another stream or version): counted, and only when there are more rows than the walk
    matched are they looked for, skipping those of events logged during the run."""
    (count,) = raw.rows(f"SELECT COUNT(*) FROM {raw.t(ENTRY_TABLE)}")[0]
    if int(count) <= matched:
        return
    for stream, version, kind in raw.keyset(
        raw.t(ENTRY_TABLE), "stream_id, version, kind", ("stream_id", "version")
    ):
        stored_id = UUID(str(stream)) if raw.postgres else UUID(str(stream)).hex
        position = "notification_id" if raw.postgres else "rowid"
        event = raw.rows(
            f"SELECT topic, {position} FROM {raw.events} "
            "WHERE originator_id = ? AND originator_version = ?",
            (stored_id, version),
        )
        if event and (int(event[0][1]) > last_position or str(event[0][0]) in ENTRY_KINDS):
            continue  # logged during the run, or an indexed event the walk checked
        what = "no event" if not event else f"a {str(event[0][0]).rsplit('.', 1)[-1]}"
        problem = f"an entry-index row ({kind}) names {what}: made up or moved"
        report.add(Problem("entry_index", f"stream {stream} version {version}", problem))


def _event_problem(
    report: Report,
    tally: StreamTally,
    position: int,
    key: str,
    version: int,
    prev: str | None,
    digest: str | None,
    computed: str,
) -> None:
    """What is wrong with an event that failed one of the walk's checks."""
    where = f"stream {key} version {version} (position {position})"
    if version != tally.version + 1:
        problem = f"version {tally.version + 1} is missing before it (or out of order)"
    elif digest is None:
        problem = "the event has no hash-chain link"
    elif prev != tally.prev:
        problem = "the link does not point at the previous event's hash"
    elif digest != computed:
        problem = "the stored event does not match its hash"
    else:
        problem = "the link fails its MAC (written without the service's key)"
    report.add(Problem("events", where, problem, key, version))


def _feed_problem(report: Report, count: int, position: int, key: str, version: int) -> None:
    where = f"stream {key} version {version} (position {position})"
    problem = "the event has no feed-index row" if count == 0 else "indexed twice"
    report.add(Problem("feed_index", where, problem, key, version))


def _check_nodes(raw: Raw, report: Report, first: int, size: int, made: list[list[bytes]]) -> None:
    """The stored tree nodes a page of leaves made (proofs are made from them): leaves
    ``first`` to ``size``, and at each level the nodes they completed, each level a range
    of the primary key compared as one list (one statement with the ranges OR'ed together
    makes SQLite sort the rows)."""
    statement = (
        f"SELECT hash FROM {raw.t(TREE_NODES)} WHERE level = ? AND idx >= ? AND idx < ? "
        "ORDER BY idx"
    )
    with raw.datastore.transaction(commit=False) as c:
        for level, nodes in enumerate(made):
            if nodes:
                stored = raw.rows(statement, (level, first >> level, size >> level), c)
                if list(map(bytes, map(itemgetter(0), stored))) != nodes:
                    _node_problems(raw, report, level, first >> level, nodes)


LEAF_NAMES = ("position", "stream", "version", "link")


def _check_leaf_names(
    raw: Raw, report: Report, first: int, named: list[tuple[int, str, int, str]]
) -> None:
    """The event each of a page's leaf rows names (position, stream, version, link), which
    its hash does not cover: a tail cut is named by them, and a case read refused short of
    the versions they name."""
    stored = raw.rows(
        f"SELECT position, stream_id, version, link FROM {raw.t(TREE_NODES)} "
        "WHERE level = 0 AND idx >= ? AND idx < ? ORDER BY idx",
        (first, first + len(named)),
    )
    if stored == named:
        return
    for index, (found, expected) in enumerate(zip(stored, named, strict=False), start=first):
        differ = [c for c, a, b in zip(LEAF_NAMES, found, expected, strict=True) if a != b]
        if differ:
            verb = "does" if len(differ) == 1 else "do"
            problem = f"the stored leaf's {', '.join(differ)} {verb} not match the event's"
            report.add(Problem("tree", f"leaf {index}", problem))


def _node_problems(raw: Raw, report: Report, level: int, start: int, nodes: list[bytes]) -> None:
    found = {
        int(i): bytes(h)
        for i, h in raw.rows(
            f"SELECT idx, hash FROM {raw.t(TREE_NODES)} WHERE level = ? AND idx >= ? AND idx < ?",
            (level, start, start + len(nodes)),
        )
    }
    what = "leaf" if level == 0 else f"node at level {level}"
    for index, digest in enumerate(nodes, start=start):
        if found.get(index) != digest:
            problem = "is missing" if index not in found else "does not match the events"
            report.add(Problem("tree", f"{what} {index}", f"the stored {what} {problem}"))


def _check_head(
    macs: Macs, report: Report, head: FrozenHead, logged: int, logged_root: bytes
) -> None:
    report.tree_size, report.tree_root = head.size, head.root.hex()
    if head.found and not Macs.same(macs.tree_head(head.size, head.root), head.mac):
        report.add(Problem("tree", "head", "the tree head fails its MAC"))
    if head.size != logged:
        report.add(
            Problem(
                "tree",
                "head",
                f"the tree holds {head.size} events but the log {logged}: events were "
                + ("removed from the log" if head.size > logged else "added behind the service"),
            )
        )
    elif head.root != logged_root:
        report.add(Problem("tree", "head", "the tree's root does not match the log"))


def _check_chain_rows(
    raw: Raw, report: Report, streams: dict[str, StreamTally], tree_size: int
) -> None:
    """Links whose events are gone: a stream's tail cut, or a stream removed (links of
    events written during the run are left out by their leaf)."""
    for stream, last, count in raw.rows(
        "SELECT originator_id, MAX(originator_version), COUNT(*) "
        f"FROM {raw.t('event_chain')} WHERE leaf IS NULL OR leaf < ? GROUP BY originator_id",
        (tree_size,),
    ):
        have = streams.get(stream)
        logged = have.version if have else 0
        if int(last) != logged or int(count) != logged:
            problem = (
                f"the chain has links up to version {last} but the log ends at version {logged}"
                if logged
                else f"the chain has {count} links but the log holds none of its events"
            )
            report.add(Problem("events", f"stream {stream}", problem, stream, logged + 1))


def _check_leaves(
    raw: Raw, report: Report, streams: dict[str, StreamTally], tree_size: int
) -> None:
    """Events the tree's leaves name that the log lacks: a stream's tail cut together with
    its links, or a whole stream removed, named by stream and versions.  (A leaf whose
    naming columns were edited is reported by the walk over the log.)"""
    for stream, last, count in raw.rows(
        f"SELECT stream_id, MAX(version), COUNT(*) FROM {raw.t(TREE_NODES)} "
        "WHERE level = 0 AND stream_id IS NOT NULL AND idx < ? GROUP BY stream_id",
        (tree_size,),
    ):
        have = streams.get(stream)
        logged = have.version if have else 0
        if int(last) > logged:
            report.add(
                Problem(
                    "events",
                    f"stream {stream}",
                    f"versions {logged + 1}..{last} are in the tree but not in the log "
                    "(removed, with their links)",
                    stream,
                    logged + 1,
                )
            )
        elif int(count) > logged:
            report.add(
                Problem(
                    "events",
                    f"stream {stream}",
                    f"the tree has {count} leaves of the stream but the log {logged} events",
                    stream,
                )
            )


def _check_snapshots(raw: Raw, macs: Macs, report: Report, streams: dict[str, StreamTally]) -> None:
    if raw.snapshots is None:
        return
    stored = {}
    for stream, version, mac in raw.keyset(
        raw.t(SNAPSHOT_MACS),
        "originator_id, originator_version, mac",
        ("originator_id", "originator_version"),
    ):
        stored[(stream, int(version))] = mac
    id_column = "originator_id::text" if raw.postgres else "originator_id"
    for stored_id, version, topic, state in raw.keyset(
        raw.snapshots,
        f"{id_column}, originator_version, topic, state",
        ("originator_id", "originator_version"),
    ):
        report.snapshots += 1
        key = _key_of(stored_id)
        where = f"snapshot of stream {key} at version {version}"
        expected = macs.snapshot(key, int(version), topic, bytes(state))
        if not Macs.same(expected, stored.get((key, int(version)))):
            report.add(Problem("snapshots", where, "the snapshot fails its MAC", key, version))
        elif key not in streams or streams[key].version < int(version):
            report.add(
                Problem("snapshots", where, "the snapshot is ahead of the events", key, version)
            )


def _check_tokens(raw: Raw, macs: Macs, report: Report) -> None:
    """Each token's MAC, and the tokens table against the token ledger: a token deleted, or
    made up, or an older copy of its row restored over its revocation."""
    columns = ", ".join([*MAC_READ_COLUMNS, "mac"])
    revoked_at: dict[str, bool] = {}
    for row in raw.keyset(raw.t("api_tokens"), columns, ("token_id",)):
        report.tokens += 1
        revoked_at[str(row[0])] = row[TOKEN_COLUMNS.index("revoked_at")] is not None
        if not Macs.same(macs.token(covered(row[:-1])), row[-1]):
            report.add(Problem("tokens", f"token {row[0]}", "the token fails its MAC"))
    ledger: dict[str, set[str]] = {}
    previous = 0
    for entry_id, token_id, action, at, mac in raw.keyset(
        raw.t("token_ledger"), "entry_id, token_id, action, at, mac", ("entry_id",)
    ):
        where = f"token-ledger entry {entry_id}"
        if not Macs.same(macs.token_ledger(int(entry_id), token_id, action, at), mac):
            report.add(Problem("tokens", where, "the entry fails its MAC"))
        if int(entry_id) != previous + 1:
            report.add(
                Problem("tokens", where, f"entries {previous + 1}..{entry_id - 1} are missing")
            )
        previous = int(entry_id)
        ledger.setdefault(str(token_id), set()).add(str(action))
    _check_ledger_head(raw, macs, report, previous)
    for token_id, actions in ledger.items():
        where = f"token {token_id}"
        if token_id not in revoked_at:
            report.add(
                Problem("tokens", where, "the ledger issued it but the tokens table lacks it")
            )
        elif REVOKED in actions and not revoked_at[token_id]:
            report.add(Problem("tokens", where, "the ledger has it revoked but it is active"))
    for token_id, revoked in revoked_at.items():
        where = f"token {token_id}"
        if ISSUED not in ledger.get(token_id, set()):
            report.add(Problem("tokens", where, "the token is not in the ledger (made up)"))
        elif revoked and REVOKED not in ledger[token_id]:
            report.add(Problem("tokens", where, "revoked, but the ledger has no revocation"))


def _check_ledger_head(raw: Raw, macs: Macs, report: Report, last_id: int) -> None:
    """The ledger's head names its last entry: entries deleted at its end leave it ahead.
    On SQLite the id sequence is checked too (its AUTOINCREMENT rolls back with its
    transaction, so it has no gaps but deleted ones)."""
    heads = raw.rows(f"SELECT last_entry, mac FROM {raw.t('token_ledger_head')} WHERE id = 1")
    where = "token-ledger head"
    head = int(heads[0][0]) if heads else 0
    if not heads:
        if last_id:
            report.add(Problem("tokens", where, "the ledger has entries but no head (deleted)"))
    elif not Macs.same(macs.ledger_head(head), heads[0][1]):
        report.add(Problem("tokens", where, "the head fails its MAC"))
    elif head > last_id:
        report.add(
            Problem("tokens", where, f"entries {last_id + 1}..{head} are missing (the last)")
        )
    elif head < last_id:
        report.add(Problem("tokens", where, "the head is behind the ledger (an older head)"))
    last = _last_entry_id(raw, "token_ledger")
    if last is not None and last > max(head, last_id):
        report.add(
            Problem(
                "tokens", "token ledger", f"entries {max(head, last_id) + 1}..{last} are missing"
            )
        )


def _check_access_log(raw: Raw, macs: Macs, report: Report) -> None:
    """Each entry's MAC, each subject's numbers and each subject's head.  Entry ids are
    checked on SQLite only: a PostgreSQL sequence value taken by a write that rolled back is
    gone, so a gap there is no sign of a deletion; the heads find a subject's newest entries
    deleted on both stores."""
    columns = ", ".join([*ACCESS_COLUMNS, "mac"])
    previous = 0
    subjects_of: dict[int, list[tuple[Any, ...]]] = {}
    numbers: dict[tuple[str, str], int] = {}  # each subject's last number, entry by entry
    highest: dict[tuple[str, str], int] = {}  # and over every row, authentic or not
    fetched_to = 0
    for row in raw.keyset(raw.t("access_log"), columns, ("entry_id",)):
        report.access_entries += 1
        entry_id = int(row[0])
        if entry_id > fetched_to:  # the subjects of the next page of entries, in one read
            subjects_of.clear()
            fetched_to = entry_id + PAGE
            for entry, *subject in raw.rows(
                f"SELECT entry_id, agency_id, client_id, case_id, seq FROM "
                f"{raw.t('access_log_subjects')} WHERE entry_id >= ? AND entry_id <= ?",
                (entry_id, fetched_to),
            ):
                subjects_of.setdefault(int(entry), []).append(tuple(subject))
        subjects = subjects_of.get(entry_id, [])
        where = f"access-log entry {entry_id}"
        for named in subjects:
            if named[3] is not None:
                key = subject_key(named)
                highest[key] = max(highest.get(key, 0), int(named[3]))
        if not Macs.same(macs.access_entry(row[:-1], subjects), row[-1]):
            report.add(Problem("access_log", where, "the entry fails its MAC"))
        else:
            _check_subject_numbers(entry_id, subjects, numbers, report)
        if entry_id != previous + 1 and not raw.postgres:
            report.add(
                Problem("access_log", where, f"entries {previous + 1}..{entry_id - 1} are missing")
            )
        previous = entry_id
    last = _last_entry_id(raw, "access_log")
    if last is not None and last > previous:
        report.add(
            Problem("access_log", "end", f"entries {previous + 1}..{last} are missing (the last)")
        )
    _check_access_heads(raw, macs, report, highest)


def _check_access_heads(
    raw: Raw, macs: Macs, report: Report, highest: dict[tuple[str, str], int]
) -> None:
    """Each subject's entries run up to its head: its newest entries deleted leave the head
    ahead; a head edited fails its MAC; a head deleted leaves numbered entries without one."""
    for agency, key, head, mac in raw.keyset(
        raw.t("access_log_heads"),
        "agency_id, subject_key, last_seq, mac",
        ("agency_id", "subject_key"),
    ):
        seen = highest.pop((str(agency), str(key)), 0)
        authentic = Macs.same(macs.access_head(str(agency), str(key), int(head)), mac)
        if problem := _head_problem(authentic, int(head), seen, "the subject's entries"):
            report.add(Problem("access_log", f"access-log head {agency}/{key}", problem))
    for (agency, key), seen in highest.items():
        report.add(
            Problem(
                "access_log",
                f"access-log head {agency}/{key}",
                f"the subject has entries numbered up to {seen} but no head (deleted)",
            )
        )


def _check_idempotency_keys(raw: Raw, macs: Macs, report: Report) -> None:
    """Each stored result a retry would be answered with, and each agency's rows numbered
    1..its head: a row deleted leaves a gap, the newest deleted leave the head ahead (a
    retry with a deleted row's key runs its command again; only this finds it)."""
    numbers: dict[str, list[int]] = {}  # each agency's numbers, authentic or not
    for agency, key, fingerprint, result, created_at, seq, mac in raw.keyset(
        raw.t(IDEMPOTENCY_TABLE), IDEMPOTENCY_COLUMNS, ("agency_id", "idem_key")
    ):
        report.idempotency_keys += 1
        if seq is not None:
            numbers.setdefault(str(agency), []).append(int(seq))
        expected = (
            macs.idempotency(agency, key, fingerprint, result, str(created_at), int(seq))
            if seq is not None
            else ""
        )
        if not Macs.same(expected, mac):
            report.add(
                Problem(
                    "idempotency",
                    f"idempotency key {key} of agency {agency}",
                    "the stored result fails its MAC",
                )
            )
    for agency, found in numbers.items():
        found.sort()
        last = 0
        for number in found:
            if number == last:
                report.add(
                    Problem(
                        "idempotency",
                        f"idempotency keys of agency {agency}",
                        f"number {number} repeats",
                    )
                )
            elif number > last + 1:
                report.add(
                    Problem(
                        "idempotency",
                        f"idempotency keys of agency {agency}",
                        f"keys numbered {last + 1}..{number - 1} are missing (rows deleted)",
                    )
                )
            last = number
    _check_idempotency_heads(raw, macs, report, {a: n[-1] for a, n in numbers.items()})


def _head_problem(authentic: bool, head: int, seen: int, rows: str) -> str | None:
    """What is wrong with a head, against the highest number ``seen`` among its ``rows``
    ("the subject's entries", "the agency's keys"), if anything."""
    if not authentic:
        return "the head fails its MAC"
    if head > seen:
        return f"{rows} numbered {seen + 1}..{head} are missing (its newest)"
    if head < seen:
        return f"the head is behind {rows} (an older head)"
    return None


def _check_idempotency_heads(raw: Raw, macs: Macs, report: Report, highest: dict[str, int]) -> None:
    """Each agency's keys run up to its head: its newest rows deleted leave the head ahead;
    a head edited fails its MAC; a head deleted leaves numbered rows without one."""
    for agency, head, mac in raw.keyset(
        raw.t(IDEMPOTENCY_HEADS), "agency_id, last_seq, mac", ("agency_id",)
    ):
        seen = highest.pop(str(agency), 0)
        authentic = Macs.same(macs.idempotency_head(str(agency), int(head)), mac)
        if problem := _head_problem(authentic, int(head), seen, "the agency's keys"):
            report.add(Problem("idempotency", f"idempotency head of agency {agency}", problem))
    for agency, seen in highest.items():
        report.add(
            Problem(
                "idempotency",
                f"idempotency head of agency {agency}",
                f"the agency has keys numbered up to {seen} but no head (deleted)",
            )
        )


def _check_subject_numbers(
    entry_id: int,
    subjects: list[tuple[Any, ...]],
    numbers: dict[tuple[str, str], int],
    report: Report,
) -> None:
    """An authentic entry's subject rows continue their subjects' numbers: a gap is an entry
    naming that client (or case) deleted before this one."""
    for subject in sorted(subjects, key=lambda s: -1 if s[3] is None else int(s[3])):
        if subject[3] is None:
            continue
        key, number = subject_key(subject), int(subject[3])
        last = numbers.get(key, 0)
        if number > last + 1:
            whose = f"client {key[1]}" if subject[1] is not None else f"case {key[1]}"
            report.add(
                Problem(
                    "access_log",
                    f"access-log entry {entry_id}",
                    f"the access log of {whose} lacks numbers {last + 1}..{number - 1} "
                    "before it (entries deleted)",
                )
            )
        numbers[key] = max(last, number)


def _last_entry_id(raw: Raw, table: str) -> int | None:
    """The last entry id SQLite handed out for ``table`` (its AUTOINCREMENT sequence, rolled
    back with its transaction), or None: a PostgreSQL sequence keeps values taken by writes
    that rolled back, so its last value says nothing of deleted entries."""
    if raw.postgres:
        return None
    rows = raw.rows("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,))
    return int(rows[0][0]) if rows else None


# ---- sealing a store written before the MACs and the tree (`db init`) ----------------------
class UnsealableStoreError(StoreError):
    """The store's existing rows do not verify, so they are not sealed; one line."""


def refuse_events_behind_tree(records: CaseRecords) -> int:
    """How many events a store never sealed holds (0 for a sealed one), or an
    :class:`UnsealableStoreError` if the store was sealed (it has a tree, or links with
    MACs) and holds events its tree lacks: added behind the service, so neither sealed nor
    indexed by `db init` (which calls this first)."""
    raw = Raw(records)
    total = int(raw.rows(f"SELECT COUNT(*) FROM {raw.events}")[0][0])
    size = records.store.tree_head().size
    if size >= total:
        return 0
    if size or raw.rows(f"SELECT 1 FROM {raw.t('event_chain')} WHERE mac IS NOT NULL LIMIT 1"):
        raise UnsealableStoreError(
            f"the log holds {total - size} events its Merkle tree lacks, in a store already "
            "sealed: they were added behind the service and are not sealed "
            "(`caserecord verify --all` names them)"
        )
    return total


def seal_existing(records: CaseRecords, *, progress: Progress | None = None) -> int:
    """MAC and add to the tree the rows a store made by an earlier version holds; returns
    how many events it sealed.  It seals what is there: each event's link is recomputed and
    must match (a damaged stream is refused, not sealed).  One transaction, so an
    interrupted run leaves nothing sealed and is simply run again; and so a store that has
    a tree, or links with MACs, was sealed whole: events it holds without them were added
    behind the service, and are refused, never sealed."""
    raw, macs = Raw(records), records.integrity_macs
    total = refuse_events_behind_tree(records)
    _seal_idempotency_keys(raw, macs)
    _number_idempotency_keys(raw, macs)
    sealed = _seal_events(raw, macs, total, progress) if total else 0
    _number_feed(raw, macs)
    _seal_rows(
        raw, "api_tokens", MAC_READ_COLUMNS, lambda row: macs.token(covered(row)), ("token_id",)
    )
    _head_token_ledger(raw, macs)
    _seal_token_ledger(raw, macs)
    _seal_access_log(raw, macs)
    _number_access_log(raw, macs)
    _head_access_log(raw, macs)
    _seal_snapshots(raw, macs)
    return sealed


def _seal_events(raw: Raw, macs: Macs, total: int, progress: Progress | None) -> int:
    """Every event's link MAC and leaf, the tree's nodes and its head, in one transaction."""
    size, frontier = 0, list[bytes]()
    prevs: dict[str, tuple[int, str]] = {}
    sealed = after = 0
    mark = "%s" if raw.postgres else "?"
    with raw.datastore.transaction(commit=True) as c:
        while page := raw.event_page(after, PAGE, cursor=c):
            links: list[tuple[str, int, str, int]] = []
            leaves: list[bytes] = []
            named: list[Leaf] = []
            for position, stored_id, version, topic, state, prev, digest, _ in page:
                key = _key_of(stored_id)
                last_version, last_hash = prevs.get(key) or (0, GENESIS)
                where = f"stream {key} version {version}"
                computed = link_digest(last_hash, key, version, topic, bytes(state))
                if (
                    version != last_version + 1
                    or digest is None
                    or prev != last_hash
                    or computed != digest
                ):
                    raise UnsealableStoreError(
                        f"{where} does not verify against its hash chain: it is not sealed "
                        f"(check it with `caserecord verify {key}`)"
                    )
                prevs[key] = (version, digest)
                leaf_index = size + len(leaves)
                links.append((macs.event(key, version, position, digest), leaf_index, key, version))
                leaves.append(leaf_hash(leaf_data(position, key, version, digest)))
                named.append((position, key, version, digest))
            made = append(size, frontier, leaves)
            c.executemany(
                f"UPDATE {raw.t('event_chain')} SET mac={mark}, leaf={mark} "
                f"WHERE originator_id={mark} AND originator_version={mark}",
                links,
            )
            c.executemany(
                f"INSERT INTO {raw.t(TREE_NODES)} VALUES ({', '.join([mark] * 7)})",
                tree_rows(made, named),
            )
            size, frontier = made.size, made.frontier
            sealed += len(page)
            after = page[-1][0]
            if progress is not None:
                progress(sealed, total)
        root = root_of_frontier(frontier)
        c.execute(f"DELETE FROM {raw.t(TREE_HEAD)}")
        c.execute(
            f"INSERT INTO {raw.t(TREE_HEAD)} VALUES (1,{mark},{mark},{mark},{mark})",
            (size, root, b"".join(frontier), macs.tree_head(size, root)),
        )
    return sealed


def _seal_rows(
    raw: Raw,
    table: str,
    columns: Sequence[str],
    mac_of: Callable[[tuple[Any, ...]], str],
    key: Sequence[str],
) -> None:
    """MAC the rows of a table that have none; ``key`` (its first columns) names a row."""
    mark = "%s" if raw.postgres else "?"
    rows = list(raw.keyset(raw.t(table), ", ".join(columns), key, "mac IS NULL"))
    if not rows:
        return
    where = " AND ".join(f"{k}={mark}" for k in key)
    updates = [(mac_of(row), *row[: len(key)]) for row in rows]
    with raw.datastore.transaction(commit=True) as c:
        c.executemany(f"UPDATE {raw.t(table)} SET mac={mark} WHERE {where}", updates)


def _seal_idempotency_keys(raw: Raw, macs: Macs) -> None:
    """MAC the idempotency rows of a store written before their MACs.  Only a table none of
    whose rows has a MAC is sealed: the service refuses a store holding rows without one
    until this has run, and from then on writes each row with its MAC, so a row without one
    beside rows with one was written, or had its MAC removed, behind the service, and
    sealing it would make an edited result one the key vouches for."""
    table = raw.t(IDEMPOTENCY_TABLE)
    if not raw.rows(f"SELECT 1 FROM {table} WHERE mac IS NULL LIMIT 1"):
        return
    if raw.rows(f"SELECT 1 FROM {table} WHERE mac IS NOT NULL LIMIT 1"):
        found = raw.rows(f"SELECT agency_id, idem_key FROM {table} WHERE mac IS NULL LIMIT 1")
        agency, key = found[0]
        raise UnsealableStoreError(
            f"idempotency key {key} of agency {agency} has no MAC in a store whose keys were "
            "sealed: it was written, or its MAC removed, behind the service and is not sealed "
            "(`caserecord verify --all` names every such row; delete them, or restore them "
            "from a backup)"
        )
    mark = "%s" if raw.postgres else "?"
    columns = "agency_id, idem_key, fingerprint, result, created_at"
    updates = [
        (
            macs.unnumbered_idempotency(agency, key, fingerprint, result, str(created_at)),
            agency,
            key,
        )
        for agency, key, fingerprint, result, created_at in raw.keyset(
            table, columns, ("agency_id", "idem_key")
        )
    ]
    with raw.datastore.transaction(commit=True) as c:
        c.executemany(
            f"UPDATE {table} SET mac={mark} WHERE agency_id={mark} AND idem_key={mark}", updates
        )


def _number_idempotency_keys(raw: Raw, macs: Macs) -> None:
    """Number the idempotency rows of a store from before the numbers (1, 2, 3, ... per
    agency, in the order written: by time, then key), MAC them with their numbers and give
    each agency its head, in one transaction.  Only a store none of whose rows has a number
    and that has no head is numbered: from then on the service writes each row numbered with
    its head, so a row without a number was written behind the service, and an agency with
    numbered rows and no head lost its head behind the service (made again, it would vouch
    for the newest rows deleted).  A row must hold its earlier MAC first: one edited or
    made up is refused, not numbered."""
    table, heads = raw.t(IDEMPOTENCY_TABLE), raw.t(IDEMPOTENCY_HEADS)
    has_heads = bool(raw.rows(f"SELECT 1 FROM {heads} LIMIT 1"))
    numbered_rows = bool(raw.rows(f"SELECT 1 FROM {table} WHERE seq IS NOT NULL LIMIT 1"))
    unnumbered = raw.rows(f"SELECT agency_id, idem_key FROM {table} WHERE seq IS NULL LIMIT 1")
    if has_heads or numbered_rows:
        if unnumbered:
            agency, key = unnumbered[0]
            raise UnsealableStoreError(
                f"idempotency key {key} of agency {agency} has no number in a store whose keys "
                "were numbered: it was written behind the service and is not numbered "
                "(`caserecord verify --all` names it)"
            )
        lacking = raw.rows(
            f"SELECT MIN(agency_id) FROM {table} WHERE agency_id NOT IN "
            f"(SELECT agency_id FROM {heads})"
        )
        if lacking and lacking[0][0] is not None:
            raise UnsealableStoreError(
                f"the idempotency keys of agency {lacking[0][0]} have no head in a store "
                "already given heads: it was deleted behind the service (check the store "
                "with `caserecord verify --all`)"
            )
        return
    if not unnumbered:
        return
    mark = "%s" if raw.postgres else "?"
    last: dict[str, int] = {}
    updates = []
    for agency, key, fingerprint, result, created_at, mac in raw.rows(
        "SELECT agency_id, idem_key, fingerprint, result, created_at, mac "
        f"FROM {table} ORDER BY agency_id, created_at, idem_key"
    ):
        values = (agency, key, fingerprint, result, str(created_at))
        if not Macs.same(macs.unnumbered_idempotency(*values), mac):
            raise UnsealableStoreError(
                f"idempotency key {key} of agency {agency} fails its MAC: it is not numbered "
                "(check the store with `caserecord verify --all`)"
            )
        last[agency] = number = last.get(agency, 0) + 1
        updates.append((number, macs.idempotency(*values, number), agency, key))
    with raw.datastore.transaction(commit=True) as c:
        c.executemany(
            f"UPDATE {table} SET seq={mark}, mac={mark} WHERE agency_id={mark} AND idem_key={mark}",
            updates,
        )
        c.executemany(
            f"INSERT INTO {heads} (agency_id, last_seq, mac) VALUES ({mark},{mark},{mark})",
            [(agency, n, macs.idempotency_head(agency, n)) for agency, n in last.items()],
        )


def _number_feed(raw: Raw, macs: Macs) -> None:
    """Number the feed-index rows of a store from before the numbers (1, 2, 3, ... per
    agency in log order, after its rows already numbered) and MAC them with their number.
    A row sealed before the numbers must hold its earlier MAC first: a row moved or made up
    is refused, not numbered into an agency's feed.  One transaction: the recorders read an
    agency's last number from its latest row."""
    if not raw.rows(f"SELECT 1 FROM {raw.t(FEED_TABLE)} WHERE seq IS NULL LIMIT 1"):
        return
    mark = "%s" if raw.postgres else "?"
    updates = []
    agency_now: Any = None
    last = 0
    for agency, position, mac, number in raw.keyset(
        raw.t(FEED_TABLE), "agency_id, notification_id, mac, seq", ("agency_id", "notification_id")
    ):
        if agency != agency_now:
            agency_now, last = agency, 0
        if number is not None:
            last = int(number)
            continue
        if mac is not None and not Macs.same(macs.unnumbered_feed(agency, position), mac):
            raise UnsealableStoreError(
                f"the feed-index row of agency {agency} at position {position} fails its MAC: "
                "it is not numbered (check the store with `caserecord verify --all`)"
            )
        last += 1
        updates.append((last, macs.feed(agency, position, last), agency, position))
    with raw.datastore.transaction(commit=True) as c:
        c.executemany(
            f"UPDATE {raw.t(FEED_TABLE)} SET seq={mark}, mac={mark} "
            f"WHERE agency_id={mark} AND notification_id={mark}",
            updates,
        )


def _seal_token_ledger(raw: Raw, macs: Macs) -> None:
    """Ledger rows for the tokens made before the ledger (issued, and revoked if so)."""
    have = {
        (str(t), str(a))
        for t, a in raw.rows(f"SELECT token_id, action FROM {raw.t('token_ledger')}")
    }
    missing = []
    for token_id, created_at, revoked_at in raw.keyset(
        raw.t("api_tokens"), "token_id, created_at, revoked_at", ("token_id",)
    ):
        if (token_id, ISSUED) not in have:
            missing.append((token_id, ISSUED, created_at))
        if revoked_at is not None and (token_id, REVOKED) not in have:
            missing.append((token_id, REVOKED, revoked_at))
    if not missing:
        return
    with raw.datastore.transaction(commit=True) as c:
        for token_id, action, at in missing:
            append_to_ledger(c, raw.sql, macs, token_id, action, at)


def _head_token_ledger(raw: Raw, macs: Macs) -> None:
    """The ledger's head, from its last entry, for a store from before the heads.  Once a
    subject of the access log has its head the store was upgraded, and a ledger without one
    lost it behind the service: refused, not made again over entries deleted at its end."""
    if raw.rows(f"SELECT 1 FROM {raw.t('token_ledger_head')}"):
        return
    ((last,),) = raw.rows(f"SELECT COALESCE(MAX(entry_id), 0) FROM {raw.t('token_ledger')}")
    if not last:
        return
    if raw.rows(f"SELECT 1 FROM {raw.t('access_log_heads')} LIMIT 1"):
        raise UnsealableStoreError(
            "the token ledger has entries but no head in a store already given heads: it was "
            "deleted behind the service (check the store with `caserecord verify --all`)"
        )
    with raw.datastore.transaction(commit=True) as c:
        c.execute(
            raw.sql("INSERT INTO {t}token_ledger_head (id, last_entry, mac) VALUES (1, ?, ?)"),
            (int(last), macs.ledger_head(int(last))),
        )


def _head_access_log(raw: Raw, macs: Macs) -> None:
    """Each subject's head, from its numbered rows, for a store from before the heads (none
    has one).  In a store given heads, a subject with numbered rows and no head lost it behind
    the service: refused, not made again over its newest entries deleted."""
    last = {
        (str(agency), str(key)): int(top)
        for agency, key, top in raw.rows(
            f"SELECT agency_id, COALESCE(client_id, case_id), MAX(seq) "
            f"FROM {raw.t('access_log_subjects')} WHERE seq IS NOT NULL GROUP BY 1, 2"
        )
    }
    heads = {
        (str(agency), str(key))
        for agency, key in raw.rows(
            f"SELECT agency_id, subject_key FROM {raw.t('access_log_heads')}"
        )
    }
    if heads:
        lacking = sorted(set(last) - heads)
        if lacking:
            raise UnsealableStoreError(
                f"the access log of {lacking[0][0]}/{lacking[0][1]} has entries but no head "
                "in a store already given heads: it was deleted behind the service (check "
                "the store with `caserecord verify --all`)"
            )
        return
    if last:
        with raw.datastore.transaction(commit=True) as c:
            c.executemany(
                raw.sql(
                    "INSERT INTO {t}access_log_heads (agency_id, subject_key, last_seq, mac) "
                    "VALUES (?,?,?,?)"
                ),
                [(*key, n, macs.access_head(*key, n)) for key, n in last.items()],
            )


def _number_access_log(raw: Raw, macs: Macs) -> None:
    """Number the subject rows of a store from before the numbers (1, 2, 3, ... per client,
    or per case naming no client, in entry order) and MAC their entries with the numbers.
    An entry sealed before must hold its earlier MAC first: one edited or made up is refused,
    not numbered into a client's log.  One transaction: a writer reads a subject's last
    number from its rows."""
    subjects = raw.t("access_log_subjects")
    if not raw.rows(f"SELECT 1 FROM {subjects} WHERE seq IS NULL LIMIT 1"):
        return
    mark = "%s" if raw.postgres else "?"
    same = "IS NOT DISTINCT FROM" if raw.postgres else "IS"
    rows_of: dict[int, list[tuple[Any, ...]]] = {}
    for entry, *subject in raw.rows(
        f"SELECT entry_id, agency_id, client_id, case_id, seq FROM {subjects} "
        "ORDER BY entry_id, client_id, case_id"
    ):
        rows_of.setdefault(int(entry), []).append(tuple(subject))
    last: dict[tuple[str, str], int] = {}
    for rows in rows_of.values():
        for row in rows:
            if row[3] is not None:
                last[subject_key(row)] = max(last.get(subject_key(row), 0), int(row[3]))
    numbered, macs_of = [], []
    columns = ", ".join([*ACCESS_COLUMNS, "mac"])
    for row in raw.keyset(raw.t("access_log"), columns, ("entry_id",)):
        entry_id = int(row[0])
        rows = rows_of.get(entry_id, [])
        if all(r[3] is not None for r in rows):
            continue
        if row[-1] is not None and not Macs.same(macs.access_entry(row[:-1], rows), row[-1]):
            raise UnsealableStoreError(
                f"access-log entry {entry_id} fails its MAC: its subjects are not numbered "
                "(check the store with `caserecord verify --all`)"
            )
        now = []
        for agency, client, case, number in rows:
            if number is None:
                key = subject_key((agency, client, case))
                last[key] = number = last.get(key, 0) + 1
                numbered.append((number, entry_id, agency, client, case))
            now.append((agency, client, case, number))
        macs_of.append((macs.access_entry(row[:-1], now), entry_id))
    with raw.datastore.transaction(commit=True) as c:
        c.executemany(
            f"UPDATE {subjects} SET seq={mark} WHERE entry_id={mark} AND agency_id={mark} "
            f"AND client_id {same} {mark} AND case_id {same} {mark} AND seq IS NULL",
            numbered,
        )
        c.executemany(f"UPDATE {raw.t('access_log')} SET mac={mark} WHERE entry_id={mark}", macs_of)


def _seal_access_log(raw: Raw, macs: Macs) -> None:
    mark = "%s" if raw.postgres else "?"
    rows = list(
        raw.keyset(raw.t("access_log"), ", ".join(ACCESS_COLUMNS), ("entry_id",), "mac IS NULL")
    )
    if not rows:
        return
    subjects: dict[int, list[tuple[Any, ...]]] = {}
    for entry, *subject in raw.rows(
        f"SELECT entry_id, agency_id, client_id, case_id, seq FROM {raw.t('access_log_subjects')}"
    ):
        subjects.setdefault(int(entry), []).append(tuple(subject))
    updates = [(macs.access_entry(row, subjects.get(int(row[0]), [])), row[0]) for row in rows]
    with raw.datastore.transaction(commit=True) as c:
        c.executemany(f"UPDATE {raw.t('access_log')} SET mac={mark} WHERE entry_id={mark}", updates)


def _seal_snapshots(raw: Raw, macs: Macs) -> None:
    if raw.snapshots is None:
        return
    mark = "%s" if raw.postgres else "?"
    have = {
        (str(s), int(v))
        for s, v in raw.rows(
            f"SELECT originator_id, originator_version FROM {raw.t(SNAPSHOT_MACS)}"
        )
    }
    id_column = "originator_id::text" if raw.postgres else "originator_id"
    rows = []
    for stored_id, version, topic, state in raw.keyset(
        raw.snapshots,
        f"{id_column}, originator_version, topic, state",
        ("originator_id", "originator_version"),
    ):
        key = _key_of(stored_id)
        if (key, int(version)) not in have:
            rows.append((key, int(version), macs.snapshot(key, int(version), topic, bytes(state))))
    if rows:
        with raw.datastore.transaction(commit=True) as c:
            c.executemany(f"INSERT INTO {raw.t(SNAPSHOT_MACS)} VALUES ({mark},{mark},{mark})", rows)
