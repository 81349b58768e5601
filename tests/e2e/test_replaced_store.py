"""The SQLite file deleted or replaced under a running service: writes answer 503 instead of
being acknowledged into a file nobody will open again, and nothing acknowledged is lost."""

import os
import sqlite3
from uuid import UUID

from caserecord.domain.recording import Actor
from caserecord.store import open_records
from tests.e2e.http import Api, a_case

NOTE = {"text": "Home visit.", "contact_kind": "client", "contact_mode": "in_person"}


def database_path(api: Api) -> str:
    return api.settings.database_url.removeprefix("sqlite:///")


def restore_a_copy_over(path: str) -> None:
    """What a restore from backup does: a copy of the file put in its place (a new inode)."""
    with sqlite3.connect(path) as live:
        live.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with sqlite3.connect(f"{path}.restored") as copy:
            live.backup(copy)
    live.close()
    copy.close()
    os.replace(f"{path}.restored", path)


def test_a_write_after_the_file_was_replaced_answers_503_and_the_acknowledged_ones_stay(
    sqlite_api: Api,
) -> None:
    _, case_id = a_case(sqlite_api)
    kept = sqlite_api.created(f"/v1/cases/{case_id}/notes", NOTE)["version"]
    restore_a_copy_over(database_path(sqlite_api))

    refused = sqlite_api.post(f"/v1/cases/{case_id}/notes", NOTE)

    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["Retry-After"]
    assert refused.json()["code"] == "store_unavailable"
    assert "replaced or deleted" in refused.json()["detail"]
    restarted = open_records(sqlite_api.settings)  # a service started again on the path
    case = restarted.get_case(Actor("worker-1", "caseworker", "agency-a"), UUID(case_id))
    restarted.close()
    assert case["version"] == kept


def test_a_write_after_the_file_was_deleted_answers_503(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    os.remove(database_path(sqlite_api))

    refused = sqlite_api.post(f"/v1/cases/{case_id}/notes", NOTE)
    client = sqlite_api.post("/v1/clients", {"given_name": "A", "family_name": "B"})

    assert (refused.status_code, client.status_code) == (503, 503)
    assert refused.json()["code"] == "store_unavailable"
