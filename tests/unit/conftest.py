"""Fixtures for domain unit tests: plain aggregates, no store."""

from collections.abc import Iterator

import pytest

from caserecord.domain.recording import Recording
from tests.unit.case_builders import CORRELATION_ID, as_actor


@pytest.fixture
def as_worker() -> Iterator[Recording]:
    """Commands on plain aggregates recorded as the caseworker, under a known correlation id
    (modules of domain tests use it for every test with ``pytest.mark.usefixtures``)."""
    with as_actor(correlation_id=CORRELATION_ID) as rec:
        yield rec
