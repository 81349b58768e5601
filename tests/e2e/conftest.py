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
