"""Group commit: the small saves of one process that wait for the events table's lock at
the same moment are written in one transaction, one lock and one commit (one fsync).

The library's table lock makes every writer of a store wait for the one before it to
commit, so on PostgreSQL a store records about one save per fsync however many requests
are waiting.  A bare app's independent inserts commit side by side and the server groups
their fsyncs; the lock forbids that here (positions must commit in order, and the tree's
head is one row), so the grouping is done before the lock instead:

- a save that finds no flight in progress is its own leader and is sent at once, so a
  lone writer waits for nothing;
- saves that arrive while a flight is in progress queue up; when it is done, the first of
  them leads the next flight with every save queued then (up to the two-flight limits,
  ``postgres_flights.fits_two_flights``), and hands each its positions;
- a group the store refuses as a whole (a version another process took, an idempotency
  key used twice) is sent again save by save, so only the save at fault fails, with its
  own error, and the others are recorded as if they had come alone.

Every save of a group is committed together or not at all, with its chain links, MACs,
tree nodes, feed rows, entries and idempotency key, exactly as one save of their events
would be.  A request is answered only once its own save has committed.  Saves of one
record never meet in a group: the commands of a process on one record take turns
(``application/writes.py``), each waiting for the one before it to be saved.
"""

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import StoredEvent

from caserecord.persistence.postgres_flights import fits_two_flights

# (events, and the idempotency records to write with them) -> their positions
Flight = Callable[[Sequence[StoredEvent], list[Any]], Sequence[int]]


@dataclass
class Ticket:
    """One save waiting for its flight."""

    events: Sequence[StoredEvent]
    idempotency: Any  # an IdempotencyRecord, or None
    ids: Sequence[int] | None = None
    error: BaseException | None = None
    done: bool = False

    def records(self) -> list[Any]:
        return [] if self.idempotency is None else [self.idempotency]


@dataclass
class GroupCommit:
    """The saves of one recorder, grouped; ``flight`` writes one group in one transaction."""

    flight: Flight
    _queue: list[Ticket] = field(default_factory=list)
    _flying: bool = False
    _changed: threading.Condition = field(default_factory=threading.Condition)
    groups: int = 0  # flights sent, for tests and benchmarks
    saves: int = 0  # saves recorded in them

    def save(self, events: Sequence[StoredEvent], idempotency: Any = None) -> Sequence[int]:
        ticket = Ticket(events, idempotency)
        with self._changed:
            self._queue.append(ticket)
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
            if group and not fits_two_flights([*events, *ticket.events]):
                break
            group.append(ticket)
            events.extend(ticket.events)
        del self._queue[: len(group)]
        return group

    def _send(self, group: list[Ticket]) -> None:
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
            try:
                ticket.ids = self.flight(ticket.events, ticket.records())
                self._count(1, 1)
            except BaseException as e:  # handed to the save's own thread
                ticket.error = e
            ticket.done = True

    def _count(self, groups: int, saves: int) -> None:
        self.groups += groups
        self.saves += saves
