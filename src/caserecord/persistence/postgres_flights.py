"""A small save on PostgreSQL in two round trips, every integrity row in its transaction.

The recorder's plain save sends each statement and waits for its answer while holding the
events table's lock: the lock, NOTIFY, the events, the tree's head, the previous link,
then a statement per table beside the events, and the commit.  Writers queue behind that
lock, so each round trip under it is paid by every writer waiting.  Here, in psycopg's
pipeline mode:

1. BEGIN, the lock, NOTIFY, the events (answering with their positions) and one SELECT of
   the tree's head, the streams' previous links, the agencies' last feed numbers and their
   idempotency heads, sent
   together;
2. the rows written beside the events (feed index, chain links with their MACs, tree nodes
   and head, entry index, idempotency keys numbered and their agencies' heads, read in the
   first flight's SELECT too: :meth:`_write_beside`, the same code as the
   plain save) as one statement of data-modifying CTEs, and COMMIT, sent together.

The MACs need the positions the log gives the events and the key that never enters the
database, so the rows cannot be computed before the first answer: two round trips is the
least.  Large saves keep the plain path: in pipeline mode psycopg sends queued statements
and then only reads, so a statement larger than the socket buffers would never be sent in
full (see ``ChainedPostgresApplicationRecorder.insert_events``)."""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Connection
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composable

from caserecord.persistence.chain import GENESIS, stream_key
from caserecord.persistence.feed import agencies
from caserecord.persistence.idempotency import Head, idempotency_records
from caserecord.persistence.merkle import unpack
from caserecord.persistence.sealing import NoIntegrityKeyError, TreeHead

if TYPE_CHECKING:
    from caserecord.persistence.postgres import ChainedPostgresApplicationRecorder

BEGIN = SQL("BEGIN")
COMMIT = SQL("COMMIT")
MOST_EVENTS = 16
MOST_BYTES = 32 * 1024
"""The largest save sent in two flights: far below the socket buffers of a connection."""


class Executes(Protocol):
    def execute(self, query: Any, params: Any = None) -> Any: ...


class Batch:
    """Collects the statements :meth:`_write_beside` executes, to send them as one."""

    def __init__(self) -> None:
        self.statements: list[tuple[Any, Sequence[Any]]] = []

    def execute(self, query: Any, params: Any = None) -> None:
        self.statements.append((query, list(params or ())))

    def send(self, conn: Connection[DictRow], curs: Executes) -> None:
        """One statement when every one is an INSERT (data-modifying CTEs see the same
        snapshot, so only statements that do not read each other's rows may share one);
        otherwise each in turn, still in the same flight."""
        texts = [_text(conn, query) for query, _ in self.statements]
        if not all(t.lstrip().upper().startswith("INSERT") for t in texts):
            for query, params in self.statements:
                curs.execute(query, params)
            return
        ctes = ", ".join(f"w{n} AS ({t})" for n, t in enumerate(texts))
        params = [p for _, ps in self.statements for p in ps]
        curs.execute(f"WITH {ctes} SELECT 1".encode(), params)


def _text(conn: Connection[DictRow], query: Any) -> str:
    if isinstance(query, Composable):
        return query.as_string(conn)
    return query.decode() if isinstance(query, bytes) else str(query)


def fits_two_flights(stored_events: Sequence[StoredEvent]) -> bool:
    return (
        len(stored_events) <= MOST_EVENTS and sum(len(s.state) for s in stored_events) <= MOST_BYTES
    )


