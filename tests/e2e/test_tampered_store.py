"""Over HTTP, a token row edited in the database without the integrity key is not trusted,
and neither is an older copy of a revoked token's row restored with its then valid MAC; a
row made up in a case's entry index makes the case's reads refuse it, naming where."""

from uuid import uuid4

import pytest

from caserecord.access import Tables, TokenStore
from caserecord.store import open_records
from tests.e2e.http import Api, a_case
from tests.integration.stored_rows import StoredRows


def test_a_token_whose_role_was_raised_in_the_database_is_refused(api: Api) -> None:
    assert api.get("/v1/caseloads").status_code == 200
    rows = StoredRows(api.settings.database_url)
    rows._run("UPDATE api_tokens SET role='admin' WHERE name='caseworker@agency-a'")

    response = api.get("/v1/caseloads")

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_revoked_tokens_older_row_restored_in_the_database_is_refused(api: Api) -> None:
    records = open_records(api.settings)
    try:
        info, secret = TokenStore(Tables(records)).create(
            agency_id="agency-a", role="admin", name="leaver"
        )
    finally:
        records.close()
    api.tokens["agency-a", "leaver"] = secret
    assert api.get("/v1/tokens", role="leaver").status_code == 200
    rows = StoredRows(api.settings.database_url)
    (before,) = rows._run("SELECT revoked_at, mac FROM api_tokens WHERE token_id=?", info.token_id)
    revoked = api.post(f"/v1/tokens/{info.token_id}/revocation", role="admin")
    assert revoked.status_code == 200, revoked.text
    rows._run("UPDATE api_tokens SET revoked_at=?, mac=? WHERE token_id=?", *before, info.token_id)

    response = api.get("/v1/tokens", role="leaver")

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert api.get("/v1/tokens", role="admin").status_code == 200


@pytest.mark.parametrize("read", ["", "/notes", "/notes/{note_id}"])
def test_a_note_made_up_in_the_entry_index_is_refused_as_a_damaged_record_naming_where(
    api: Api, read: str
) -> None:
    _, case_id = a_case(api)
    note = {"text": "Check-in.", "contact_kind": "client", "contact_mode": "phone"}
    api.created(f"/v1/cases/{case_id}/notes", note)
    note_id = str(uuid4())
    StoredRows(api.settings.database_url)._run(
        "INSERT INTO case_entries (stream_id, version, kind, entity_id) VALUES (?,?,?,?)",
        case_id,
        1,  # the intake
        "note",
        note_id,
    )

    response = api.get(f"/v1/cases/{case_id}" + read.format(note_id=note_id))

    assert response.status_code == 500
    problem = response.json()
    assert problem["code"] == "record_incomplete"
    assert f"names a note ({note_id}) at version 1" in problem["detail"]
    assert "/verification" in problem["detail"]
