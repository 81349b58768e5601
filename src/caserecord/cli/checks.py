"""Checks `verify --all` runs besides its own: each takes the open store and returns a
callable yielding :class:`~caserecord.audit.Problem` s.

``EXTRA_CHECKS`` is the hook for parts that keep their own record of damage (the views'
quarantine list): append a function here and its findings join the report, its summary
and its exit code."""

import json
from collections.abc import Callable, Iterable
from pathlib import Path

from caserecord.application import CaseRecords
from caserecord.application.integrity import TreeHeadError
from caserecord.audit import ExtraCheck, Problem
from caserecord.persistence.checkpoint import checkpoint_is_authentic, load_public_key
from caserecord.persistence.merkle import verify_consistency


def quarantine_problems(records: CaseRecords) -> ExtraCheck:
    """Streams the read models set aside at an event they could not apply: the views lack
    them, so the store is not whole even where every row's MAC holds."""

    def check() -> Iterable[Problem]:
        return [
            Problem(
                "quarantine",
                f"view {q.view}",
                f"stream set aside at position {q.position}: {q.problem}",
                stream_id=q.stream_id,
                version=q.version,
            )
            for q in records.quarantined_streams()
        ]

    return check


EXTRA_CHECKS: list[Callable[[CaseRecords], ExtraCheck]] = [quarantine_problems]


def checkpoint_problems(records: CaseRecords, checkpoint: Path, public_key: Path) -> ExtraCheck:
    """The store's tree extends the one a signed checkpoint holds (not rolled back)."""

    def check() -> Iterable[Problem]:
        signed = json.loads(checkpoint.read_text())
        if not checkpoint_is_authentic(signed, load_public_key(public_key.read_bytes())):
            return [Problem("checkpoint", str(checkpoint), "its signature does not verify")]
        if "tree" not in signed:
            return [Problem("checkpoint", str(checkpoint), "it was made before the tree")]
        old_size, old_root = int(signed["tree"]["size"]), bytes.fromhex(signed["tree"]["root"])
        try:
            head = records.tree_head()
            proof = records.tree_consistency(old_size)
        except TreeHeadError as e:
            return [Problem("tree", "head", str(e))]
        if not verify_consistency(old_size, head.size, old_root, head.root, proof):
            return [
                Problem(
                    "tree",
                    "head",
                    f"the tree is not an extension of the one signed at {signed['issued_at']}: "
                    "events before it were removed, reordered or rewritten",
                )
            ]
        return []

    return check
