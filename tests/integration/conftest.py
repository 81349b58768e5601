"""Fixtures for integration tests: a store with a story recorded in it."""

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.recording import Actor
from tests.scenario import ScenarioResult, run_core_scenario


@pytest.fixture
def scenario(records: CaseRecords, worker: Actor, supervisor: Actor) -> ScenarioResult:
    """The core scenario (tests/scenario.py) recorded in ``records``; a module narrows or
    extends it by defining a fixture of the same name that asks for this one."""
    return run_core_scenario(records, worker, supervisor)
