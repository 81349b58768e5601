"""What one read of a case costs in SQL statements on SQLite, counted through the
connections' trace callbacks: a new check or lookup on the read path shows up here as a
failing bound, not as a slower benchmark weeks later."""

import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from caserecord.config import Settings
from caserecord.projections import ProjectionService
from tests.e2e.http import Api, a_case, serve, staff_the_agency
from tests.e2e.test_plans import a_plan

# A read transaction is BEGIN, SELECT, ROLLBACK; the access log's entry BEGIN, two
# INSERTs, the entry's MAC, its subject's head and COMMIT. Every read below asks for the
# token, the caller's staff record and the log's head first, and writes the access log's
# entry last.
BOUNDS = {
    # The views' positions (one query), the quarantine check, the view's row, the case
    # and its client (need to know and consent, once for the request).
    "/plan": 30,
    # The case's chain head (integrity), the case, the quarantine check, the client, the
    # case's latest entries.
    "": 30,
}


class Traced:
    """Every statement sent on a SQLite connection opened while it is installed."""

    def __init__(self) -> None:
        self.on = False
        self.statements: list[str] = []
        self.lock = threading.Lock()

    def connect(self, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = CONNECT(*args, **kwargs)
        connection.set_trace_callback(self.trace)
        return connection

    def trace(self, statement: str) -> None:
        if self.on:
            with self.lock:
                self.statements.append(" ".join(statement.split())[:100])

    def listing(self) -> str:
        return "\n".join(self.statements)


CONNECT = sqlite3.connect


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch) -> Traced:
    found = Traced()
    monkeypatch.setattr(sqlite3, "connect", found.connect)
    return found


@pytest.fixture
def quiet_api(sqlite_url: str, traced: Traced) -> Iterator[Api]:
    """The API on SQLite with no runner of its own in the background (whose polls would be
    counted too): the views are caught up by hand before a read."""
    settings = Settings(database_url=sqlite_url, run_projections=False)
    yield from serve(settings)


def caught_up(settings: Settings) -> None:
    service = ProjectionService(settings)
    try:
        service.catch_up()
    finally:
        service.close()


@pytest.mark.parametrize("part", list(BOUNDS))
def test_a_read_of_a_case_costs_a_bounded_number_of_statements(
    quiet_api: Api, traced: Traced, part: str
) -> None:
    staff_the_agency(quiet_api)
    _, case_id = a_case(quiet_api)
    a_plan(quiet_api, case_id)  # this token's writes: a view's read waits for the views
    caught_up(quiet_api.settings)
    assert quiet_api.get(f"/v1/cases/{case_id}{part}").status_code == 200  # warm the caches

    traced.on = True
    response = quiet_api.get(f"/v1/cases/{case_id}{part}")
    traced.on = False

    assert response.status_code == 200, response.text
    assert len(traced.statements) <= BOUNDS[part], traced.listing()
    assert traced.statements.count("COMMIT") == 1, traced.listing()  # the access log's
