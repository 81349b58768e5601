"""The aggregate base every record type shares: the event envelope and its guards."""

import copy
import pickle
from datetime import datetime
from typing import Any, Self
from uuid import UUID

from eventsourcing.domain import Aggregate, CanInitAggregate, CanMutateAggregate

from caserecord.domain.entities import sharing_sealed_chunks
from caserecord.domain.errors import ReasonRequiredError
from caserecord.domain.recording import envelope_for


class RecordAggregate(Aggregate):
    class Event(Aggregate.Event):
        """Envelope: who recorded it, when it happened (effective) and why.

        ``timestamp`` (from the library) is when it was recorded.
        """

        actor_id: str
        actor_role: str
        actor_agency_id: str
        effective_at: datetime
        reason: str
        correlation_id: str

    class Created(Event, Aggregate.Created):
        """The first event of a record; declared so type checkers see its envelope too."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        # The aggregate cache hands every command a deep copy. A record holds plain data, and
        # a pickle round trip is faster than deepcopy; the sealed chunks of its ledgers are
        # never changed, so they are passed by reference rather than copied (a long case
        # then copies as cheaply as a new one). The generic copy stays as the fallback for
        # anything pickle refuses.
        try:
            copied: Self = copy_by_pickle(self)
        except (pickle.PicklingError, TypeError, AttributeError):
            copied = object.__new__(type(self))
            memo[id(self)] = copied
            copied.__dict__.update(copy.deepcopy(vars(self), memo))
        return copied

    @classmethod
    def _create(
        cls,
        event_class: type[CanInitAggregate[UUID]],
        *,
        id: UUID | None = None,
        **kwargs: Any,
    ) -> Self:
        recorded_at = event_class.create_timestamp()
        envelope = envelope_for(recorded_at)
        return super()._create(event_class, id=id, timestamp=recorded_at, **(envelope | kwargs))

    def trigger_event(self, event_class: type[CanMutateAggregate[UUID]], **kwargs: Any) -> None:
        recorded_at = event_class.create_timestamp()
        envelope = envelope_for(recorded_at)
        super().trigger_event(event_class, timestamp=recorded_at, **(envelope | kwargs))


def copy_by_pickle(obj: Any) -> Any:
    with sharing_sealed_chunks():
        return pickle.loads(pickle.dumps(obj, pickle.HIGHEST_PROTOCOL))


def require_reason(reason: str, action: str) -> None:
    if not reason.strip():
        raise ReasonRequiredError(f"a reason is required to {action}")
