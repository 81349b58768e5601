"""A live view write on PostgreSQL is one round trip: BEGIN, the rows, the guarded move of
the view's position and COMMIT sent together; a view another runner moved meanwhile gets
none of the rows, and a real conflict still surfaces as one."""

import time
from typing import Any

import pytest
from benchmarks.count_statements import counting
from eventsourcing.persistence import IntegrityError, Tracking
from psycopg_pool import ConnectionPool

from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.projections.runner import APPLICATION_NAME, PROJECTIONS, construct_view
from caserecord.projections.service import service_env
from caserecord.projections.sql import PositionMovedError, PostgresView, Statement, View
from caserecord.provision import init_store
from caserecord.store import open_records
from tests.factories import an_open_case

pytestmark = pytest.mark.postgres


def settled(pool: ConnectionPool[Any]) -> None:
    pool.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stats = pool.get_stats()
        if stats["pool_available"] == stats["pool_size"]:
            return
        time.sleep(0.01)


def audit_rows(view: View) -> int:
    return int(view.db.query("SELECT COUNT(*) AS n FROM {s}view_audit")[0]["n"])


def test_a_live_view_write_is_one_round_trip_and_a_view_moved_meanwhile_gets_nothing(
    postgres_url: str, worker: Actor
) -> None:
    init_store(Settings(database_url=postgres_url))
    records = open_records(Settings(database_url=postgres_url))
    an_open_case(records, worker)
    an_open_case(records, worker)
    notifications = records.recorder.select_notifications(1, 3)
    with counting(postgres_url) as (counter, url):
        env = service_env(Settings(database_url=url))
        view, other = construct_view("audit_trail", env), construct_view("audit_trail", env)
        projection = PROJECTIONS["audit_trail"](view=view)
        writes: list[list[Statement]] = [
            projection.writes_for(records.mapper.to_domain_event(n), n.id) for n in notifications
        ]
        try:
            view.write(writes[0], Tracking(APPLICATION_NAME, 1), after=0)
            other.write(writes[1], Tracking(APPLICATION_NAME, 2), after=1)  # warm: connected
            for opened in (view, other):
                # The pool opens its connections in the background, and may grow past its
                # minimum after a busy moment: none may open while counting.
                assert isinstance(opened, PostgresView)
                settled(opened.datastore.pool)
            counter.reset()

            other.write(writes[2], Tracking(APPLICATION_NAME, 3), after=2)
            tally = counter.reset()

            with pytest.raises(PositionMovedError, match="now at position 3"):
                view.write(writes[2], Tracking(APPLICATION_NAME, 3), after=2)
            assert audit_rows(view) == 3
            with pytest.raises(IntegrityError):  # the view is where it was: a real conflict
                view.write(writes[2], Tracking(APPLICATION_NAME, 4), after=3)
            assert view.max_tracking_id(APPLICATION_NAME) == 3
        finally:
            view.close()
            other.close()
            records.close()

    assert tally.round_trips == 1, tally.by_text
    assert tally.by_text["COMMIT"] == 1