def insert_in_two_flights(
    recorder: "ChainedPostgresApplicationRecorder",
    stored_events: Sequence[StoredEvent],
    **kwargs: Any,
) -> Sequence[int]:
    """Save ``stored_events`` and everything beside them in one transaction and two round
    trips; any error, in the database or in Python, rolls all of it back."""
    agency_ids = sorted(
        set(agencies(stored_events))
    )  # refused before the lock, like the plain save
    if recorder.macs is None:
        raise NoIntegrityKeyError("the recorder holds no integrity key: nothing was written")
    wanted = previous_links(stored_events)
    keyed = sorted({r.agency_id for r in idempotency_records(kwargs)})
    with recorder.datastore.get_connection() as conn:
        # BEGIN and COMMIT as statements: psycopg's transaction blocks sync the pipeline
        # on entering and leaving, a round trip each.
        try:
            with conn.pipeline() as pipeline, conn.cursor() as curs, conn.cursor() as ahead:
                curs.execute(BEGIN)
                recorder._insert_stored_events(curs, stored_events, **kwargs)
                ahead.execute(
                    SQL(
                        "SELECT h.size, h.root, h.frontier, h.mac, ARRAY("
                        "SELECT c.originator_id || ' ' || c.originator_version || ' ' || "
                        "c.hash FROM {} c JOIN unnest(%s::text[], %s::bigint[]) AS w(id, v) "
                        "ON c.originator_id = w.id AND c.originator_version = w.v) AS links, "
                        "ARRAY(SELECT COALESCE(({}), 0) FROM unnest(%s::text[]) "
                        "WITH ORDINALITY AS w(a, n) ORDER BY w.n) AS feed, "
                        "ARRAY(SELECT {} FROM unnest(%s::text[]) WITH ORDINALITY AS w(a, n) "
                        "ORDER BY w.n) AS keyed, "
                        "ARRAY(SELECT {} FROM unnest(%s::text[]) WITH ORDINALITY AS w(a, n) "
                        "ORDER BY w.n) AS keyed_macs "
                        "FROM (SELECT 1) AS one LEFT JOIN {} h ON h.id = 1"
                    ).format(
                        recorder.chain_table,
                        recorder.feed_last_query,
                        recorder.idempotency_head_number,
                        recorder.idempotency_head_mac,
                        recorder.tree_head_table,
                    ),
                    ([k for k, _ in wanted], [v for _, v in wanted], agency_ids, keyed, keyed),
                )
                pipeline.sync()  # the first flight; a version already taken fails here
                ids = PostgresApplicationRecorder._fetch_ids_after_insert_events(
                    recorder, curs, stored_events, **kwargs
                )
                assert ids is not None
                batch = Batch()

                def idempotency_last(agency: str) -> int:
                    # Only for a head missing or not authentic: a round trip of its own.
                    ahead.execute(
                        SQL(
                            "SELECT COALESCE(MAX(seq), 0) AS n FROM {} WHERE agency_id = %s"
                        ).format(recorder.idempotency_table),
                        (agency,),
                    )
                    pipeline.sync()
                    found = ahead.fetchone()
                    assert found is not None
                    return int(found["n"])

                recorder._write_beside(
                    batch,
                    stored_events,
                    ids,
                    *_chain_and_head(ahead.fetchone(), agency_ids, keyed),
                    idempotency_last,
                    **kwargs,
                )
                batch.send(conn, curs)
                curs.execute(COMMIT)
                # leaving the pipeline sends the second flight and reads its answers
        except BaseException:
            if conn.info.transaction_status != TransactionStatus.IDLE:
                conn.rollback()
            raise
    return ids


def _chain_and_head(
    row: DictRow | None, agency_ids: Sequence[str], keyed: Sequence[str]
) -> tuple[Callable[[str, int], str], TreeHead, dict[str, int], dict[str, Head]]:
    """What the first flight's SELECT read: the previous links, the tree's head, the last
    feed number of each of ``agency_ids`` and the idempotency head of each of ``keyed``."""
    assert row is not None
    feed_last = dict(zip(agency_ids, (int(n) for n in row["feed"]), strict=True))
    heads = {
        agency: (int(number), mac)
        for agency, number, mac in zip(keyed, row["keyed"], row["keyed_macs"], strict=True)
    }
    links = {(k, int(v)): h for k, v, h in (s.split(" ") for s in row["links"])}
    head = TreeHead()
    if row["size"] is not None:
        frontier = unpack(row["frontier"])
        head = TreeHead(int(row["size"]), bytes(row["root"]), frontier, row["mac"])
    return (lambda stream, version: _prev_hash(links, stream, version)), head, feed_last, heads


def previous_links(stored_events: Sequence[StoredEvent]) -> list[tuple[str, int]]:
    """(stream, version) of the link before each stream's first event in the save."""
    first: dict[str, int] = {}
    for s in stored_events:
        key = stream_key(s.originator_id)
        first[key] = min(first.get(key, s.originator_version), s.originator_version)
    return [(k, v - 1) for k, v in first.items() if v > 1]


def _prev_hash(links: dict[tuple[str, int], str], stream_id: str, version: int) -> str:
    if version == 1:
        return GENESIS
    return links.get((stream_id, version - 1), "missing")
