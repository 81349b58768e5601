"""Fixtures for fault tests: a store on both kinds, seeded for a real service process."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.provision import init_store
from caserecord.store import open_records
from tests.factories import an_open_case
from tests.faults.service import make_token
from tests.faults.support import Seeded


@pytest.fixture
def seeded(settings: Settings, worker: Actor, tmp_path: Path) -> Iterator[Seeded]:
    """An initialised store with three open cases of agency-a and a token of their caseworker."""
    init_store(settings)
    records = open_records(settings)
    try:
        cases = [an_open_case(records, worker) for _ in range(3)]
    finally:
        records.close()
    yield Seeded(settings, make_token(settings, worker.id), cases, tmp_path)
