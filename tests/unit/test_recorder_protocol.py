"""Both configured recorders offer what CaseRecorder promises, so the typed handle
(``CaseRecords.store``) cannot name a method one of them lacks."""

import inspect

import pytest

from caserecord.persistence.postgres import ChainedPostgresApplicationRecorder
from caserecord.persistence.recorder import CaseRecorder
from caserecord.persistence.sqlite import ChainedSQLiteApplicationRecorder

# Checked by mypy: each class must satisfy the protocol structurally.
SQLITE: type[CaseRecorder] = ChainedSQLiteApplicationRecorder
POSTGRES: type[CaseRecorder] = ChainedPostgresApplicationRecorder

PROMISED = sorted(
    name
    for name, member in vars(CaseRecorder).items()
    if inspect.isfunction(member) and not name.startswith("_")
)


def test_the_protocol_promises_the_queries_caserecord_adds() -> None:
    assert {"select_versions", "chain_links", "find_idempotency"} <= set(PROMISED)


@pytest.mark.parametrize("recorder", [SQLITE, POSTGRES], ids=["sqlite", "postgres"])
@pytest.mark.parametrize("name", PROMISED)
def test_each_recorder_has_every_promised_method_with_the_same_parameters(
    recorder: type, name: str
) -> None:
    promised = inspect.signature(getattr(CaseRecorder, name))
    offered = inspect.signature(getattr(recorder, name))

    assert list(offered.parameters) == list(promised.parameters)
    assert [p.kind for p in offered.parameters.values()] == [
        p.kind for p in promised.parameters.values()
    ]
