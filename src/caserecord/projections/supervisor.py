"""Leading and supervising the view runners.

One process at a time runs them (runner_lock.py).  While this process holds the lock it
runs one :class:`ViewRunner` per view, starts again a runner that stops on an error, and
answers the doorbell (doorbell.py); otherwise it stands by, asking for the lock again now
and then, and takes over when the holder stops or dies.  A *term* is the time this process
holds the lock, ended by :meth:`Supervisor.stop` or by losing the lock.
"""

import logging
import threading
import time
from collections.abc import Callable

from caserecord.persistence.library_internals import notify
from caserecord.persistence.subscription import wake_all
from caserecord.projections.base import ViewMovedError
from caserecord.projections.doorbell import Doorbell, doorbell_address
from caserecord.projections.runner import ViewRunner
from caserecord.projections.runner_lock import runner_lock

log = logging.getLogger(__name__)

SUPERVISE_EVERY = 1.0
MAX_BACKOFF = 30.0

# Catches every view up before the runners start; calls its argument after each page.
CatchUp = Callable[[Callable[[str, int, int], None]], object]


class _StoppedError(Exception):
    """stop() was called during a catch-up."""


class Supervisor:
    def __init__(
        self, env: dict[str, str], names: list[str], *, retry: float, catch_up: CatchUp
    ) -> None:
        self.env = env
        self.names = names
        self.retry = retry  # seconds between a standby's attempts at the lock
        self._catch_up = catch_up
        self.runners: dict[str, ViewRunner] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.lock = runner_lock(env)
        self._term_lock = threading.Lock()
        self._term: threading.Event | None = None
        self._watcher: threading.Thread | None = None
        self._doorbell_address = doorbell_address(env)
        self._doorbell: Doorbell | None = None

    @property
    def leading(self) -> bool:
        """Whether this process runs the runners now (it holds the runner lock)."""
        return self._term is not None

    def start(self, *, standby: bool = True) -> bool:
        """Lead if no other process does; else stand by (unless ``standby`` is false).
        Returns whether this process leads now."""
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

    def _lead(self) -> bool:
        """Take the runner lock if it is free, then catch up and start the runners."""
        with self._term_lock:
            if self._term is not None:
                return True
            if not self.lock.acquire():
                return False
            try:
                self._catch_up(self._unless_stopping)
                term = threading.Event()
                with self._lock:
                    for name in self.names:
                        self.runners[name] = self._start_runner(name)
            except BaseException as e:
                self._stop_runners()
                self.lock.release()
                if isinstance(e, _StoppedError):
                    return False
                raise
            self._thread = threading.Thread(
                target=self._supervise, args=(term,), name="caserecord-projections", daemon=True
            )
            self._thread.start()
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
            if self._thread is not None:
                self._thread.join()
                self._thread = None
            self._stop_runners()
            self.lock.release()
            self._term = None  # not before: `leading` stays true while runners may run

    def _stop_runners(self) -> None:
        with self._lock:
            runners, self.runners = self.runners, {}
        for name, runner in runners.items():
            try:
                runner.close()
            except Exception:  # a failed runner re-raises its error on close
                log.exception("projection %s stopped with an error", name)

    def _watch(self) -> None:
        # Standing by: ask for the lock again every interval. Leading: check that the lock
        # is still ours (a PostgreSQL session can be cut); if not, stop the runners, since
        # another process may already have taken over, and stand by again.
        while not self._stopping.wait(self.retry):
            if self.leading:
                if not self.lock.held():
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
                failed = {n: r for n, r in self.runners.items() if r.is_interrupted.is_set()}
                for name in failed:
                    del self.runners[name]
                for name, runner in self.runners.items():
                    failures.pop(name, None)  # up for a whole round: healthy again
                    # PostgreSQL wakes runners with NOTIFY; pull now and then anyway, in
                    # case one was missed while a connection was being replaced.
                    notify(runner.subscription)
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
                    self.runners[name] = replacement
