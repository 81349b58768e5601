"""A subscription to the SQLite notification log, which the library does not offer.

The library's ``ListenNotifySubscription`` pulls new notifications whenever it is told that
some may exist; PostgreSQL tells it through LISTEN/NOTIFY.  SQLite has no such channel, and
other processes write to the same file, so a small thread tells it on a fixed interval.
Anyone in this process who knows that something was just written (for example a caller
waiting for its own write to be projected) can wake every subscription at once with
:func:`wake_all` instead of waiting for the next tick.
"""

import os
import threading
import weakref
from collections.abc import Sequence

from eventsourcing.persistence import ApplicationRecorder, ListenNotifySubscription

from caserecord.persistence.library_internals import notify

DEFAULT_POLL_INTERVAL = 0.2
_configured: float | None = None

_live: "weakref.WeakSet[PollingSubscription]" = weakref.WeakSet()
_live_lock = threading.Lock()


def set_poll_interval(seconds: float) -> None:
    """The interval for subscriptions started from now on in this process (from Settings)."""
    global _configured
    _configured = seconds if seconds > 0 else None


def poll_interval_from_env() -> float:
    if _configured is not None:
        return _configured
    try:
        value = float(os.environ.get("CASERECORD_POLL_INTERVAL", DEFAULT_POLL_INTERVAL))
    except ValueError:
        return DEFAULT_POLL_INTERVAL
    return value if value > 0 else DEFAULT_POLL_INTERVAL


class PollingSubscription(ListenNotifySubscription[ApplicationRecorder]):
    def __init__(
        self,
        recorder: ApplicationRecorder,
        gt: int | None = None,
        topics: Sequence[str] = (),
        poll_interval: float | None = None,
    ) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._poll_interval = poll_interval or poll_interval_from_env()
        self._stopped = threading.Event()
        self._poll_thread = threading.Thread(
            target=self._poll, name="caserecord-sqlite-poll", daemon=True
        )
        self._poll_thread.start()
        with _live_lock:
            _live.add(self)

    def wake(self) -> None:
        notify(self)

    def stop(self) -> None:
        self._stopped.set()
        super().stop()

    def __exit__(self, *args: object, **kwargs: object) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._poll_thread.join()

    def _poll(self) -> None:
        # Gaps in rowids are harmless: each pull asks for everything after the last id seen.
        while not self._stopped.wait(self._poll_interval):
            notify(self)


def wake_all() -> None:
    """Make every polling subscription in this process look for new events now."""
    with _live_lock:
        subscriptions = list(_live)
    for subscription in subscriptions:
        subscription.wake()
