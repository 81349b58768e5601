"""Group commit: the small saves of one process that wait for the store's write lock at
the same moment are written in one transaction, one lock and one commit (one fsync).

Both stores let one writer in at a time (PostgreSQL: the library's table lock; SQLite: its
one writer), so a store records about one save per commit however many requests are
waiting.  A bare app's independent inserts commit side by side and PostgreSQL groups their
fsyncs; the lock forbids that here (positions must commit in order, and the tree's head is
one row), so the grouping is done before the lock instead (on SQLite a group also writes
each B-tree's last page once for all its saves, not once per save):

- a save that finds no flight in progress is its own leader and is sent at once, so a
  lone writer waits for nothing;
- saves that arrive while a flight is in progress queue up; when it is done, the first of
  them leads the next flight with every save queued then (up to the store's limit on one
  flight, ``fits``), and hands each its positions;
- a group the store refuses as a whole (a version another process took, an idempotency
  key used twice) is sent again save by save, so only the save at fault fails, with its
  own error, and the others are recorded as if they had come alone.

Every save of a group is committed together or not at all, with its chain links, MACs,
tree nodes, feed rows, entries and idempotency key, exactly as one save of their events
would be.  A request is answered only once its own save has committed.  Saves of one
record may share a group: a command on a record starts from the state the save before it
left once that save is queued (``application/writes.py``), and fails with it if it is not
recorded, so a stream never gets a gap.
"""

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent

# (events, and the idempotency records to write with them) -> their positions
Flight = Callable[[Sequence[StoredEvent], list[Any]], Sequence[int]]
# events -> whether one flight may carry them all
Fits = Callable[[Sequence[StoredEvent]], bool]


@dataclass
class Ticket:
    """One save waiting for its flight."""

    events: Sequence[StoredEvent]
    idempotency: Any  # an IdempotencyRecord, or None
    after: list["Ticket"] = field(default_factory=list)  # the saves whose state it continues
    last: dict[str, int] = field(default_factory=dict)  # stream -> its last version here
    ids: Sequence[int] | None = None
    error: BaseException | None = None
    done: bool = False

    def records(self) -> list[Any]:
        return [] if self.idempotency is None else [self.idempotency]


@dataclass
class GroupCommit:
    """The saves of one recorder, grouped; ``flight`` writes one group in one transaction."""

    flight: Flight
    fits: Fits
    _queue: list[Ticket] = field(default_factory=list)
    # Stream -> its latest save not recorded (queued, in flight, or failed): a save that
    # follows one on the same record is recorded only if that one is.
    _latest: dict[str, Ticket] = field(default_factory=dict)
    _flying: bool = False
    _changed: threading.Condition = field(default_factory=threading.Condition)
    groups: int = 0  # flights sent, for tests and benchmarks
    saves: int = 0  # saves recorded in them

    def save(
        self,
        events: Sequence[StoredEvent],
        idempotency: Any = None,
        queued: Callable[[], object] | None = None,
    ) -> Sequence[int]:
        """``queued``: called once the save has its place in the queue (before it is
        recorded), so the next command on the same record may start from its state."""
        ticket = Ticket(events, idempotency)
        first: dict[str, int] = {}
        for e in events:
            stream = str(e.originator_id)
            first[stream] = min(first.get(stream, e.originator_version), e.originator_version)
            ticket.last[stream] = max(ticket.last.get(stream, 0), e.originator_version)
        with self._changed:
            # It follows a save not yet recorded if it starts where that one ends (it was
            # made from that save's state); a save made from the store's state starts at
            # the same version instead, and the store decides between them.
            for stream, version in first.items():
                before = self._latest.get(stream)
                if before is not None and before.last.get(stream) == version - 1:
                    ticket.after.append(before)
                self._latest[stream] = ticket
            self._queue.append(ticket)
        if queued is not None:
            queued()
        while True:
            with self._changed:
                while self._flying and not ticket.done:
                    self._changed.wait()
                if ticket.done:
                    break
                self._flying = True  # this thread leads the next flight
                group = self._take()
            try:
                self._send(group)
            finally:
                with self._changed:
                    for other in group:
                        if not other.done:  # the leader was interrupted (KeyboardInterrupt)
                            other.error = RuntimeError("the save's flight was interrupted")
                            other.done = True
                        self._forget(other)
                    self._flying = False
                    self._changed.notify_all()
        if ticket.error is not None:
            raise ticket.error
        assert ticket.ids is not None
        return ticket.ids

    def _take(self) -> list[Ticket]:
        """The queued saves from the front that fit one flight (at least one)."""
        group: list[Ticket] = []
        events: list[StoredEvent] = []
        for ticket in self._queue:
            if group and not self.fits([*events, *ticket.events]):
                break
            group.append(ticket)
            events.extend(ticket.events)
        del self._queue[: len(group)]
        return group

    def _forget(self, ticket: Ticket) -> None:
        """A recorded save is no longer waited for; a failed one stays, so a save made
        from its state fails too (until a later save of the record replaces it)."""
        ticket.after = []
        if ticket.error is not None:
            ticket.events = ()  # only its failure and last versions are still needed
            return
        for stream in ticket.last:
            if self._latest.get(stream) is ticket:
                del self._latest[stream]

    def _send(self, group: list[Ticket]) -> None:
        for ticket in group:
            self._refuse_after_failure(ticket)
        group = [t for t in group if not t.done]
        if len(group) > 1:
            events = [e for t in group for e in t.events]
            try:
                ids = self.flight(events, [r for t in group for r in t.records()])
            except Exception:  # each save is sent again alone, and fails alone
                pass
            else:
                self._count(1, len(group))
                start = 0
                for ticket in group:
                    ticket.ids = ids[start : start + len(ticket.events)]
                    start += len(ticket.events)
                    ticket.done = True
                return
        for ticket in group:
            if self._refuse_after_failure(ticket):
                continue
            try:
                ticket.ids = self.flight(ticket.events, ticket.records())
                self._count(1, 1)
            except BaseException as e:  # handed to the save's own thread
                ticket.error = e
            ticket.done = True

    @staticmethod
    def _refuse_after_failure(ticket: Ticket) -> bool:
        """Fail a save that follows a failed save of the same record: its events were made
        from that save's state, and recording them alone would leave a gap in the stream."""
        if not any(t.error is not None for t in ticket.after):
            return False
        ticket.error = IntegrityError("a save it follows on the same record was not recorded")
        ticket.done = True
        return True

    def _count(self, groups: int, saves: int) -> None:
        self.groups += groups
        self.saves += saves
