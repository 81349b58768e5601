"""The event feed finds an agency's events through the agency index, on both stores, however
sparse they are in a busy shared log; stores made before the index get it from `db init`."""

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from caserecord.api.feed import agency_events
from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.persistence.feed import FeedIndexError
from caserecord.provision import init_store
from caserecord.store import StoreError, open_records
from tests.factories import registrations


def sparse_log(records: CaseRecords, worker: Actor) -> list[int]:
    """Three events of the worker's agency among 5,000 of agency B's; their positions."""
    positions = [records.register_client(worker, given_name="Ana", family_name="Sparse").position]
    records.events.put(registrations(2_500))
    client = records.register_client(worker, given_name="Ben", family_name="Sparse")
    positions.append(client.position)
    records.events.put(registrations(2_500))
    contact = records.add_support_contact(worker, client.id, name="Eve", relationship="friend")
    positions.append(contact.position)
    return positions


def count_calls(records: CaseRecords, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the feed asks the recorder for anything, by method name."""
    calls: dict[str, int] = {}
    recorder = records.recorder
    for name in ("agency_notifications", "select_notifications", "max_notification_id"):
        method: Callable[..., Any] = getattr(recorder, name)

        def counted(*args: Any, _name: str = name, _method: Any = method, **kw: Any) -> Any:
            calls[_name] = calls.get(_name, 0) + 1
            return _method(*args, **kw)

        monkeypatch.setattr(recorder, name, counted)
    return calls


def test_one_request_finds_an_agencys_three_events_among_five_thousand_of_another(
    records: CaseRecords, worker: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    positions = sparse_log(records, worker)
    calls = count_calls(records, monkeypatch)

    events, cursor, has_more, integrity = agency_events(records, "agency-a", after=0, limit=10)
    asked = dict(calls)

    assert [e["position"] for e in events] == positions
    assert [e["type"] for e in events] == ["Registered", "Registered", "SupportContactAdded"]
    assert {e["actor"]["agency_id"] for e in events} == {"agency-a"}
    assert (cursor, has_more) == (records.recorder.max_notification_id(), False)
    assert integrity.intact
    assert asked == {"agency_notifications": 1}


def test_a_full_page_stops_at_its_last_event_and_the_cursor_goes_on_from_there(
    records: CaseRecords, worker: Actor
) -> None:
    positions = sparse_log(records, worker)

    first, cursor, more, _ = agency_events(records, "agency-a", after=0, limit=2)
    rest, end, more_after, _ = agency_events(records, "agency-a", after=cursor, limit=2)
    last, same, _, _ = agency_events(records, "agency-a", after=end, limit=2)

    assert [e["position"] for e in first] == positions[:2]
    assert (cursor, more) == (positions[1], True)
    assert [e["position"] for e in rest] == positions[2:]
    assert (end, more_after) == (records.recorder.max_notification_id(), False)
    assert (last, same) == ([], end)


def test_the_busy_agency_pages_through_its_own_events_only(
    records: CaseRecords, worker: Actor
) -> None:
    mine = set(sparse_log(records, worker))
    seen: list[dict[str, Any]] = []
    after, more = 0, True

    while more:
        page, after, more, _ = agency_events(records, "agency-b", after=after, limit=500)
        seen += page

    assert len(seen) == 5_000
    assert {e["actor"]["agency_id"] for e in seen} == {"agency-b"}
    assert not {e["position"] for e in seen} & mine
    assert [e["position"] for e in seen] == sorted(e["position"] for e in seen)


def test_events_written_without_the_agency_mapper_are_refused_and_nothing_is_written(
    records: CaseRecords, settings: Settings, worker: Actor
) -> None:
    env = settings.eventsourcing_env()
    del env["MAPPER_TOPIC"]
    plain = CaseRecords(env=env)
    before = records.recorder.max_notification_id()

    with pytest.raises(FeedIndexError, match="without its agency"):
        plain.register_client(worker, given_name="Ana", family_name="Unindexed")
    plain.close()

    assert records.recorder.max_notification_id() == before


def drop_feed_index(settings: Settings) -> None:
    """What a store made by an earlier version looks like: events, but no agency index."""
    records = open_records(settings)
    recorder: Any = records.recorder
    if settings.database_url.startswith("sqlite"):
        with recorder.datastore.transaction(commit=True) as c:
            c.execute("DROP TABLE event_agency")
    else:
        with psycopg.connect(settings.database_url.split("?")[0], autocommit=True) as conn:
            conn.execute(f'DROP TABLE "{recorder.datastore.schema}".event_agency')
    records.close()


def test_a_store_from_before_the_index_says_to_run_db_init_and_then_serves_the_feed(
    records: CaseRecords, settings: Settings, worker: Actor
) -> None:
    positions = sparse_log(records, worker)
    drop_feed_index(settings)

    with pytest.raises(StoreError) as refused:
        open_records(settings)
    init_store(settings)
    upgraded = open_records(settings)
    events, _, has_more, integrity = agency_events(upgraded, "agency-a", after=0, limit=10)
    upgraded.close()

    assert "has no event feed index" in str(refused.value)
    assert "run `caserecord db init`" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert [e["position"] for e in events] == positions
    assert has_more is False
    assert integrity.intact


def test_two_processes_writing_one_agency_number_its_feed_without_a_gap(
    records: CaseRecords, settings: Settings, worker: Actor
) -> None:
    other = open_records(settings)  # another process's recorder on the same store
    try:
        for n in range(3):
            records.register_client(worker, given_name="Ana", family_name=f"One{n}")
            other.register_client(worker, given_name="Ben", family_name=f"Two{n}")
            other.register_client(worker, given_name="Cy", family_name=f"Two{n}")
        found = records.store.agency_notifications("agency-a", after=0, limit=100)
        *_, integrity = agency_events(other, "agency-a", after=0, limit=100)
    finally:
        other.close()

    assert [number for _, number in found.rows] == list(range(1, 10))
    assert integrity.intact
