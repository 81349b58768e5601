"""Leading and supervising the view runners.

One process at a time runs them (runner_lock.py).  While this process holds the lock it
runs one :class:`SharedRunner` for the views (shared.py), a :class:`ViewRunner` of its own
for a view the shared runner detached, starts again a runner that stops on an error, hands
a lone view that has run a while without failing back to the shared runner, and answers
the doorbell (doorbell.py); otherwise it stands by, asking for the lock again now and then,
and takes over when the holder stops or dies.  A *term* is the time this process
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
from caserecord.projections.shared import SharedRunner

log = logging.getLogger(__name__)

SUPERVISE_EVERY = 1.0
MAX_BACKOFF = 30.0
# A view running alone joins the shared runner again after this many seconds without a
# failure.
REJOIN_AFTER = 30.0
SHARED = "*"  # the shared runner, among the names the supervisor restarts

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
        self.shared: SharedRunner | None = None
        self.runners: dict[str, ViewRunner] = {}  # views running alone
        self.alone_since: dict[str, float] = {}
        self.rejoin_after = REJOIN_AFTER
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
                    self.shared = self._start_shared(self.names)
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

    @property
    def running(self) -> list[str]:
        """The views this process follows now, together or alone."""
        with self._lock:
            together = self.shared.names if self.shared is not None else []
            return sorted([*together, *self.runners])

    def _stop_runners(self) -> None:
        with self._lock:
            shared, self.shared = self.shared, None
            runners, self.runners = self.runners, {}
        if shared is not None:
            try:
                shared.close()
            except Exception:
                log.exception("the shared projection runner stopped with an error")
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

    def _start_shared(self, names: list[str]) -> SharedRunner:
        runner = SharedRunner(names=names, env=self.env)
        runner.__enter__()
        return runner

    def _supervise(self, term: threading.Event) -> None:
        # A runner stops at its first error (the database went away, say); start it again
        # from its tracked positions, which loses and repeats nothing.  One that keeps
        # failing is retried less and less often, up to MAX_BACKOFF, so it does not flood
        # the log; the others carry on meanwhile.  A view the shared runner detached runs
        # alone (and is restarted so) until it has gone rejoin_after seconds without a
        # failure, then joins the shared runner again.
        failures: dict[str, int] = {}
        due: dict[str, float] = {}
        while not term.wait(SUPERVISE_EVERY):
            with self._lock:
                shared = self.shared
                failed = {n: r for n, r in self.runners.items() if r.is_interrupted.is_set()}
                for name in failed:
                    del self.runners[name]
                    self.alone_since.pop(name, None)
                for name, runner in self.runners.items():
                    failures.pop(name, None)  # up for a whole round: healthy again
                    # PostgreSQL wakes runners with NOTIFY; pull now and then anyway, in
                    # case one was missed while a connection was being replaced.
                    notify(runner.subscription)
                if shared is not None and shared.is_interrupted.is_set():
                    self.shared = None
                elif shared is not None:
                    failures.pop(SHARED, None)
                    notify(shared.subscription)
            if shared is not None:
                self._detached(shared, failures, due)
                if self.shared is None:
                    self._failed(SHARED, shared, failures, due)
            for name, runner in failed.items():
                self._failed(name, runner, failures, due)
            if self._restart(term, failures, due):
                return
            self._rejoin()

    def _detached(
        self, shared: SharedRunner, failures: dict[str, int], due: dict[str, float]
    ) -> None:
        for name, error in shared.projection.take_detached().items():
            if isinstance(error, ViewMovedError):
                due[name] = time.monotonic()  # not a failure: it starts alone at once
                continue
            failures[name] = failures.get(name, 0) + 1
            due[name] = time.monotonic() + min(MAX_BACKOFF, 2.0 ** (failures[name] - 1))

    def _failed(
        self,
        name: str,
        runner: ViewRunner | SharedRunner,
        failures: dict[str, int],
        due: dict[str, float],
    ) -> None:
        try:
            runner.close()
        except ViewMovedError as e:
            # Not a failure: a rebuild (or another runner) moved the view.
            log.info("projection %s starting again from its position: %s", name, e)
            due[name] = time.monotonic()
            return
        except Exception:
            log.exception("projection %s failed; starting it again", name)
        failures[name] = failures.get(name, 0) + 1
        due[name] = time.monotonic() + min(MAX_BACKOFF, 2.0 ** (failures[name] - 1))

    def _restart(
        self, term: threading.Event, failures: dict[str, int], due: dict[str, float]
    ) -> bool:
        """Start again the runners due; returns whether the term ended meanwhile."""
        for name in sorted(due):
            if term.is_set():
                return True
            if time.monotonic() < due[name]:
                continue
            try:
                if name == SHARED:
                    alone = set(self.runners) | set(due)
                    together = [n for n in self.names if n not in alone]
                    shared = self._start_shared(together)
                else:
                    runner = self._start_runner(name)
            except Exception as e:
                log.warning("projection %s not restarted yet: %s", name, e)
                failures[name] = failures.get(name, 0) + 1
                due[name] = time.monotonic() + min(MAX_BACKOFF, 2.0 ** failures[name])
                continue
            del due[name]
            with self._lock:
                if name == SHARED:
                    self.shared = shared
                else:
                    self.runners[name] = runner
                    self.alone_since[name] = time.monotonic()
        return False

    def _rejoin(self) -> None:
        """Hand the views that ran alone long enough without failing to the shared runner."""
        shared = self.shared
        if shared is None:
            return
        now = time.monotonic()
        ready = [n for n, since in self.alone_since.items() if now - since >= self.rejoin_after]
        for name in ready:
            with self._lock:
                runner = self.runners.pop(name)
                del self.alone_since[name]
            try:
                runner.close()
                shared.join(name)
            except Exception:
                # It runs alone again at the next round, as after any failure.
                log.exception("projection %s could not join the shared runner", name)
                shared.projection.detach(name, RuntimeError(f"{name} did not join"))
