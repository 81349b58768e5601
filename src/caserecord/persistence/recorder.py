"""What caserecord's application recorders add to the library's, as one typed interface.

The library types ``Application.recorder`` as its ``ApplicationRecorder``; the SQLite and
PostgreSQL recorders configured for caserecord (``ChainedSQLiteApplicationRecorder``,
``ChainedPostgresApplicationRecorder``, chosen in ``config.py``) add the queries below.
:func:`case_recorder` gives code that holds an application's recorder a handle typed with
them, so a call to a method neither recorder has fails type checking.
"""

from collections.abc import Sequence
from typing import Any, Protocol, cast
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from caserecord.persistence.chain import Link
from caserecord.persistence.entries import Row
from caserecord.persistence.feed import FeedRows
from caserecord.persistence.idempotency import IdempotencyRecord
from caserecord.persistence.quarantine import Quarantined
from caserecord.persistence.sealing import TreeHead


class CaseRecorder(Protocol):
    @property
    def datastore(self) -> SQLiteDatastore | PostgresDatastore:
        """The connection pool the events live in; plain tables share it."""

    def select_versions(self, originator_id: UUID, versions: Sequence[int]) -> list[StoredEvent]:
        """Chosen events of one stream in one query, in version order."""

    def agency_notifications(self, agency_id: str, *, after: int, limit: int) -> FeedRows:
        """The head of the log, the agency's feed row at or before ``after``, and up to
        ``limit`` of the agency's events after ``after`` and not past that head, each with
        its number in the agency's feed (the event feed)."""

    def probe_feed_index(self) -> None:
        """Fails if the event feed's index table does not exist."""

    def feed_index_counts(self) -> tuple[int, int]:
        """(events logged, events indexed): equal when the feed's index is complete."""

    def add_to_feed_index(self, rows: Sequence[tuple[str, int]]) -> None:
        """Index (agency, position) rows logged before the index existed, unnumbered and
        without MACs (``db init``'s sealing gives them)."""

    def unnumbered_feed_rows(self) -> int:
        """Feed-index rows not yet numbered in their agency's feed (0 once `db init` ran)."""

    def tree_head(self) -> TreeHead:
        """The Merkle tree's head as stored."""

    def tree_positions(self, originator_id: UUID | str) -> dict[int, tuple[int, int]]:
        """Each event of a stream's (log position, leaf index in the tree), by version."""

    def tree_node(self, level: int, index: int) -> bytes:
        """A stored node of the Merkle tree (level 0: the leaves)."""

    def chain_links(self, originator_id: UUID | str) -> dict[int, Link]:
        """One stream's hash chain links, by version."""

    def link_macs(self, originator_id: UUID | str) -> dict[int, tuple[int, str | None]]:
        """Each stored event of a stream that has a link: (its log position, its link's
        MAC), by version."""

    def chain_head(self, originator_id: UUID | str) -> int:
        """The latest version one stream's hash chain links (0 for none)."""

    def chain_heads(self) -> dict[str, tuple[int, str]]:
        """The latest link of every stream: (version, hash) by stream key."""

    def quarantined(
        self, *, agency_id: str | None = None, stream_id: str | None = None
    ) -> list[Quarantined]:
        """The streams views stopped applying (of one agency, or one stream), in log order
        (``persistence/quarantine.py``)."""

    def find_idempotency(self, agency_id: str, key: str) -> IdempotencyRecord | None:
        """The stored result of the command sent with this idempotency key, if any; a row
        that fails its MAC raises ``TamperedIdempotencyError``."""

    def unsealed_idempotency_rows(self) -> bool:
        """Whether idempotency rows without a MAC or a number are stored, or rows and no
        agency's head (a store written before them, until `db init` seals and numbers them);
        fails if the table lacks the columns or the heads."""

    def client_identities(
        self, agency_id: str, *, client_number: str = "", person: tuple[str, str, str] | None = None
    ) -> list[str]:
        """Ids of the agency's clients with this number, or this (given, family, birth date)
        person key: the duplicate checks at registration."""

    def count_client_identities(self) -> int:
        """Clients in the identity table (0 on a store upgraded before it existed)."""

    def add_client_identities(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Identity rows of clients registered before the table existed."""

    def entries_newest(
        self, stream_id: UUID, kind: str, entity_id: str | None, below: int, limit: int
    ) -> list[tuple[int, str, str]]:
        """(version, kind, entity id), newest first, of a case's indexed entries recorded
        before version ``below``."""

    def entries_of(
        self, stream_id: UUID, kind: str, entity_ids: Sequence[str], upto: int
    ) -> list[tuple[int, str]]:
        """(version, entity id) of the entries of the kind on the given entities, up to
        version ``upto``."""

    def entries_at(self, stream_id: UUID, versions: Sequence[int]) -> list[tuple[int, str, str]]:
        """(version, kind, entity id) of the entries at the given versions."""

    def entry_counts(self, topics: Sequence[str]) -> tuple[int, int]:
        """(events of the given topics logged, entries indexed)."""

    def probe_entries(self) -> None:
        """Fails if the entry index table (or its links table) does not exist."""

    def links_newest(
        self, stream_id: UUID, kind: str, entity_id: str, upto: int, limit: int
    ) -> list[int]:
        """Versions of the notes concerning the goal or referral, newest first."""

    def links_upto(self, stream_id: UUID, upto: int) -> list[tuple[int, str, str]]:
        """(version, kind, entity id) of every link row of a case up to version ``upto``."""

    def add_entries(self, rows: Sequence[Row]) -> None:
        """Index entries logged before the index existed."""


def case_recorder(recorder: ApplicationRecorder) -> CaseRecorder:
    """``recorder`` typed as caserecord's.  No check at run time: the recorder is chosen
    by configuration, and tests assert that both configured classes satisfy the protocol."""
    return cast(CaseRecorder, recorder)


class HasStore(Protocol):
    """What owns a caserecord recorder (``CaseRecords``): the library closes the recorder's
    datastore when its application is freed, so code that keeps using the datastore keeps
    the owner, not just the datastore."""

    @property
    def store(self) -> CaseRecorder: ...
