"""What the recorders write beside a transaction's events so that a database insider without
the integrity key cannot add, move or rewrite anything unnoticed: each event's chain link
with its MAC, each event's feed-index row with its MAC, and the events as leaves of the
global Merkle tree, whose new head carries a MAC too.  Both stores' recorders call
:func:`seal` with the positions the log gave the events, inside the events' transaction."""

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from eventsourcing.persistence import Notification, StoredEvent

from caserecord.persistence.chain import Record, chain, stream_key
from caserecord.persistence.feed import FeedRows, numbered
from caserecord.persistence.mac import Macs
from caserecord.persistence.merkle import (
    EMPTY_ROOT,
    Appended,
    append,
    leaf_data,
    leaf_hash,
)

log = logging.getLogger("caserecord.integrity")

TREE_NODES = "merkle_nodes"
TREE_HEAD = "merkle_head"
SNAPSHOT_MACS = "snapshot_macs"
# The columns a leaf's row adds to name its event (NULL on the other nodes), and their index.
LEAF_COLUMNS = (
    ("position", "BIGINT"),
    ("stream_id", "TEXT"),
    ("version", "BIGINT"),
    ("link", "TEXT"),
)
LEAF_INDEX = "merkle_leaf_stream"


class NoIntegrityKeyError(Exception):
    """A recorder was asked to write without the integrity key: nothing is written."""


@dataclass(frozen=True)
class TreeHead:
    size: int = 0
    root: bytes = EMPTY_ROOT
    frontier: list[bytes] = field(default_factory=list)
    mac: str | None = None


# (level, index, hash, position, stream, version, link): a leaf names the event it stands
# for, so a cut found by the tree is named by stream and version; other nodes name none.
TreeRow = tuple[int, int, bytes, int | None, str | None, int | None, str | None]
Leaf = tuple[int, str, int, str]  # position, stream, version, link hash


def tree_rows(tree: Appended, leaves: Sequence[Leaf]) -> list[TreeRow]:
    rows: list[TreeRow] = []
    named = iter(leaves)
    for level, index, digest in tree.nodes:
        if level == 0:
            position, stream, version, link = next(named)
            rows.append((0, index, digest, position, stream, version, link))
        else:
            rows.append((level, index, digest, None, None, None, None))
    return rows


@dataclass(frozen=True)
class Sealed:
    chain: list[tuple[str, int, str, str, str, int]]  # stream, version, prev, hash, mac, leaf
    feed: list[tuple[str, int, str, int]]  # agency, position, mac, number in the agency's feed
    tree: Appended
    head_mac: str
    leaves: list[Leaf] = field(default_factory=list)
    feed_last: dict[str, int] = field(default_factory=dict)  # agency -> its last number now

    @property
    def tree_rows(self) -> list[TreeRow]:
        """The rows of ``merkle_nodes`` to insert: the new nodes, each leaf naming its event."""
        return tree_rows(self.tree, self.leaves)


def seal(
    macs: Macs | None,
    stored_events: Sequence[StoredEvent],
    positions: Sequence[int],
    agency_ids: Sequence[str],
    prev_hash: Callable[[str, int], str],
    head: TreeHead,
    feed_last: Mapping[str, int],
) -> Sealed:
    """The chain links, feed rows and tree nodes of events just given ``positions``;
    ``feed_last``: each agency's last number in its feed (read under the write lock)."""
    if macs is None:
        raise NoIntegrityKeyError("the recorder holds no integrity key: nothing was written")
    links: dict[tuple[str, int], tuple[str, str]] = {}
    streams: dict[str, list[Record]] = {}
    for s in stored_events:
        key = stream_key(s.originator_id)
        streams.setdefault(key, []).append(
            Record(key, s.originator_version, s.topic, bytes(s.state))
        )
    for key, records in streams.items():
        for record, link in chain(prev_hash(key, records[0].version), records):
            links[(key, record.version)] = (link.prev_hash, link.hash)
    chain_rows = []
    leaves: list[bytes] = []
    named: list[Leaf] = []
    for s, position in zip(stored_events, positions, strict=True):
        key, version = stream_key(s.originator_id), s.originator_version
        prev, digest = links[(key, version)]
        mac = macs.event(key, version, position, digest)
        chain_rows.append((key, version, prev, digest, mac, head.size + len(leaves)))
        leaves.append(leaf_hash(leaf_data(position, key, s.originator_version, digest)))
        named.append((position, key, s.originator_version, digest))
    numbers, last = numbered(agency_ids, feed_last)
    feed = [
        (a, p, macs.feed(a, p, n), n)
        for a, p, n in zip(agency_ids, positions, numbers, strict=True)
    ]
    tree = append(head.size, head.frontier, leaves)
    return Sealed(chain_rows, feed, tree, macs.tree_head(tree.size, tree.root), named, last)


