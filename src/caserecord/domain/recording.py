"""Who records an event, when it happened and why: the envelope every event carries.

The application sets a :class:`Recording` around each command; the aggregates read it when
they create events.  Replaying stored events never reads it, so replay does not depend on
who is replaying.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import uuid4

from caserecord.domain.errors import (
    EffectiveTimeInFutureError,
    InvalidValueError,
    MissingActorError,
)
from caserecord.domain.values import EARLIEST_EFFECTIVE, Role, parse


@dataclass(frozen=True)
class Actor:
    """Whoever records an event: a person acting in a role for one agency (the tenant)."""

    id: str
    role: str
    agency_id: str

    def __post_init__(self) -> None:
        parse(Role, self.role, "actor role")
        if not self.id.strip() or not self.agency_id.strip():
            raise InvalidValueError("actor id and agency are required")


@dataclass(frozen=True)
class Recording:
    actor: Actor
    effective_at: datetime | None = None
    reason: str = ""
    correlation_id: str = field(default_factory=lambda: str(uuid4()))

    def __post_init__(self) -> None:
        if self.effective_at is None:
            return
        if self.effective_at.utcoffset() is None:
            raise InvalidValueError("effective_at must include a timezone offset")
        # Stored as UTC so every reader (views, replay, other processes) compares like with like;
        # a moment UTC cannot hold (year 1 with a positive offset) would stall them all later.
        try:
            utc = self.effective_at.astimezone(UTC)
        except OverflowError:
            raise InvalidValueError("effective_at is outside the range of UTC dates") from None
        if utc.year < EARLIEST_EFFECTIVE:
            raise InvalidValueError(f"effective_at must be in {EARLIEST_EFFECTIVE} or later")
        object.__setattr__(self, "effective_at", utc)


_current: ContextVar[Recording | None] = ContextVar("caserecord_recording", default=None)


@contextmanager
def recording(rec: Recording) -> Iterator[Recording]:
    token = _current.set(rec)
    try:
        yield rec
    finally:
        _current.reset(token)


def envelope_for(recorded_at: datetime) -> dict[str, object]:
    """Envelope fields for an event recorded now, checked against the recording context."""
    rec = _current.get()
    if rec is None:
        raise MissingActorError("an event can only be recorded by a known actor")
    effective_at = rec.effective_at or recorded_at
    if effective_at > recorded_at:
        raise EffectiveTimeInFutureError(
            f"effective_at {effective_at.isoformat()} is after the recording time "
            f"{recorded_at.isoformat()}: an event cannot be recorded before it happens"
        )
    return {
        "actor_id": rec.actor.id,
        "actor_role": rec.actor.role,
        "actor_agency_id": rec.actor.agency_id,
        "effective_at": effective_at,
        "reason": rec.reason,
        "correlation_id": rec.correlation_id,
    }
