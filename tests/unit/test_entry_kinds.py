"""The entry index's table of stored topics (``ENTRY_KINDS``), which `verify --all` and a
case's verification read instead of decoding events, against the events that index
themselves (``index_entry``): a new indexed event missing from it would have its rows
reported as made up."""

import inspect

from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic

from caserecord.domain.case import Case
from caserecord.domain.client import Client
from caserecord.persistence.entries import ENTRY_KINDS


def indexed_event_topics() -> set[str]:
    found = set()
    for aggregate in (Case, Client):
        for _, member in inspect.getmembers(aggregate, inspect.isclass):
            if issubclass(member, DomainEvent) and callable(getattr(member, "index_entry", None)):
                found.add(get_topic(member))
    return found


def test_the_entry_kinds_table_names_every_event_that_indexes_itself_and_no_other() -> None:
    assert indexed_event_topics() == set(ENTRY_KINDS)
