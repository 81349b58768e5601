"""What every projection shares: writes plus tracking in one transaction, and a fold of
the aggregates a view is derived from."""

import json
import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, OriginatorVersionError
from eventsourcing.persistence import PersistenceError, Tracking
from eventsourcing.projection import Projection

from caserecord.domain.base import RecordAggregate
from caserecord.domain.case import Case
from caserecord.domain.entities import E, last_standing
from caserecord.domain.replay import apply_next
from caserecord.persistence import quarantine
from caserecord.persistence.chain import MissingEventsError, UnreadableEventError
from caserecord.persistence.decoding import Unreadable
from caserecord.projections.sql import PositionMovedError, Statement, View, ViewSchema

log = logging.getLogger(__name__)

# What reading a damaged record raises: an event named unreadable by a replay, a value
# missing or of the wrong shape, or an event the fold needs missing from the store (a
# replay meeting a gap).  Anything else (the store went away, say) is not the record's
# fault: the runner stops, starts again and applies the event then.
DAMAGED = (
    UnreadableEventError,
    MissingEventsError,
    OriginatorVersionError,
    AttributeError,
    KeyError,
    TypeError,
    ValueError,
)

# Loads an aggregate as it was at a version, from the event store (snapshots help).
Loader = Callable[[UUID, int], Aggregate | None]
# Reads events of one stream at the given versions, from the event store: the content a
# case keeps only as an index of versions (progress, notes, referrals).
EventReader = Callable[[UUID, list[int]], dict[int, Any]]
# The version of a goal's latest progress standing in a case state, from the record's entry
# index (the case keeps only a count of its progress).
Latest = Callable[[Any, str], int | None]


@lru_cache(maxsize=4096)
def text_id(value: UUID) -> str:
    """An aggregate id as the views store it: a page of events names few streams, and
    formatting a UUID costs more than looking it up."""
    return str(value)


def iso(value: datetime) -> str:
    """A timestamp as UTC text of fixed width, so text order is time order on both stores."""
    if value.tzinfo is UTC:  # as the library records every timestamp: no conversion
        # Without the keyword when it gives the same text: it is cheaper, and runs per row.
        return value.isoformat() if value.microsecond else value.isoformat(timespec="microseconds")
    try:
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    except OverflowError:
        # A moment at the very edge of the calendar (year 1 with a positive offset, say)
        # has no UTC form; it stays at that edge rather than stopping every view.
        edge = datetime.min if value.year == datetime.min.year else datetime.max
        return edge.replace(tzinfo=UTC).isoformat(timespec="microseconds")


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def to_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def envelope(event: RecordAggregate.Event) -> dict[str, Any]:
    fields = vars(event)
    return {
        "actor_id": fields.get("actor_id", ""),
        "actor_role": fields.get("actor_role", ""),
        "actor_agency_id": fields.get("actor_agency_id", ""),
        "effective_at": fields.get("effective_at", event.timestamp),
        "reason": fields.get("reason", ""),
        "correlation_id": fields.get("correlation_id", ""),
    }


