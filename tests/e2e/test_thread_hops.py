"""How often a request goes to the thread pool, counted through anyio's
``to_thread.run_sync`` (which starlette's ``run_in_threadpool`` calls): each hop costs CPU
on the event loop and two context switches, and the token, the caller's staff record and
the log's head are looked up in the route's own thread, not in one each before it."""

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio.to_thread
import pytest

from caserecord.config import Settings
from tests.e2e.http import Api, a_case, serve, staff_the_agency
from tests.e2e.test_plans import a_plan

NOTE = {"text": "Check-in.", "contact_kind": "client", "contact_mode": "phone"}


class Hops:
    def __init__(self, run_sync: Callable[..., Awaitable[Any]]) -> None:
        self.run_sync = run_sync
        self.made: list[str] = []

    async def counted(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.made.append(repr(func)[:120])
        return await self.run_sync(func, *args, **kwargs)

    def of(self, request: Callable[[], Any]) -> tuple[int, list[str]]:
        """The status of ``request()`` and the hops it made."""
        self.made.clear()
        status = request().status_code
        return status, list(self.made)


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> Hops:
    found = Hops(anyio.to_thread.run_sync)
    monkeypatch.setattr(anyio.to_thread, "run_sync", found.counted)
    return found


def staffed(sqlite_url: str, token_cache_seconds: float) -> Iterator[Api]:
    """The API on SQLite, its agency staffed: every request's caller is a staff member."""
    settings = Settings(database_url=sqlite_url, token_cache_seconds=token_cache_seconds)
    for api in serve(settings):
        staff_the_agency(api)
        yield api


@pytest.fixture(params=[0.0, 30.0], ids=["no token cache", "token cache"])
def staffed_api(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Api]:
    yield from staffed(sqlite_url, request.param)


@pytest.fixture
def uncached_api(sqlite_url: str) -> Iterator[Api]:
    """The default deployment: every token is looked up in the store."""
    yield from staffed(sqlite_url, 0.0)


def test_a_read_and_a_write_each_hop_to_the_thread_pool_once(staffed_api: Api, hops: Hops) -> None:
    api = staffed_api
    _, case_id = a_case(api)
    a_plan(api, case_id)
    notes = f"/v1/cases/{case_id}/notes"
    assert api.get(f"/v1/cases/{case_id}/plan").status_code == 200  # the views caught up
    assert api.post(notes, NOTE).status_code == 201

    read = hops.of(lambda: api.get(f"/v1/cases/{case_id}/plan"))
    write = hops.of(lambda: api.post(notes, NOTE))

    assert read[0] == 200 and len(read[1]) == 1, read
    assert write[0] == 201 and len(write[1]) == 1, write


def test_a_malformed_write_is_refused_after_its_callers_checks_in_one_hop(
    uncached_api: Api, hops: Hops
) -> None:
    api = uncached_api
    _, case_id = a_case(api)

    status, made = hops.of(lambda: api.post(f"/v1/cases/{case_id}/notes", {"text": 5}))

    # The error handler, a plain def, makes the checks put off in the thread it runs in.
    assert status == 422 and len(made) == 1, made
