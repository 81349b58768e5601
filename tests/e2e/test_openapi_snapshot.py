"""The OpenAPI document is pinned: a generated client depends on its paths, operation ids and
component names, so a change to it must be deliberate.

When a change is intended, regenerate the snapshot and commit it with the change::

    UPDATE_OPENAPI_SNAPSHOT=1 pytest tests/e2e/test_openapi_snapshot.py
"""

import difflib
import json
import os
from pathlib import Path

from caserecord.api import create_app
from caserecord.config import Settings

SNAPSHOT = Path(__file__).with_name("openapi.snapshot.json")
REGENERATE = "UPDATE_OPENAPI_SNAPSHOT=1 pytest tests/e2e/test_openapi_snapshot.py"


def rendered(document: object) -> str:
    # Key order is kept (not sorted): it is the order /openapi.json is served in.
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def test_the_openapi_document_is_the_committed_snapshot(tmp_path: Path) -> None:
    # Building the document opens no store, so any database URL will do.
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}"))

    current = rendered(app.openapi())

    if os.environ.get("UPDATE_OPENAPI_SNAPSHOT") == "1":
        SNAPSHOT.write_text(current, encoding="utf-8")
    expected = SNAPSHOT.read_text(encoding="utf-8")
    if current != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                current.splitlines(keepends=True),
                fromfile=str(SNAPSHOT.name),
                tofile="create_app(settings).openapi()",
                n=2,
            )
        )
        raise AssertionError(
            "The OpenAPI document differs from the committed snapshot. A generated client "
            "depends on it: if the change is intended, regenerate the snapshot with\n"
            f"    {REGENERATE}\nand commit it; otherwise undo the change.\n\n{diff[:6000]}"
        )
