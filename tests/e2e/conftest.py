"""Fixtures for end-to-end tests: the API over HTTP (tests/e2e/http.py) on a fresh store."""

from collections.abc import Iterator

import pytest

from caserecord.config import Settings
from tests.e2e.http import Api, serve


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    """The API on both stores (SQLite and PostgreSQL)."""
    yield from serve(Settings(database_url=database_url, poll_interval=0.05))


@pytest.fixture
def sqlite_api(sqlite_url: str) -> Iterator[Api]:
    """The API on SQLite only."""
    yield from serve(Settings(database_url=sqlite_url, poll_interval=0.05))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # schemathesis 4 on pytest 9.2 gives every operation's generated test the same node id,
    # and pytest-xdist then runs only one of them: the operation's label tells them apart.
    for item in items:
        label = getattr(item, "operation_label", None)
        node_id = getattr(item, "_id", None)
        if label and node_id is not None and getattr(node_id, "params", "") is None:
            setattr(item, "_id", node_id.with_params(label))  # noqa: B010
