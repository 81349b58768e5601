"""Running the views: the library's projection runner for following new events, and a
batched catch-up (one transaction per page of events) for starting, ``--once`` and rebuilds.
"""

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import InfrastructureFactory, Mapper, StoredEvent, Tracking
from eventsourcing.projection import BaseProjectionRunner
from eventsourcing.utils import Environment, EnvType

from caserecord.application import CaseRecords
from caserecord.persistence.decoding import decoded_or_unreadable
from caserecord.persistence.library_internals import has_more_at_hand, runner_subscription
from caserecord.projections.audit_trail import AuditTrailProjection
from caserecord.projections.base import EventReader, Latest, Loader, ViewProjection
from caserecord.projections.benefits import BenefitsProjection
from caserecord.projections.caseload import CaseloadProjection
from caserecord.projections.client_index import ClientIndexProjection
from caserecord.projections.current_plans import CurrentPlansProjection
from caserecord.projections.referrals import ReferralsProjection
from caserecord.projections.scores import ScoresProjection
from caserecord.projections.sql import Database, PositionMovedError, Statement, View
from caserecord.projections.views import POSTGRES_VIEWS, SQLITE_VIEWS
from caserecord.projections.worklist import WorklistProjection

PROJECTIONS: dict[str, type[ViewProjection]] = {
    p.name: p
    for p in (
        CurrentPlansProjection,
        CaseloadProjection,
        ReferralsProjection,
        AuditTrailProjection,
        ClientIndexProjection,
        WorklistProjection,
        ScoresProjection,
        BenefitsProjection,
    )
}

APPLICATION_NAME = CaseRecords.name
CATCH_UP_PAGE = 2500  # events per transaction: commits (fsync) dominate small pages

ProgressCallback = Callable[[int, int], None]  # (last position applied, events applied so far)


def view_class(name: str, env: EnvType) -> type[View]:
    postgres = env.get("PERSISTENCE_MODULE", "") == "eventsourcing.postgres"
    return (POSTGRES_VIEWS if postgres else SQLITE_VIEWS)[name]


def construct_view(name: str, env: EnvType) -> View:
    # As the library's runners configure their views: over the process environment, and
    # named after the view, so a setting can be given for one view by its name as prefix.
    factory = InfrastructureFactory.construct(env=Environment(name, {**os.environ, **env}))
    view = factory.tracking_recorder(view_class(name, env))
    assert isinstance(view, View)
    return view


def check_names(names: list[str] | None) -> list[str]:
    unknown = sorted(set(names or []) - set(PROJECTIONS))
    if unknown:
        msg = f"unknown view {', '.join(unknown)}: choose from {', '.join(PROJECTIONS)}"
        raise ValueError(msg)
    return list(names or PROJECTIONS)


def loader_for(records: CaseRecords) -> Loader:
    def load(aggregate_id: UUID, version: int) -> Aggregate | None:
        aggregate: Aggregate = records.repository.get(aggregate_id, version=version)
        return aggregate

    return load


def latest_for(records: CaseRecords) -> Latest:
    return records.latest_progress


def reader_for(records: CaseRecords) -> EventReader:
    def read(stream_id: UUID, versions: list[int]) -> dict[int, Any]:
        return records.events_at(stream_id, versions)

    return read


class TolerantMapper(Mapper[UUID]):
    """Hands the views an ``Unreadable`` for a stored event that cannot be decoded,
    instead of raising in the library's subscription (which would stop the runner, and
    every restart would stop at the same event)."""

    def to_domain_event(self, stored: StoredEvent) -> Any:
        return decoded_or_unreadable(super(), stored)


class RunnerRecords(CaseRecords):
    """The application the live runners subscribe through: the service's own, decoding
    with the tolerant mapper."""

    name = CaseRecords.name

    def construct_mapper(self) -> Mapper[UUID]:
        mapper = super().construct_mapper()
        return TolerantMapper(
            transcoder=mapper.transcoder, cipher=mapper.cipher, compressor=mapper.compressor
        )


class RunnerReads(BaseProjectionRunner[CaseRecords]):
    """What a runner's projections read through the runner's own application: aggregates
    (a view resuming in the middle of a stream), a goal's latest progress, stored entries;
    and whether the subscription holds more events at hand."""

    @property
    def subscription(self) -> object:
        """The library's subscription under the runner's application subscription."""
        return runner_subscription(self)

    def _more_at_hand(self) -> bool:
        return has_more_at_hand(self.subscription)

    def _load(self, aggregate_id: UUID, version: int) -> Aggregate | None:
        return loader_for(self.app)(aggregate_id, version)

    def _latest(self, case: Any, goal_id: str) -> int | None:
        return latest_for(self.app)(case, goal_id)

    def _read(self, stream_id: UUID, versions: list[int]) -> dict[int, Any]:
        return reader_for(self.app)(stream_id, versions)