def head_is_authentic(macs: Macs, head: TreeHead) -> bool:
    return (head.size == 0 and head.mac is None) or Macs.same(
        macs.tree_head(head.size, head.root), head.mac
    )


def feed_row_is_authentic(
    macs: Macs | None, agency_id: str, position: int, number: object, mac: object
) -> bool:
    """A feed-index row the service wrote; one moved to another agency, renumbered, or made
    up, is left out of the feed (and named by ``verify --all``)."""
    if macs is None:
        raise NoIntegrityKeyError("the recorder holds no integrity key: the feed is not read")
    if isinstance(number, int) and Macs.same(macs.feed(agency_id, position, number), mac):
        return True
    log.error("feed index row (%s, %s) fails its MAC: left out of the feed", agency_id, position)
    return False


def authentic_feed_rows(
    macs: Macs | None,
    agency_id: str,
    after: int,
    head: int,
    found: Iterable[tuple[Notification, object, object]],
) -> FeedRows:
    """The feed rows a read found (event, number, MAC), the agency's row at or before
    ``after`` first if there is one, split into that row and the page's; rows that fail
    their MAC are left out and their positions kept."""
    before: tuple[int, int] | None = None
    start_known = True
    rows: list[tuple[Notification, int]] = []
    left_out: list[int] = []
    for notification, number, mac in found:
        if not feed_row_is_authentic(macs, agency_id, notification.id, number, mac):
            left_out.append(notification.id)
            start_known = start_known and notification.id > after
            continue
        assert isinstance(number, int)
        if notification.id <= after:
            before = (notification.id, number)
        else:
            rows.append((notification, number))
    return FeedRows(head, before, rows, left_out, start_known)


def snapshot_mac_rows(
    macs: Macs | None, stored_events: Sequence[StoredEvent]
) -> list[tuple[str, int, str]]:
    """(stream, version, mac) of each snapshot written, for the snapshots' MAC table."""
    if macs is None:
        raise NoIntegrityKeyError("the recorder holds no integrity key: nothing was written")
    rows = []
    for s in stored_events:
        key = stream_key(s.originator_id)
        rows.append(
            (
                key,
                s.originator_version,
                macs.snapshot(key, s.originator_version, s.topic, bytes(s.state)),
            )
        )
    return rows


def authentic_snapshots(
    macs: Macs | None, stored: Sequence[StoredEvent], found: dict[int, str]
) -> list[StoredEvent]:
    """The snapshots whose MAC holds; a read goes without the others (it replays the events
    instead), and each one left out is logged."""
    if macs is None:
        raise NoIntegrityKeyError("the recorder holds no integrity key: snapshots are not read")
    kept = []
    for s in stored:
        key = stream_key(s.originator_id)
        expected = macs.snapshot(key, s.originator_version, s.topic, bytes(s.state))
        if Macs.same(expected, found.get(s.originator_version)):
            kept.append(s)
        else:
            log.error(
                "snapshot at version %s of stream %s fails its MAC: replaying the events instead",
                s.originator_version,
                key,
            )
    return kept
