"""Decoding stored events so that a damaged one (written by an older version, a bug or a
migration) is named by its stream and version instead of failing a read anonymously.

The service's own replays decode through ``project``; readers that take events from the
log themselves (the timeline, "as of", the event feed, the views) decode through these."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from caserecord.persistence.chain import UnreadableEventError

log = logging.getLogger(__name__)

T = TypeVar("T")


def decoded(mapper: Any, stored: Any) -> Any:
    """The domain event of one stored event (or notification)."""
    try:
        return mapper.to_domain_event(stored)
    except Exception as error:  # whatever a damaged row makes the decoder raise
        raise unreadable_row(stored, error) from error


def presented(event: Any, present: Callable[[Any], T]) -> T:
    """``present(event)``, or the event named as unreadable if it lacks what is read."""
    try:
        return present(event)
    except Exception as error:  # an attribute missing from a stored event, say
        raise UnreadableEventError(
            event.originator_id, event.originator_version, type(error).__name__
        ) from error


def unreadable_row(stored: Any, error: Exception) -> UnreadableEventError:
    return UnreadableEventError(
        stored.originator_id, stored.originator_version, type(error).__name__
    )


@dataclass(frozen=True)
class Unreadable:
    """Stands in a subscription for a stored event that cannot be decoded: views skip it
    (and say so) rather than stop at it for good."""

    originator_id: Any
    originator_version: int
    topic: str
    problem: str


def decoded_or_unreadable(mapper: Any, stored: Any) -> Any:
    """The domain event, or an :class:`Unreadable` standing for it (logged loudly)."""
    try:
        return decoded(mapper, stored)
    except UnreadableEventError as error:
        log.error(
            "stored event at version %s of stream %s (%s) cannot be decoded: %s",
            stored.originator_version,
            stored.originator_id,
            stored.topic,
            error.__cause__,
        )
        return Unreadable(
            stored.originator_id, stored.originator_version, stored.topic, str(error.__cause__)
        )