class ViewRunner(RunnerReads):
    """The library's runner, given a projection that can load aggregates through the
    runner's own application (used when a view resumes in the middle of a stream)."""

    def __init__(self, *, name: str, env: EnvType) -> None:
        self.view = construct_view(name, env)
        self.projection = PROJECTIONS[name](
            view=self.view, loader=self._load, reader=self._read, latest=self._latest
        )
        # The library reads it again to subscribe; if it moved in between, the first
        # event finds the view moved and the runner starts again.
        self.projection.position = self.view.max_tracking_id(APPLICATION_NAME) or 0
        self.projection.more_at_hand = self._more_at_hand
        super().__init__(
            projection=self.projection,
            application_class=RunnerRecords,
            tracking_recorder=self.view,
            topics=(),  # every event, so every position gets a tracking row
            env=env,
        )

    def close(self) -> None:
        try:
            self.__exit__(None, None, None)
        finally:
            self.view.close()


def catch_up(
    records: CaseRecords,
    view: View,
    projection: ViewProjection,
    *,
    page: int = CATCH_UP_PAGE,
    until: int | None = None,
    progress: ProgressCallback | None = None,
) -> int:
    """Apply every event after the view's position, a page per transaction. Returns how
    many events were applied."""
    report = (lambda _name, position, applied: progress(position, applied)) if progress else None
    name = projection.name
    found = catch_up_views(
        records, {name: (view, projection)}, page=page, until=until, progress=report
    )
    return found[name]


def catch_up_views(
    records: CaseRecords,
    views: dict[str, tuple[View, ViewProjection]],
    *,
    page: int = CATCH_UP_PAGE,
    until: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, int]:
    """Catch several views up in one pass over the log: each page is read and decoded
    once, each event handed to every view still behind it, and each view commits its
    part of the page with its position in its own transaction."""
    positions = {
        name: view.max_tracking_id(APPLICATION_NAME) or 0 for name, (view, _) in views.items()
    }
    applied = dict.fromkeys(views, 0)
    start = min(positions.values(), default=0)
    while views and (until is None or start < until):
        notifications = records.recorder.select_notifications(
            start=start, limit=page, stop=until, inclusive_of_start=False
        )
        if not notifications:
            break
        writes: dict[str, list[Statement]] = {name: [] for name in views}
        counts = dict.fromkeys(views, 0)
        try:
            for n in notifications:
                event = decoded_or_unreadable(records.mapper, n)
                for name, (_, projection) in views.items():
                    if n.id > positions[name]:
                        writes[name].extend(projection.writes_of(event, n.id))
                        counts[name] += 1
            for name, (_, projection) in views.items():
                writes[name].extend(projection.flush())
        except BaseException:
            for _, projection in views.values():
                projection.discard()
            raise
        last = notifications[-1].id
        for name, (view, _) in views.items():
            if positions[name] >= last:
                continue
            try:
                view.write(writes[name], Tracking(APPLICATION_NAME, last), after=positions[name])
            except PositionMovedError as moved:
                # Another runner got there first: carry on from where it is.
                positions[name] = moved.position
                views[name][1].discard()  # its quarantine as committed, not as planned
                continue
            positions[name] = last
            applied[name] += counts[name]
            if progress is not None:
                progress(name, last, applied[name])
        start = min(positions.values())
    return applied


def view_positions(db: Database, names: Sequence[str]) -> dict[str, int]:
    """The positions of the views named, in one statement: a read that waits for its
    writer's position asks for every view's, and a query (a read transaction) per view
    was most of what a read of one case sent."""
    if not names:
        return {}
    statement = " UNION ALL ".join(
        f"SELECT {i} AS n, notification_id FROM {{s}}{PROJECTIONS[name].schema.tracking_table()} "
        "WHERE application_name=?"
        for i, name in enumerate(names)
    )
    found = dict.fromkeys(names, 0)
    for row in db.query(statement, (APPLICATION_NAME,) * len(names)):
        found[names[int(row["n"])]] = int(row["notification_id"])
    return found


def digest(db: Database, name: str) -> str:
    """A stable hash of a view's rows (not of its position), to compare two ways of
    building it."""
    h = hashlib.sha256()
    for statement in PROJECTIONS[name].schema.digest_queries:
        for row in db.query(statement):
            h.update(json.dumps([canonical(v) for v in row.values()]).encode())
            h.update(b"\n")
    return h.hexdigest()


def canonical(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return int(value)
    return str(value)


def create_views(env: EnvType) -> None:
    """Create every view's tables (``caserecord db init``; workers never run DDL).  A view
    whose tables an earlier version made to an older definition is dropped first, as a
    rebuild would: it is made afresh and its runner replays it from the log, which holds
    everything a view shows, so a store made by older code opens."""
    for name in PROJECTIONS:
        view = construct_view(name, {**env, "CREATE_TABLE": "n"})
        try:
            if view.outdated():
                view.drop()
        finally:
            view.close()
        construct_view(name, {**env, "CREATE_TABLE": "y"}).close()
