"""One runner for every view of a process: each new event is read and decoded once, handed
to every view, and a batch's rows and positions of all the views commit in one transaction
(one round trip on PostgreSQL).

Each view keeps its own position: the runner follows the log from the lowest of them, and
a view applies only the events after its own.  A view that fails on an event (an error
that is neither the event's damage, which quarantines its stream, nor the store's) is
*detached*: its part of the batch is dropped, the others commit, and the supervisor runs
it alone (``ViewRunner``) from its position.  A lone view that has run for a while without
failing *joins* again: it is caught up to where this runner is, under the runner's lock,
and followed with the others from then on (ADR 0030).
"""

import logging
import os
import threading
from collections.abc import Callable
from typing import Any, cast

from eventsourcing.persistence import (
    DataError,
    InfrastructureFactory,
    IntegrityError,
    PersistenceError,
    Tracking,
    TrackingRecorder,
)
from eventsourcing.utils import Environment, EnvType

from caserecord.projections.base import Folder, ViewMovedError, ViewProjection
from caserecord.projections.runner import (
    APPLICATION_NAME,
    PROJECTIONS,
    RunnerReads,
    RunnerRecords,
    catch_up_views,
    view_class,
)
from caserecord.projections.sql import PositionMovedError, View, ViewWrite

log = logging.getLogger(__name__)


class SharedProjection:
    """Hands each event to every member view and commits their batch together."""

    LIVE_BATCH = ViewProjection.LIVE_BATCH

    def __init__(self, carrier: View, members: dict[str, ViewProjection], start: int) -> None:
        self.carrier = carrier  # whose connection commits the batch (every view's database)
        self.members = members
        # The last position handed to the views (committed, or in the batch at hand).
        self.position = min((p.position for p in members.values()), default=start)
        self.pending_events = 0
        self.more_at_hand: Callable[[], bool] = lambda: False
        # Views dropped from this runner since the supervisor last asked: name -> why.
        self.detached: dict[str, BaseException] = {}
        # Held while an event is applied or committed, and while a view joins.
        self.lock = threading.Lock()

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        position = tracking.notification_id
        with self.lock:
            for name, projection in list(self.members.items()):
                if position <= projection.position:
                    continue  # a view that started ahead of the others
                try:
                    projection.pending.extend(projection.writes_of(domain_event, position))
                except PersistenceError:
                    raise  # the store, not the view: the whole runner starts again
                except Exception as e:
                    self._detach(name, e)
                    continue
                projection.pending_events += 1
            self.position = max(self.position, position)
            self.pending_events += 1
            if self.pending_events < self.LIVE_BATCH and self.more_at_hand():
                return  # the next event is already here: commit them together
            self._commit(tracking)

    def _commit(self, tracking: Tracking) -> None:
        position = tracking.notification_id
        self.pending_events = 0
        parts: dict[str, ViewWrite] = {}
        for name, projection in list(self.members.items()):
            if projection.position >= position:
                continue
            try:
                writes = projection.pending + projection.flush()
            except PersistenceError:
                raise
            except Exception as e:
                self._detach(name, e)
                continue
            projection.pending, projection.pending_events = [], 0
            parts[name] = ViewWrite(projection.view, writes, tracking, projection.position)
        if not parts:
            return
        try:
            self.carrier.write_many(list(parts.values()))
        except (IntegrityError, DataError):
            # A view moved, or one view's rows conflict: each view alone finds out which,
            # and the others commit (as a group commit sends its saves one by one).
            self._write_alone(parts, position)
            return
        for name in parts:
            self.members[name].position = position

    def _write_alone(self, parts: dict[str, ViewWrite], position: int) -> None:
        for name, part in parts.items():
            projection = self.members[name]
            try:
                part.view.write(part.writes, part.tracking, after=part.after)
            except PositionMovedError as moved:
                projection.discard()  # its quarantine as committed, not as planned
                if moved.position >= position:
                    projection.position = moved.position  # another runner went on
                else:
                    self._detach(name, ViewMovedError(name, part.after, moved.position))
                continue
            except (IntegrityError, DataError) as e:
                self._detach(name, e)
                continue
            projection.position = position

    def _detach(self, name: str, error: BaseException) -> None:
        projection = self.members.pop(name)
        projection.discard()
        self.detached[name] = error
        if isinstance(error, ViewMovedError):
            log.info("projection %s leaves the shared runner: %s", name, error)
        else:
            log.error(
                "projection %s failed and leaves the shared runner; the others go on",
                name,
                exc_info=error,
            )

    def detach(self, name: str, error: BaseException) -> None:
        """Say that a view leaves (or did not join) this runner."""
        with self.lock:
            if name in self.members:
                self._detach(name, error)
            else:
                self.detached[name] = error

    def take_detached(self) -> dict[str, BaseException]:
        with self.lock:
            detached, self.detached = self.detached, {}
        return detached


class _From:
    """What the library's runner asks its tracking recorder: where to subscribe from."""

    def __init__(self, position: int) -> None:
        self.position = position

    def max_tracking_id(self, _application_name: str) -> int:
        return self.position


class SharedRunner(RunnerReads):
    """The library's runner, following the log for several views at once.  The views are
    made on one datastore, whose connection commits the batch."""

    def __init__(self, *, names: list[str], env: EnvType) -> None:
        factory = InfrastructureFactory.construct(env=Environment("views", {**os.environ, **env}))
        self._factory = factory
        self.env = env
        self.views: dict[str, View] = {}
        self.folder = Folder(self._load, reader=self._read, latest=self._latest)
        try:
            self._start(names, env)
        except BaseException:
            factory.close()
            raise

    def _start(self, names: list[str], env: EnvType) -> None:
        members = {name: self._member(name) for name in names}
        carrier = self._view(names[0] if names else next(iter(PROJECTIONS)))
        # With no view to follow yet (every one runs alone), from the furthest: a view
        # that joins is caught up to it.
        start = 0
        if not members:
            start = max(self._view(n).max_tracking_id(APPLICATION_NAME) or 0 for n in PROJECTIONS)
        self.projection = SharedProjection(carrier, members, start)
        self.projection.more_at_hand = self._more_at_hand
        super().__init__(
            projection=cast(Any, self.projection),
            application_class=RunnerRecords,
            tracking_recorder=cast(TrackingRecorder, _From(self.projection.position)),
            topics=(),  # every event, so every position gets a tracking row
            env=env,
        )

    @property
    def names(self) -> list[str]:
        return list(self.projection.members)

    def _view(self, name: str) -> View:
        view = self.views.get(name)
        if view is None:
            made = self._factory.tracking_recorder(view_class(name, self.env))
            assert isinstance(made, View)
            view = self.views[name] = made
        return view

    def _member(self, name: str) -> ViewProjection:
        view = self._view(name)
        projection = PROJECTIONS[name](view=view)
        projection.folder = self.folder  # each event's aggregate is folded once for all
        projection.position = view.max_tracking_id(APPLICATION_NAME) or 0
        return projection

    def join(self, name: str) -> None:
        """Follow a view that ran alone (its runner stopped) with the others again: catch
        it up to this runner's position first, between two of this runner's events."""
        view = self._view(name)
        with self.projection.lock:
            alone = PROJECTIONS[name](view=view, loader=self._load, reader=self._read)
            alone.folder.latest = self._latest
            catch_up_views(self.app, {name: (view, alone)}, until=self.projection.position)
            self.projection.members[name] = self._member(name)
        log.info("projection %s joins the shared runner", name)

    def close(self) -> None:
        try:
            self.__exit__(None, None, None)
        finally:
            # The views share one datastore: closing it once closes them all.
            self._factory.close()
