"""Checks `verify --all` runs besides its own: each takes the open store and returns a
callable yielding :class:`~caserecord.audit.Problem` s.

``EXTRA_CHECKS`` is the hook for parts that keep their own record of damage (the views'
quarantine list): append a function here and its findings join the report, its summary
and its exit code."""

from collections.abc import Callable, Iterable
from pathlib import Path

from caserecord.application import CaseRecords
from caserecord.audit import ExtraCheck, Problem

EXTRA_CHECKS: list[Callable[[CaseRecords], ExtraCheck]] = []


def checkpoint_problems(records: CaseRecords, checkpoint: Path, public_key: Path) -> ExtraCheck:
    def check() -> Iterable[Problem]:
        return []

    return check