class Folder:
    """Keeps the latest state of recently seen aggregates by applying each event in turn.
    Several projections can share one, each asking for every event in turn.

    Views derived from the whole state of a case (which entries are set aside, which
    status an item returned to) then follow the domain's own rules instead of repeating
    them.  After a restart, or when an aggregate fell out of the cache, its state at the
    previous version is loaded from the event store.
    """

    # Bounded by count: a long case's state is large, and a rebuild must not grow with the
    # number of cases; a case evicted and seen again is loaded from its latest snapshot.
    def __init__(
        self,
        loader: Loader | None,
        maxsize: int = 500,
        reader: EventReader | None = None,
        latest: Latest | None = None,
    ) -> None:
        self.loader = loader
        self.reader = reader
        self.latest = latest
        self.maxsize = maxsize
        self.cache: OrderedDict[UUID, Aggregate] = OrderedDict()

    def fold(self, event: RecordAggregate.Event) -> Aggregate:
        key = event.originator_id
        aggregate = self.cache.pop(key, None)
        if aggregate is not None and aggregate.version == event.originator_version:
            # Already applied: projections sharing this folder each ask for every event.
            self.cache[key] = aggregate
            return aggregate
        previous = event.originator_version - 1
        if aggregate is None or aggregate.version != previous:
            aggregate = self._load(key, previous)
        folded = apply_next(aggregate, event)
        assert isinstance(folded, Aggregate)
        self.cache[key] = folded
        if len(self.cache) > self.maxsize:
            self.cache.popitem(last=False)
        return folded

    def read(self, key: UUID, versions: list[int]) -> dict[int, Any]:
        if self.reader is None:
            msg = f"cannot read events of {key}: this projection has no reader"
            raise RuntimeError(msg)
        return self.reader(key, versions)

    def latest_progress(self, case: Any, goal_id: str) -> int | None:
        if self.latest is None:
            msg = f"cannot find progress of {case.id}: this projection has no entry index"
            raise RuntimeError(msg)
        return self.latest(case, goal_id)

    def _load(self, key: UUID, version: int) -> Aggregate | None:
        if version == 0:
            return None
        if self.loader is None:
            msg = f"cannot load {key} at version {version}: this projection has no loader"
            raise RuntimeError(msg)
        aggregate = self.loader(key, version)
        if aggregate is None or aggregate.version != version:
            # The store lacks events the stream's later ones say were recorded.
            raise MissingEventsError(key, [version])
        return aggregate

    def agency_of(self, key: UUID) -> str:
        """Whose record a stream is, as far as its state at hand or its first event tells
        ("" when neither can be read)."""
        aggregate = self.cache.get(key)
        if aggregate is None:
            try:
                aggregate = self._load(key, 1)
            except (*DAMAGED, AggregateNotFoundError, RuntimeError):
                return ""
        return str(getattr(aggregate, "agency_id", ""))


class ViewMovedError(Exception):
    """The view is not where its live runner left it: it was rebuilt, or another process
    applied events past it.  The runner stops and starts again from the view's position."""

    def __init__(self, view: str, expected: int, found: int) -> None:
        super().__init__(
            f"view {view} is at position {found}, not {expected} where its runner left it"
        )


