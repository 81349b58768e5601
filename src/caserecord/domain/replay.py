"""Applying a stream's recorded events to its aggregate, as the library's ``mutate`` does,
without the per-event work that replaying events already recorded does not need.

``mutate`` on an ``@event`` method's event copies the event's attributes, filters them
against the method's parameters (a set lookup per attribute), binds the method and walks
the ``apply`` chain of the event's bases: a large share of the cost of replaying a case.
Replay runs on every "as of" read and for every event of a view rebuild.
"""

import inspect
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from eventsourcing.domain import Aggregate, DecoratedFuncCaller, decorated_funcs

A = TypeVar("A", bound=Aggregate)


@cache
def _method_of(event_class: Any) -> tuple[Callable[..., None], tuple[str, ...]] | None:
    """The ``@event`` method an event class applies and the names it takes, or None
    when the class applies itself some other way (then ``mutate`` does it)."""
    if getattr(event_class, "apply", None) is not DecoratedFuncCaller.apply:
        return None
    method = decorated_funcs.get(event_class)
    if method is None:
        return None
    names = tuple(name for name in inspect.signature(method).parameters if name != "self")
    return method, names


def apply_next(aggregate: A | None, event: Any) -> A:
    """``event.mutate(aggregate)``, for an event of the aggregate's stream.  The checks
    that it is the aggregate's and the next version stay: a missing row in the store must
    stop a replay, not slip past it.  Anything unusual goes through ``mutate``."""
    state = event.__dict__
    event_class: Any = type(event)
    found = _method_of(event_class) if aggregate is not None else None
    if (
        found is None
        or aggregate is None
        or state["originator_version"] != aggregate.version + 1
        or not (state["originator_id"] is aggregate.id or state["originator_id"] == aggregate.id)
    ):
        mutated: A = event.mutate(aggregate)
        return mutated
    method, names = found
    method(aggregate, **{name: state[name] for name in names if name in state})
    aggregate.version = state["originator_version"]
    aggregate.modified_on = state["timestamp"]
    return aggregate
