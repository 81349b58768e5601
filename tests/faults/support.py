"""Helpers for fault tests: a seeded store to start a real service process on, and checks
that the store is whole afterwards.  CASERECORD_SOAK=1 turns the bounded loops into a long
soak."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from caserecord.access import Tables
from caserecord.application import CaseRecords
from caserecord.config import Settings
from tests.faults.service import Service

SOAK = os.environ.get("CASERECORD_SOAK", "") not in ("", "0")


def rounds(default: int, soak: int) -> int:
    return soak if SOAK else default


@dataclass
class Seeded:
    settings: Settings
    token: str
    cases: list[UUID]
    log_dir: Path

    def service(self, **kwargs: Any) -> Service:
        return Service(self.settings.database_url, self.log_dir, **kwargs)


def scalar(tables: Tables, statement: str) -> int:
    with tables.cursor(commit=False) as c:
        c.execute(tables.sql(statement))
        row = c.fetchone()
    return int(next(iter(row.values())) if isinstance(row, dict) else row[0])


def events_table(records: CaseRecords) -> str:
    name: str = records.recorder.events_table_name  # type: ignore[attr-defined]
    return name.split(".")[-1]  # PostgreSQL's is schema-qualified; {t} adds the schema


def assert_store_whole(records: CaseRecords, streams: list[UUID]) -> None:
    """Every event has its chain row, every stream verifies, nothing is half-written."""
    tables = Tables(records)
    events = scalar(tables, "SELECT COUNT(*) FROM {t}" + events_table(records))
    links = scalar(tables, "SELECT COUNT(*) FROM {t}event_chain")
    assert links == events, f"{events} events but {links} hash-chain rows"
    for stream in streams:
        verification = records.verify_stream(stream)
        assert verification.ok, verification
