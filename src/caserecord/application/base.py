"""What every part of the service shares: the application's wiring (repository, snapshots,
transcodings), the typed store, reading events by version, and loading a record the actor
may see."""

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    Repository,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import AggregateRecorder, EventStore, JSONTranscoder
from eventsourcing.postgres import PostgresFactory
from eventsourcing.sqlite import SQLiteFactory
from eventsourcing.utils import strtobool

from caserecord.application.replay import CaseRepository, project
from caserecord.config import ConfigError
from caserecord.domain.base import RecordAggregate
from caserecord.domain.case import Case
from caserecord.domain.client import Client
from caserecord.domain.errors import (
    CaseNotFoundError,
    ClientNotFoundError,
    InvalidValueError,
    NoteNotFoundError,
    NotFoundError,
)
from caserecord.domain.recording import Actor
from caserecord.entries import Entries
from caserecord.persistence.chain import (
    EntryIndexError,
    MissingEventsError,
    UnreadableEventError,
)
from caserecord.persistence.entries import entry_of
from caserecord.persistence.idempotency import IdempotencyRecord
from caserecord.persistence.mac import Macs
from caserecord.persistence.postgres import SealedPostgresSnapshotRecorder
from caserecord.persistence.quarantine import RecordQuarantinedError
from caserecord.persistence.recorder import CaseRecorder, case_recorder
from caserecord.persistence.sqlite import SealedSQLiteSnapshotRecorder
from caserecord.presenters import note_to_dict
from caserecord.transcodings import all_transcodings

if TYPE_CHECKING:
    from caserecord.application.need_to_know import Reading

A = TypeVar("A", bound=Aggregate)
_ONE_READ = threading.local()
READ_CHUNK = 500  # versions per query: SQLite caps the parameters of one statement
OWNERS_KEPT = 100_000  # streams whose agency is remembered (a stream id and a short text each)


@contextmanager
def one_read() -> Iterator[None]:
    """Within it, this thread loads each record as it stands once: a read of a case asks
    for the case and its client from several checks (need to know, consent, the access
    log's basis), and each load from the process cache is a query for newer events and a
    deep copy. The records seen are those of the first load, so the checks of one read
    agree about them. Only for reads: a command's own changes would not be seen."""
    if getattr(_ONE_READ, "held", None) is not None:  # already within one
        yield
        return
    _ONE_READ.held = {}
    try:
        yield
    finally:
        _ONE_READ.held = None


@contextmanager
def outside_one_read() -> Iterator[None]:
    """A command run within a read would otherwise change the record every check of the
    read shares, and retry a lost race on the same stale copy: it loads its own."""
    held = getattr(_ONE_READ, "held", None)
    _ONE_READ.held = None
    try:
        yield
    finally:
        _ONE_READ.held = held


class Options(TypedDict):
    """What every command accepts besides its own values."""

    effective_at: NotRequired[datetime | None]
    reason: NotRequired[str]
    correlation_id: NotRequired[str | None]
    expected_version: NotRequired[int | None]
    idempotency: NotRequired[tuple[str, str] | None]


@dataclass(frozen=True)
class Owner:
    """What a stream's first event says for good: its kind, its agency, when it opened."""

    kind: type
    agency_id: str
    opened_at: datetime
    client_id: UUID | None  # the client a case is for; None for a client's own stream


@dataclass(frozen=True)
class CommandResult:
    id: UUID
    version: int
    position: int
    entity_id: str | None = None


def new_id() -> str:
    return str(uuid4())


def new_version(aggregate: RecordAggregate) -> str:
    """The id of an entry the case (or client) knows by the version that recorded it."""
    return str(aggregate.version)