class ViewProjection(Projection[View]):
    """A projection whose handlers return writes; the view commits them with the tracking.

    Every event gets a tracking row, also events a view ignores, so waiting for a position
    always ends.

    A row derived from a whole aggregate (a case's current plan, its caseload row, a
    referral's row) is not written by ``writes_for`` but marked with :meth:`touch`;
    :meth:`flush` then writes it once, from the aggregate's state after the last event of
    the batch (later events of the batch that did not touch it leave what it shows as it
    was).  A catch-up page of 2,500 events writes each such row once instead of once for
    every event of that case.  The live runner's batch is the events it already holds:
    one when events come one at a time, more when they come faster than it commits.
    """

    schema: ClassVar[type[ViewSchema]]
    LIVE_BATCH = 500  # events at most in one live commit (the library pulls 500 at a time)

    def __init__(
        self,
        view: View,
        loader: Loader | None = None,
        reader: EventReader | None = None,
        latest: Latest | None = None,
    ) -> None:
        super().__init__(view)
        self.folder = Folder(loader, reader=reader, latest=latest)
        # Where the view was when this projection began to follow it (the runner sets
        # it), then the last position it applied.
        self.position = 0
        # Key -> the aggregate (and what else the row needs) as of the last event seen.
        self.touched: dict[Any, Any] = {}
        # The live batch not yet committed: its writes and how many events it holds.
        self.pending: list[Statement] = []
        self.pending_events = 0
        # Whether the runner already holds the next event (the runner says how): if so,
        # the batch waits for it instead of committing without it.
        self.more_at_hand: Callable[[], bool] = lambda: False
        # The streams this view applies no more events of, as committed (read when first
        # needed, and again after a batch that was not committed).
        self.quarantined: set[str] | None = None

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """Apply an event (the live runner), moving the view on only from where this
        projection left it: a view another process moved meanwhile (a rebuild started it
        again, say) is never moved past events it has not applied."""
        position = tracking.notification_id
        if position <= self.position:
            return  # another runner applied it and went on
        try:
            self.pending.extend(self.writes_of(domain_event, position))
        except BaseException:
            self.discard()
            raise
        self.pending_events += 1
        if self.pending_events < self.LIVE_BATCH and self.more_at_hand():
            return  # the next event is already here: commit them together
        self.commit(tracking)

    def commit(self, tracking: Tracking) -> None:
        """Commit the live batch, whose last event is at the tracking's position."""
        writes, self.pending, self.pending_events = self.pending + self.flush(), [], 0
        position = tracking.notification_id
        try:
            self.view.write(writes, tracking, after=self.position)
        except PositionMovedError as moved:
            if moved.position < position:
                raise ViewMovedError(self.name, self.position, moved.position) from None
            position = moved.position  # another runner applied these events and maybe more
        self.position = position

    def writes_of(self, event: Any, position: int) -> list[Statement]:
        """The writes of one event.  A stored event this view cannot apply (undecodable,
        lacking what the view or its fold reads, or needing an event missing from the
        store) quarantines its stream, loudly, so one damaged record never stops the view
        for every stream and agency: the quarantine row is written with the view's rows,
        and no later event of that stream is applied, so the view keeps the record's rows
        as they stood before the damage rather than half of what followed."""
        if self.is_quarantined(event.originator_id):
            return []
        if isinstance(event, Unreadable):
            return self._quarantine(event, position, event.problem)
        try:
            return self.writes_for(event, position)
        except (PersistenceError, ViewMovedError, PositionMovedError):
            raise  # the store or the view, not the event: the runner starts again
        except DAMAGED as error:
            return self._quarantine(event, position, f"{type(error).__name__}: {error}")

    def is_quarantined(self, stream: Any) -> bool:
        quarantined = self.quarantined
        if quarantined is None:
            rows = self.view.db.query(quarantine.STREAMS_OF_VIEW, (self.name,))
            quarantined = self.quarantined = {str(row["stream_id"]) for row in rows}
        return bool(quarantined) and str(stream) in quarantined

    def _quarantine(self, event: Any, position: int, problem: str) -> list[Statement]:
        stream, version = event.originator_id, event.originator_version
        log.error(
            "view %s quarantines the stored event at version %s of stream %s (position %s) "
            "and applies none of the stream's later events: %s",
            self.name,
            version,
            stream,
            position,
            problem,
        )
        agency = self.folder.agency_of(stream) or str(getattr(event, "actor_agency_id", ""))
        assert self.quarantined is not None  # read by is_quarantined
        self.quarantined.add(str(stream))
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        row = (self.name, str(stream), agency, version, position, problem[:500], at)
        return [(quarantine.INSERT, row)]

    def writes_for(self, event: Any, position: int) -> list[Statement]:
        raise NotImplementedError

    def touch(self, key: Any, value: Any) -> None:
        self.touched[key] = value

    def flush(self) -> list[Statement]:
        """The writes of the rows touched since the last flush, which are then forgotten."""
        touched, self.touched = self.touched, {}
        return [write for key, value in touched.items() for write in self.rows_for(key, value)]

    def discard(self) -> None:
        """Forget the rows touched by a batch that failed: its writes are never committed."""
        self.touched = {}
        self.pending, self.pending_events = [], 0
        self.quarantined = None

    def rows_for(self, key: Any, value: Any) -> list[Statement]:
        """The writes of one touched row; views that touch rows say how."""
        raise NotImplementedError


# A plan's moves through its lifecycle: both the current plan and the caseload row show
# where the plan stands.
PLAN_LIFECYCLE_EVENTS = (
    Case.PlanDrafted,
    Case.PlanRevised,
    Case.PlanActivated,
    Case.PlanSuspended,
    Case.PlanResumed,
    Case.PlanCompleted,
    Case.PlanRevoked,
)


def latest(entries: list[E]) -> E:
    found = last_standing(entries)
    assert found is not None, "the first entry of a history is never set aside"
    return found


def today() -> date:
    return datetime.now(UTC).date()


def from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
