"""The eventsourcing library's private parts caserecord relies on (listed, with why, in
persistence/library_internals.py) still have the shape caserecord expects.  These fail
first when an upgrade moves one of them."""

import inspect
import threading
import time
from importlib.metadata import version
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.application import Application, LRUCache
from eventsourcing.persistence import ListenNotifySubscription, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder, POPOTrackingRecorder
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore, SQLiteTrackingRecorder

from caserecord.application import CaseRecords, CaseRepository
from caserecord.persistence.library_internals import (
    has_more_at_hand,
    notify,
    runner_subscription,
)

IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"}


def an_event(stream: Any = None, number: int = 1) -> StoredEvent:
    return StoredEvent(
        originator_id=stream or uuid4(), originator_version=number, topic="t", state=b"{}"
    )


def test_the_internals_were_checked_against_eventsourcing_9_5() -> None:
    assert version("eventsourcing").startswith("9.5.")


def test_a_notified_subscription_reads_an_event_it_was_not_told_of_otherwise() -> None:
    recorder = POPOApplicationRecorder()
    got: list[Any] = []
    with ListenNotifySubscription(recorder=recorder) as subscription:
        reader = threading.Thread(target=lambda: got.append(next(subscription)), daemon=True)
        reader.start()
        time.sleep(0.05)  # its first pull has found nothing
        recorder.insert_events([an_event()])

        reader.join(0.2)
        told_of_nothing = list(got)
        notify(subscription)
        reader.join(5.0)
        subscription.stop()

    assert told_of_nothing == []
    assert len(got) == 1


def test_a_subscription_tells_whether_its_next_event_is_already_at_hand() -> None:
    recorder = POPOApplicationRecorder()
    stream = uuid4()
    recorder.insert_events([an_event(stream, 1), an_event(stream, 2)])
    with ListenNotifySubscription(recorder=recorder) as subscription:
        next(subscription)
        first_then = has_more_at_hand(subscription)
        next(subscription)
        second_then = has_more_at_hand(subscription)
        subscription.stop()

    assert (first_then, second_then) == (True, False)


class Nothing(Projection[POPOTrackingRecorder]):
    name = "nothing"

    def process_event(self, domain_event: Any, tracking: Any) -> None:
        self.view.insert_tracking(tracking)


def test_a_runner_reaches_the_subscription_to_its_applications_recorder() -> None:
    runner = ProjectionRunner(
        application_class=Application,
        projection_class=Nothing,
        view_class=POPOTrackingRecorder,
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
    )
    with runner:
        subscription = runner_subscription(runner)

        assert isinstance(subscription, ListenNotifySubscription)
        assert subscription._recorder is runner.app.recorder


@pytest.mark.parametrize(
    ("recorder", "method"),
    [
        (SQLiteApplicationRecorder, "_insert_events"),
        (PostgresApplicationRecorder, "_insert_events"),
        (PostgresApplicationRecorder, "_insert_stored_events"),
        (PostgresApplicationRecorder, "_fetch_ids_after_insert_events"),
    ],
)
def test_the_recorders_still_have_the_insert_steps_caserecord_extends(
    recorder: type, method: str
) -> None:
    parameters = list(inspect.signature(getattr(recorder, method)).parameters.values())

    assert [p.name for p in parameters[:3]][::2] == ["self", "stored_events"]
    assert len(parameters) == 4 and parameters[3].kind is inspect.Parameter.VAR_KEYWORD


def test_the_sqlite_tracking_statements_name_the_table_caserecord_renames() -> None:
    tracking = SQLiteTrackingRecorder(SQLiteDatastore(":memory:"))

    assert "INTO tracking" in tracking.insert_tracking_statement
    assert "FROM tracking" in tracking.select_max_tracking_id_statement
    assert any(
        "IF NOT EXISTS tracking (" in s for s in tracking.construct_create_table_statements()
    )


def test_the_postgres_tracking_recorder_takes_a_table_name_and_a_list_of_ddl() -> None:
    assert "tracking_table_name" in inspect.signature(PostgresTrackingRecorder).parameters
    source = inspect.getsource(PostgresTrackingRecorder.__init__)
    assert "self.sql_create_statements" in source


def repository_settings(repository: Any) -> dict[str, Any]:
    return {
        name: (type(value), value.maxsize) if isinstance(value, LRUCache) else value
        for name, value in vars(repository).items()
        if not name.startswith("_fastforward_locks")  # fresh locks in each repository
    }


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {
            "AGGREGATE_CACHE_MAXSIZE": "7",
            "AGGREGATE_CACHE_FASTFORWARD": "n",
            "AGGREGATE_CACHE_FASTFORWARD_SKIPPING": "y",
            "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
        },
    ],
)
def test_the_case_repository_is_the_library_repository_with_the_same_settings(
    settings: dict[str, str],
) -> None:
    records = CaseRecords(env={**IN_MEMORY, **settings})
    try:
        libraries = Application.construct_repository(records)

        assert type(records.repository) is CaseRepository
        assert repository_settings(records.repository) == repository_settings(libraries)
    finally:
        records.close()
