"""The replay shortcut (``apply_next``) against the library's ``mutate``: same state, same
refusals of an event out of place."""

from typing import Any

import pytest
from eventsourcing.domain import CanInitAggregate, OriginatorIDError, OriginatorVersionError

from caserecord.domain.case import Case
from caserecord.domain.client import Client
from caserecord.domain.replay import _method_of, apply_next
from tests.unit.case_builders import as_actor, opened_case, with_note, with_plan


def recorded_case() -> tuple[Case, list[Any]]:
    with as_actor():
        case = opened_case()
        with_plan(case)
        with_note(case)
    return case, list(case.collect_events())


def test_every_event_a_case_or_client_records_takes_the_shortcut() -> None:
    # Every event but the first of a stream (which creates the aggregate) and snapshots.
    later = [
        cls
        for aggregate in (Case, Client)
        for cls in vars(aggregate).values()
        if isinstance(cls, type)
        and issubclass(cls, aggregate.Event)
        and cls is not aggregate.Event
        and not issubclass(cls, CanInitAggregate)
    ]

    assert len(later) > 20
    assert [cls.__name__ for cls in later if _method_of(cls) is None] == []


def test_a_case_replayed_with_the_shortcut_equals_one_replayed_with_mutate() -> None:
    case, events = recorded_case()
    by_library: Any = None
    by_shortcut: Any = None

    for event in events:
        by_library = event.mutate(by_library)
        by_shortcut = apply_next(by_shortcut, event)

    assert vars(by_shortcut) == vars(by_library)
    assert by_shortcut.version == case.version == len(events)


def test_a_missing_version_stops_the_replay_as_mutate_would() -> None:
    _, events = recorded_case()
    replayed: Any = apply_next(None, events[0])

    with pytest.raises(OriginatorVersionError):
        apply_next(replayed, events[2])


def test_an_event_of_another_stream_is_refused_as_mutate_would() -> None:
    _, events = recorded_case()
    _, others = recorded_case()
    replayed: Any = apply_next(None, events[0])

    with pytest.raises(OriginatorIDError):
        apply_next(replayed, others[1])
