"""The eventsourcing library's private parts caserecord relies on, and why, in one place.

Each is reached only through a function here, and ``tests/unit/test_library_internals.py``
pins its shape for eventsourcing 9.5.x, so an upgrade that moves one fails there first.

* ``ListenNotifySubscription._has_been_notified``, a ``threading.Event``: setting it makes
  the subscription's pull thread read the log now (:func:`notify`).  The library sets it
  only from PostgreSQL's NOTIFY; SQLite has no such channel (``subscription.py`` polls),
  a waiting writer wants its runners to look at once, and a missed NOTIFY must not leave
  a runner idle.  No public method does this.
* ``ListenNotifySubscription._notifications``, ``_notifications_index`` and
  ``_notifications_queue``: the page being handed out and the pages pulled behind it
  (:func:`has_more_at_hand`).  A runner that knows the next event is already at hand
  commits several events as one batch instead of one commit each.  If they change, the
  answer is "no", which is correct, only slower.
* ``BaseProjectionRunner._subscription``, whose public ``subscription`` is the recorder's
  subscription (:func:`runner_subscription`): the runner exposes neither, and the
  supervisor wakes each runner's subscription (see :func:`notify`).

Overrides that have to live in their classes, pinned by the same test:
``_insert_events`` (both recorders) and ``_fetch_ids_after_insert_events`` and
``_insert_stored_events`` (PostgreSQL) in ``persistence/sqlite.py`` and
``persistence/postgres.py``: the hash chain, idempotency keys and feed index are written
in the events' own transaction, and the library offers no other hook inside it.
``insert_tracking_statement`` and ``select_max_tracking_id_statement`` (SQLite) and
``tracking_table_name`` and ``sql_create_statements`` (PostgreSQL) in
``projections/sql.py``: each view keeps its position in a tracking table of its own.
"""

from typing import Any

from eventsourcing.projection import BaseProjectionRunner


def notify(subscription: object) -> None:
    """Make a library subscription pull now, as PostgreSQL's NOTIFY does."""
    event = getattr(subscription, "_has_been_notified", None)
    if event is not None:
        event.set()


def has_more_at_hand(subscription: object) -> bool:
    """Whether the library's subscription holds a next notification already, so that
    asking for it does not wait."""
    held = getattr(subscription, "_notifications", ())
    index = getattr(subscription, "_notifications_index", len(held))
    waiting = getattr(subscription, "_notifications_queue", None)
    return bool(index < len(held) or (waiting is not None and not waiting.empty()))


def runner_subscription(runner: BaseProjectionRunner[Any]) -> object:
    """The recorder's subscription under a projection runner's application subscription."""
    return runner._subscription.subscription
