"""The facade the HTTP API and the CLI use: start and stop the runners, wait for a
position (read-your-writes), rebuild and digest views, and query them."""

import logging
import threading
import time
from collections.abc import Callable

from eventsourcing.persistence import PersistenceError

from caserecord.config import Settings
from caserecord.persistence.subscription import set_poll_interval, wake, wake_all
from caserecord.projections.base import Folder, ViewMovedError, ViewProjection
from caserecord.projections.leader import Doorbell, doorbell_address, ring, runner_lock
from caserecord.projections.queries import ReadModels
from caserecord.projections.runner import (
    PROJECTIONS,
    ViewRunner,
    catch_up_views,
    check_names,
    construct_view,
    digest,
    latest_for,
    loader_for,
    reader_for,
    view_position,
)
from caserecord.projections.sql import Database, View
from caserecord.store import StoreError, describe, first_line, open_records

log = logging.getLogger(__name__)

WAIT_STEP = 0.01
SUPERVISE_EVERY = 1.0
MAX_BACKOFF = 30.0


class ReadModelTimeoutError(Exception):
    """A view did not reach a position in time; the API answers 503 and the client retries."""

    code = "read_model_timeout"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _StoppedError(Exception):
    """stop() was called during a catch-up."""


def service_env(settings: Settings) -> dict[str, str]:
    env = settings.eventsourcing_env(create_table=False)
    # Five runners, each with its own application and view: keep PostgreSQL pools small.
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
        self._runners: dict[str, ViewRunner] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        # One process at a time runs the runners (see leader.py); a term is the time this
        # one holds the lock, ended by stop() or by losing the lock.
        self._runner_lock = runner_lock(self.env)
        self._term_lock = threading.Lock()
        self._term: threading.Event | None = None
        self._watcher: threading.Thread | None = None
        self._doorbell_address = doorbell_address(self.env)
        self._doorbell: Doorbell | None = None

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
        return self._term is not None

    def start(self, *, standby: bool = True) -> bool:
        """Run the views if no other process does: catch them up in pages, then follow new
        events in background runners.  If another process runs them, stand by (unless
        ``standby`` is false) and take over when it stops.  Returns whether this process
        runs them now; reads and :meth:`wait` work either way."""
        self._stopping.clear()
        leading = self._lead()
        if leading or standby:
            self._watcher = threading.Thread(
                target=self._watch, name="caserecord-projection-lock", daemon=True
            )
            self._watcher.start()
        return leading

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()
            self._watcher = None
        self._step_down()

    def close(self) -> None:
        self.stop()
        self.db.close()

    def holder(self) -> str:
        """Who runs the views, as far as can be told ("pid 12 on host")."""
        return self._runner_lock.holder()

    def _lead(self) -> bool:
        """Take the runner lock if it is free, then catch up and start the runners."""
        with self._term_lock:
            if self._term is not None:
                return True
            if not self._runner_lock.acquire():
                return False
            try:
                self.catch_up(progress=self._unless_stopping)
                term = threading.Event()
                with self._lock:
                    for name in self.names:
                        self._runners[name] = self._start_runner(name)
            except BaseException as e:
                self._stop_runners()
                self._runner_lock.release()
                if isinstance(e, _StoppedError):
                    return False
                raise
            self._supervisor = threading.Thread(
                target=self._supervise, args=(term,), name="caserecord-projections", daemon=True
            )
            self._supervisor.start()
            self._doorbell = Doorbell.listen(self._doorbell_address, wake_all)
            self._term = term
            return True

    def _unless_stopping(self, _view: str, _position: int, _applied: int) -> None:
        # Called after each page of a catch-up: a long one must not hold up stop().
        if self._stopping.is_set():
            raise _StoppedError

    def _step_down(self) -> None:
        """Stop the runners, then let go of the lock (in that order, so a successor does
        not overlap with them, unless the lock was lost first)."""
        with self._term_lock:
            term = self._term
            if term is not None:
                term.set()
            if self._doorbell is not None:
                self._doorbell.close()
                self._doorbell = None
            if self._supervisor is not None:
                self._supervisor.join()
                self._supervisor = None
            self._stop_runners()
            self._runner_lock.release()
            self._term = None  # not before: `leading` stays true while runners may run

    def _stop_runners(self) -> None:
        with self._lock:
            runners, self._runners = self._runners, {}
        for name, runner in runners.items():
            try:
                runner.close()
            except Exception:  # a failed runner re-raises its error on close
                log.exception("projection %s stopped with an error", name)

    def _watch(self) -> None:
        # Standing by: ask for the lock again every interval. Leading: check that the lock
        # is still ours (a PostgreSQL session can be cut); if not, stop the runners, since
        # another process may already have taken over, and stand by again.
        interval = self.settings.projection_lock_retry
        while not self._stopping.wait(interval):
            if self.leading:
                if not self._runner_lock.held():
                    log.warning("projection lock lost: stopping this process's runners")
                    self._step_down()
                continue
            try:
                if self._lead():
                    log.info("running the read models (took over the projection lock)")
            except Exception as e:
                log.warning("read models not started: %s: %s", type(e).__name__, e)

    def _start_runner(self, name: str) -> ViewRunner:
        runner = ViewRunner(name=name, env=self.env)
        runner.__enter__()
        return runner

    def _supervise(self, term: threading.Event) -> None:
        # A runner stops at its first error (the database went away, say); start it again
        # from its tracked position, which loses and repeats nothing.  One that keeps
        # failing (an event it cannot apply) is retried less and less often, up to
        # MAX_BACKOFF, so it does not flood the log; the others carry on meanwhile.
        failures: dict[str, int] = {}
        due: dict[str, float] = {}
        while not term.wait(SUPERVISE_EVERY):
            with self._lock:
                failed = {n: r for n, r in self._runners.items() if r.is_interrupted.is_set()}
                for name in failed:
                    del self._runners[name]
                for name, runner in self._runners.items():
                    failures.pop(name, None)  # up for a whole round: healthy again
                    # PostgreSQL wakes runners with NOTIFY; pull now and then anyway, in
                    # case one was missed while a connection was being replaced.
                    wake(runner.subscription)
            for name, runner in failed.items():
                try:
                    runner.close()
                except ViewMovedError as e:
                    # Not a failure: a rebuild (or another runner) moved the view.
                    log.info("projection %s starting again from its position: %s", name, e)
                    due[name] = time.monotonic()
                    continue
                except Exception:
                    log.exception("projection %s failed; starting it again", name)
                failures[name] = failures.get(name, 0) + 1
                due[name] = time.monotonic() + min(MAX_BACKOFF, 2.0 ** (failures[name] - 1))
            for name in sorted(due):
                if term.is_set():
                    return
                if time.monotonic() < due[name]:
                    continue
                try:
                    replacement = self._start_runner(name)
                except Exception as e:
                    log.warning("projection %s not restarted yet: %s", name, e)
                    failures[name] = failures.get(name, 0) + 1
                    due[name] = time.monotonic() + min(MAX_BACKOFF, 2.0 ** failures[name])
                    continue
                del due[name]
                with self._lock:
                    self._runners[name] = replacement

    def wait(
        self, position: int, timeout: float | None = None, *, views: list[str] | None = None
    ) -> None:
        """Block until every view (or the ``views`` named) has processed ``position``
        (read-your-writes); ReadModelTimeoutError when that takes longer than ``timeout``
        (default: the read_your_writes_timeout setting)."""
        names = check_names(views) if views else self.names
        limit = self.settings.read_your_writes_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        if self.leading:
            wake_all()
        else:
            ring(self._doorbell_address)  # the runners are in another process
        while True:
            behind = [n for n in names if view_position(self.db, n) < position]
            if not behind:
                return
            if time.monotonic() >= deadline:
                raise ReadModelTimeoutError(
                    f"the read models ({', '.join(behind)}) have not reached position "
                    f"{position} within {limit:g}s; try again shortly"
                )
            time.sleep(WAIT_STEP)

    def positions(self) -> dict[str, int]:
        return {name: view_position(self.db, name) for name in self.names}

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

    def digests(self, names: list[str] | None = None) -> dict[str, str]:
        return {
            name: digest(self.db, name) for name in (check_names(names) if names else self.names)
        }