class RecordsBase(Application[UUID]):
    """The shared state and helpers of CaseRecords; each of its jobs is a mixin of this."""

    snapshotting_intervals = {Case: 100, Client: 100}

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self._owners: dict[UUID, Owner] = {}  # see _check_owner
        # The key stays in this process: the recorders MAC what they write and check what
        # decides a read (snapshots, the feed index) with it.  Without it they refuse to
        # write or to serve those rows, and ``open_records`` refuses to open the store.
        key = self.env.get("INTEGRITY_KEY")
        self.key_problem = self.env.get("INTEGRITY_KEY_PROBLEM") or "no integrity key"
        self.macs: Macs | None = Macs(bytes.fromhex(key)) if key else None
        for recorder in (self.recorder, self.snapshots and self.snapshots.recorder):
            if recorder is not None and hasattr(recorder, "macs"):
                recorder.macs = self.macs

    @property
    def integrity_macs(self) -> Macs:
        """The MACs under the integrity key (a ConfigError without one)."""
        if self.macs is None:
            raise ConfigError(self.key_problem)
        return self.macs

    def construct_snapshot_store(self) -> EventStore[UUID]:
        """The library's snapshot store over a recorder that MACs each snapshot."""
        factory = self.factory
        recorder: AggregateRecorder
        if isinstance(factory, SQLiteFactory):
            recorder = SealedSQLiteSnapshotRecorder(
                datastore=factory.datastore, events_table_name="stored_snapshots"
            )
        elif isinstance(factory, PostgresFactory):
            recorder = SealedPostgresSnapshotRecorder(
                factory.datastore,
                events_table_name=(factory.env.name.lower() or "stored") + "_snapshots",
            )
        else:  # the in-memory store of the library's own tests
            return super().construct_snapshot_store()
        if factory.env_create_table():
            recorder.create_table()
        return factory.event_store(mapper=self.mapper, recorder=recorder)

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """The library replays the record to the version it snapshots, from the previous
        snapshot; the saved aggregate is that state already, so a snapshot of it is taken
        as it stands (decoding the previous snapshot cost more than taking the new one)."""
        assert self.snapshots is not None
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            interval = self.snapshotting_intervals.get(type(aggregate))  # type: ignore[arg-type]
            if aggregate is None or interval is None or event.originator_version % interval:
                continue
            if aggregate.version == event.originator_version:
                snapshot_class: Any = getattr(
                    type(aggregate), "Snapshot", type(self).snapshot_class
                )
                self.snapshots.put([snapshot_class.take(aggregate)])
            else:
                self.take_snapshot(event.originator_id, event.originator_version, project)

    def construct_repository(self) -> Repository[UUID]:
        # The library's repository and settings (as Application.construct_repository reads
        # them), with a faster projector by default.
        maxsize = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return CaseRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=int(maxsize) if maxsize else None,
            fastforward=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")),
            fastforward_skipping=strtobool(
                self.env.get(self.AGGREGATE_CACHE_FASTFORWARD_SKIPPING, "n")
            ),
            deepcopy_from_cache=strtobool(self.env.get(self.DEEPCOPY_FROM_AGGREGATE_CACHE, "y")),
        )

    @property
    def store(self) -> CaseRecorder:
        """The recorder, typed with the queries caserecord's recorders add."""
        return case_recorder(self.recorder)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in all_transcodings():
            transcoder.register(transcoding)

    def entries(self, case: Case) -> Entries:
        """The case state's notes, addenda and progress in the record's entry index."""
        return Entries.of(self.store, case)

    def events_at(
        self, stream_id: UUID, versions: list[int], index: Entries | None = None
    ) -> dict[int, Any]:
        """Events of one stream at the given versions, by version, in few queries.  The
        case's indexes name each of them, so one that is missing is a damaged store
        (:class:`MissingEventsError`), not a page with a hole in it; ``index``: the entry
        index that named them, whose rows each event must match (:class:`EntryIndexError`)."""
        found = {e.originator_version: e for e in self._read_versions(stream_id, versions)}
        missing = set(versions).difference(found)
        if missing:
            raise MissingEventsError(stream_id, sorted(missing))
        if index is not None:
            for version in versions:
                named = index.indexed.get(version)
                stored = entry_of(found[version])
                if named is not None and stored != named:
                    what = type(found[version]).__name__ if stored is None else stored
                    raise EntryIndexError(stream_id, version, named, what)
        return found

    def notes_of(
        self, case: Case, note_ids: list[str], reading: "Reading | None" = None
    ) -> list[dict[str, Any]]:
        """The given notes of the case (in that order) as they stand in this state, each
        with its addenda still standing, read from the log in one go
        (:class:`NoteNotFoundError` for an id the state does not hold); with the
        ``reading`` of a reader, each is shown as its need to know allows."""
        entries = self.entries(case)
        notes = entries.notes(note_ids)
        unknown = [i for i in note_ids if i not in notes]
        if unknown:
            raise NoteNotFoundError(f"no note {unknown[0]} on this case")
        addenda = entries.addenda(note_ids)
        wanted = [notes[i] for i in note_ids] + [a for v in addenda.values() for a in v]
        events = self.events_at(case.id, wanted, entries)
        found = [
            note_to_dict(
                events[notes[i]], [events[a] for a in addenda[i]], case.labels_of(notes[i])
            )
            for i in note_ids
        ]
        if reading is None:
            return found
        return [
            reading.shown(n, str(events[notes[i]].actor_id))
            for n, i in zip(found, note_ids, strict=True)
        ]

    def _read_versions(self, stream_id: UUID, versions: list[int]) -> list[Any]:
        found: list[Any] = []
        for start in range(0, len(versions), READ_CHUNK):
            chunk = sorted(versions[start : start + READ_CHUNK])
            stored = self.store.select_versions(stream_id, chunk)
            found += [self._decoded(s) for s in stored]
        return found

    def _decoded(self, stored: Any) -> Any:
        try:
            return self.mapper.to_domain_event(stored)
        except Exception as error:  # whatever a damaged row makes the decoder raise
            raise UnreadableEventError(
                stored.originator_id, stored.originator_version, type(error).__name__
            ) from error

    def client_of_case(self, actor: Actor, case_id: UUID) -> UUID:
        """The client a case is for, from its first event alone (cheap for a long case);
        another agency's case is not found."""
        missing = CaseNotFoundError(f"no case {case_id}")
        client_id = self._check_owner(actor, Case.Opened, case_id, missing).client_id
        assert client_id is not None  # every Case.Opened names its client
        return client_id

    def refuse_quarantined(self, stream_id: UUID, version: int | None = None) -> None:
        """:class:`RecordQuarantinedError` if a view stopped applying the stream at or
        before ``version`` (at any version when not given)."""
        for found in self.store.quarantined(stream_id=str(stream_id)):
            if version is None or found.version <= version:
                raise RecordQuarantinedError(found)

    def find_idempotent_result(self, actor: Actor, key: str) -> IdempotencyRecord | None:
        found: IdempotencyRecord | None = self.store.find_idempotency(actor.agency_id, key)
        return found

    # ---- internals -----------------------------------------------------------------
    def _events(self, stream_id: UUID, gt: int | None = None) -> list[RecordAggregate.Event]:
        return [
            e for e in self.events.get(stream_id, gt=gt) if isinstance(e, RecordAggregate.Event)
        ]

    def _get(self, kind: type[A], aggregate_id: UUID, version: int | None) -> A | None:
        held: dict[tuple[int, UUID], Aggregate] | None = getattr(_ONE_READ, "held", None)
        key = (id(self), aggregate_id)
        aggregate: Aggregate | None = None
        if held is not None and version is None:
            aggregate = held.get(key)
        if aggregate is None:
            try:
                aggregate = self.repository.get(aggregate_id, version=version)
            except AggregateNotFoundError:
                return None
            if held is not None and version is None:
                held[key] = aggregate
        return aggregate if isinstance(aggregate, kind) else None

    def _case(self, actor: Actor, case_id: UUID, version: int | None = None) -> Case:
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise InvalidValueError(f"a case version is a whole number (got {version!r})")
        self._check_owner(actor, Case.Opened, case_id, CaseNotFoundError(f"no case {case_id}"))
        case = self._get(Case, case_id, version)
        if case is None or case.agency_id != actor.agency_id:
            raise CaseNotFoundError(f"no case {case_id}")
        # The library answers a version past the end with the latest one; say so instead.
        if version is not None and case.version != version:
            raise CaseNotFoundError(f"case {case_id} has no version {version}")
        return case

    def _client(self, actor: Actor, client_id: UUID) -> Client:
        missing = ClientNotFoundError(f"no client {client_id}")
        self._check_owner(actor, Client.Registered, client_id, missing)
        client = self._get(Client, client_id, None)
        if client is None or client.agency_id != actor.agency_id:
            raise ClientNotFoundError(f"no client {client_id}")
        return client

    def _check_owner(
        self,
        actor: Actor,
        first: type[RecordAggregate.Event],
        stream_id: UUID,
        missing: NotFoundError,
    ) -> "Owner":
        """Refuse another agency's record before loading it: from the stream's first event
        alone, so its size makes no difference, and another agency's id costs one small
        read, as an unknown id does.  A stream's first event never changes, so an owner
        found once is remembered and the owner's own reads pay nothing more; a remembered
        owner that is not the caller is read again, to cost what an unknown id costs."""
        owners = self._owners
        known = owners.get(stream_id)
        if known is None or (known.kind, known.agency_id) != (first, actor.agency_id):
            opened = self._first_event(stream_id)
            if not isinstance(opened, first):
                raise missing
            agency_id = str(getattr(opened, "agency_id", ""))
            known = Owner(first, agency_id, opened.effective_at, getattr(opened, "client_id", None))
            if len(owners) >= OWNERS_KEPT:
                owners.clear()
            owners[stream_id] = known
        if (known.kind, known.agency_id) != (first, actor.agency_id):
            raise missing
        return known

    def _first_event(self, stream_id: UUID) -> Any:
        stored = list(self.recorder.select_events(stream_id, lte=1))
        return self._decoded(stored[0]) if stored else None
