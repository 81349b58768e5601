"""Reading a record back from its events: a faster projector, and the repository that uses it."""

from collections.abc import Callable, Iterable, Iterator
from typing import Any
from uuid import UUID

from eventsourcing.application import Repository
from eventsourcing.domain import OriginatorVersionError
from eventsourcing.persistence import PersistenceError

from caserecord.domain.base import RecordAggregate
from caserecord.domain.replay import apply_next
from caserecord.persistence.chain import UnreadableEventError


def project(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's projector without its per-event ``isinstance`` check against a
    runtime-checkable Protocol: on Python 3.11 that check costs more than applying the
    event, and every replay, "as of" read and cache fast-forward pays
    it.  The events come from this application's own mapper, and apply as ``apply_next``
    does (``mutate`` without its per-event copying and filtering)."""
    version = getattr(aggregate, "version", 0)
    stream = getattr(aggregate, "id", None)
    try:
        for event in events:
            stream, version = event.originator_id, event.originator_version
            aggregate = apply_next(aggregate, event)
    except (OriginatorVersionError, PersistenceError):
        raise  # a gap in the stream, or the store: reported as such
    except Exception as error:  # whatever a damaged event makes decoding or applying raise
        raise unreadable(stream, version, aggregate, error) from error
    return aggregate


def unreadable(stream: Any, version: int, aggregate: Any, error: Exception) -> Exception:
    """The failing event is the one being applied, or (when decoding failed before it was
    known) the one after the last applied."""
    if aggregate is not None and getattr(aggregate, "version", None) == version:
        version += 1
    return UnreadableEventError(stream, version, type(error).__name__)


def project_keeping(read: dict[int, Any]) -> Callable[[Any, Iterable[Any]], Any]:
    """``project``, keeping the events it applies (not the snapshot) in ``read`` by
    version: a view of the case shows the latest entries, which are mostly the ones just
    replayed, and need not read and decode them again."""

    def kept(events: Iterable[Any]) -> Iterator[Any]:
        for event in events:
            yield event  # applied by ``project`` before the next is asked for
            if isinstance(event, RecordAggregate.Event):
                read[event.originator_version] = event

    def projector(aggregate: Any, events: Iterable[Any]) -> Any:
        # Through ``project``, so a damaged event is named as unreadable here too.
        return project(aggregate, kept(events))

    return projector


class CaseRepository(Repository[UUID]):
    def get(self, aggregate_id: UUID, **options: Any) -> Any:
        options.setdefault("projector_func", project)
        return super().get(aggregate_id, **options)
