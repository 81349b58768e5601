"""The checks of a request that need the store (its token, who it acts for, the log's head),
put off by its dependencies to the route's own thread.

A route's body runs in the thread pool; each dependency that read the store went there on
a thread of its own before it, a hop whose CPU on the event loop cost more than the query.
The dependencies now note such a check here, in the order they would have made it, and
the route's thread makes them all before the body (``settle``). A request refused on the
event loop meanwhile (a malformed header or body, a refusal of a later dependency) has its
checks made first by the error handler (``errors.install``), so it is refused as it was
when they were made on the way: 401 for its token, then who it acts for, then its role,
then what else is wrong with it."""

from collections.abc import Callable
from contextvars import ContextVar

Check = Callable[[], None]


class Deferred:
    """One request's checks put off, in the order they are to be made."""

    def __init__(self) -> None:
        self._checks: list[Check] = []

    def add(self, check: Check) -> None:
        self._checks.append(check)

    def then(self, check: Check) -> None:
        """``check`` now if nothing is put off (it needs only what is known), else after."""
        if self._checks:
            self._checks.append(check)
        else:
            check()

    def run(self) -> None:
        """Make the checks put off, in order; the first refusal is raised, and the checks
        after it are dropped with the rest: none is made twice."""
        checks, self._checks = self._checks, []
        for check in checks:
            check()


# Set by a request's first dependency on the event loop; the pool's threads run in a copy
# of the request's context, so the route's thread and the error handlers find it too.
_current: ContextVar[Deferred | None] = ContextVar("caserecord_deferred", default=None)


def begin() -> Deferred:
    """A request's checks, none yet (its first dependency that puts one off calls this)."""
    deferred = Deferred()
    _current.set(deferred)
    return deferred


def current() -> Deferred:
    found = _current.get()
    return begin() if found is None else found


def settle() -> None:
    """Make the request's checks put off, if any: off the event loop."""
    found = _current.get()
    if found is not None:
        found.run()
