"""The facade the HTTP API and the CLI use: start and stop the runners (supervisor.py),
wait for a position (read-your-writes), catch up, rebuild and digest views, and query
them."""

import logging
import time
from collections.abc import Callable

from eventsourcing.persistence import PersistenceError

from caserecord.config import Settings
from caserecord.persistence.subscription import set_poll_interval, wake_all
from caserecord.projections.base import Folder, ViewProjection
from caserecord.projections.compare import RowDifference, compare_views
from caserecord.projections.doorbell import doorbell_address, ring
from caserecord.projections.queries import ReadModels
from caserecord.projections.runner import (
    PROJECTIONS,
    catch_up_views,
    check_names,
    construct_view,
    digest,
    latest_for,
    loader_for,
    reader_for,
    view_positions,
)
from caserecord.projections.sql import Database, View
from caserecord.projections.supervisor import Supervisor
from caserecord.store import StoreError, describe, first_line, open_records

log = logging.getLogger(__name__)

WAIT_STEP = 0.01


class ReadModelTimeoutError(Exception):
    """A view did not reach a position in time; the API answers 503 and the client retries."""

    code = "read_model_timeout"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def service_env(settings: Settings) -> dict[str, str]:
    env = settings.eventsourcing_env(create_table=False)
    # Each runner (the shared one, and a view running alone) has its own application and
    # datastore: keep PostgreSQL pools small.
    env.setdefault("POSTGRES_POOL_SIZE", "1")
    env.setdefault("POSTGRES_MAX_OVERFLOW", "4")
    return env


class ProjectionService:
    def __init__(self, settings: Settings, *, names: list[str] | None = None) -> None:
        self.settings = settings
        self.names = check_names(names)
        self.env = service_env(settings)
        set_poll_interval(settings.poll_interval)
        self.db = Database.from_env(self.env)
        self.queries = ReadModels(self.db)
        self._check_tables()
        self.supervisor = Supervisor(
            self.env,
            self.names,
            retry=settings.projection_lock_retry,
            catch_up=lambda progress: self.catch_up(progress=progress),
        )
        self._doorbell_address = doorbell_address(self.env)

    def _check_tables(self) -> None:
        try:
            self.positions()
        except PersistenceError as e:
            self.db.close()
            message = first_line(e)
            where = describe(self.settings)
            if "no such table" in message or "does not exist" in message:
                raise StoreError(
                    f"the read models are not set up in {where}: run `caserecord db init`"
                ) from None
            raise StoreError(f"cannot read the read models in {where}: {message}") from None

    # ---- running -------------------------------------------------------------------
    @property
    def leading(self) -> bool:
        """Whether this process runs the runners now (it holds the runner lock)."""
        return self.supervisor.leading

    def start(self, *, standby: bool = True) -> bool:
        """Run the views if no other process does: catch them up in pages, then follow new
        events in background runners.  If another process runs them, stand by (unless
        ``standby`` is false) and take over when it stops.  Returns whether this process
        runs them now; reads and :meth:`wait` work either way."""
        return self.supervisor.start(standby=standby)

    def stop(self) -> None:
        self.supervisor.stop()

    def close(self) -> None:
        self.stop()
        self.db.close()

    def holder(self) -> str:
        """Who runs the views, as far as can be told ("pid 12 on host")."""
        return self.supervisor.lock.holder()

    def wait(
        self, position: int, timeout: float | None = None, *, views: list[str] | None = None
    ) -> dict[str, int]:
        """Block until every view (or the ``views`` named) has processed ``position``
        (read-your-writes); ReadModelTimeoutError when that takes longer than ``timeout``
        (default: the read_your_writes_timeout setting). Answers the positions that showed
        it, so the caller need not ask again."""
        names = check_names(views) if views else self.names
        limit = self.settings.read_your_writes_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        if self.leading:
            wake_all()
        else:
            ring(self._doorbell_address)  # the runners are in another process
        while True:
            found = view_positions(self.db, names)
            behind = [n for n in names if found[n] < position]
            if not behind:
                return found
            if time.monotonic() >= deadline:
                raise ReadModelTimeoutError(
                    f"the read models ({', '.join(behind)}) have not reached position "
                    f"{position} within {limit:g}s; try again shortly"
                )
            time.sleep(WAIT_STEP)

    def positions(self) -> dict[str, int]:
        return view_positions(self.db, self.names)

    # ---- maintenance ---------------------------------------------------------------
    def catch_up(
        self,
        names: list[str] | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> dict[str, int]:
        """Apply every event not yet in the views: one pass over the log for them all, a
        page per transaction per view."""
        chosen = check_names(names) if names else self.names
        records = open_records(self.settings)
        # Shared by the views.
        folder = Folder(loader_for(records), reader=reader_for(records), latest=latest_for(records))
        views: dict[str, tuple[View, ViewProjection]] = {}
        try:
            for name in chosen:
                view = construct_view(name, self.env)
                projection = PROJECTIONS[name](view=view)
                projection.folder = folder
                views[name] = (view, projection)
            return catch_up_views(records, views, progress=progress)
        finally:
            for view, _ in views.values():
                view.close()
            records.close()

    def rebuild(
        self,
        names: list[str] | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> dict[str, int]:
        """Drop views, create them again and replay them from the whole log (an operator
        task: stop the runners first)."""
        chosen = check_names(names) if names else self.names
        later = {
            i: ddl for n in chosen for i, ddl in PROJECTIONS[n].schema.secondary_indexes().items()
        }
        for name in chosen:
            view = construct_view(name, self.env)
            try:
                view.drop()
            finally:
                view.close()
            construct_view(name, {**self.env, "CREATE_TABLE": "y"}).close()
        self.db.execute([(f"DROP INDEX IF EXISTS {{s}}{index}", ()) for index in later])
        try:
            return self.catch_up(chosen, progress)
        finally:
            # Also after a failed replay: the queries need them whatever the view holds.
            self.db.execute([(ddl, ()) for ddl in later.values()])

    def verify(
        self,
        names: list[str] | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> list[RowDifference]:
        """Rebuild the views into a scratch copy and name every live row that differs
        (``compare.py``); ``ViewsMovedError`` if a live view moved on meanwhile."""
        chosen = check_names(names) if names else self.names
        records = open_records(self.settings)
        try:
            return compare_views(records, self.db, self.env, chosen, progress)
        finally:
            records.close()

    def digests(self, names: list[str] | None = None) -> dict[str, str]:
        return {
            name: digest(self.db, name) for name in (check_names(names) if names else self.names)
        }
