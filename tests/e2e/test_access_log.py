"""Reads of client and case data are recorded before the data is returned."""

import sqlite3

from caserecord.access import Tables
from caserecord.config import Settings
from caserecord.store import open_records
from tests.e2e.http import CLIENT, Api, a_case, serve
from tests.e2e.test_console_sessions import signed_in

NOW = "2026-01-05T10:00:00+00:00"


def test_reads_of_a_client_and_its_case_are_listed_in_the_clients_access_log(api: Api) -> None:
    client_id, case_id = a_case(api)

    api.get(f"/v1/clients/{client_id}", headers={"X-Purpose-Of-Use": "treatment"})
    api.get(f"/v1/cases/{case_id}", role="supervisor")
    log = api.get(f"/v1/clients/{client_id}/access-log", role="compliance_reviewer")

    assert log.status_code == 200
    entries = log.json()["items"]
    assert [(e["actor"]["id"], e["action"], e["purpose"]) for e in entries] == [
        ("caseworker@agency-a", "read_client", "treatment"),
        ("supervisor@agency-a", "read_case", "case_management"),
    ]
    assert entries[0]["subjects"] == [{"client_id": client_id, "case_id": None}]
    assert entries[1]["subjects"] == [{"client_id": client_id, "case_id": case_id}]


def test_a_listing_is_one_entry_naming_every_client_it_showed_and_the_request(
    sqlite_api: Api,
) -> None:
    clients = [a_case(sqlite_api)[0] for _ in range(3)]

    listing = sqlite_api.get("/v1/clients", headers={"X-Request-ID": "req-42"})
    log = sqlite_api.get(f"/v1/clients/{clients[1]}/access-log", role="compliance_reviewer")

    assert listing.headers["x-request-id"] == "req-42"
    searches = [e for e in log.json()["items"] if e["action"] == "search_clients"]
    assert len(searches) == 1
    assert searches[0]["request_id"] == "req-42"
    assert sorted(s["client_id"] for s in searches[0]["subjects"]) == sorted(clients)


def test_a_request_without_an_id_is_given_one(sqlite_api: Api) -> None:
    client_id, _ = a_case(sqlite_api)

    read = sqlite_api.get(f"/v1/clients/{client_id}/access-log", role="supervisor")
    search = sqlite_api.get("/v1/clients", headers={"X-Request-ID": "not a token!"})
    log = sqlite_api.get(f"/v1/clients/{client_id}/access-log", role="supervisor").json()

    assert read.headers["x-request-id"] and search.headers["x-request-id"] != "not a token!"
    assert log["items"][-1]["request_id"] == search.headers["x-request-id"]


def test_the_access_log_pages_with_a_cursor(sqlite_api: Api) -> None:
    client_id, _ = a_case(sqlite_api)
    for _ in range(3):
        sqlite_api.get(f"/v1/clients/{client_id}")

    first = sqlite_api.get(
        f"/v1/clients/{client_id}/access-log", role="compliance_reviewer", limit=2
    ).json()
    rest = sqlite_api.get(
        f"/v1/clients/{client_id}/access-log",
        role="compliance_reviewer",
        cursor=first["next"],
    ).json()

    assert len(first["items"]) == 2
    assert len(rest["items"]) == 1 and rest["next"] is None


def test_a_read_that_cannot_be_recorded_returns_no_data(sqlite_api: Api) -> None:
    client_id, case_id = a_case(sqlite_api)
    records = open_records(sqlite_api.settings)
    Tables(records).execute("DROP TABLE access_log")
    records.close()

    client = sqlite_api.get(f"/v1/clients/{client_id}")
    case = sqlite_api.get(f"/v1/cases/{case_id}")

    for response in (client, case):
        assert response.status_code == 503
        assert response.json()["code"] == "access_log_unavailable"
        assert response.headers["retry-after"]
        assert "Lopez" not in response.text and "sobriety" not in response.text


def test_the_access_log_is_for_auditors_and_only_of_their_agency(sqlite_api: Api) -> None:
    client_id, _ = a_case(sqlite_api)
    path = f"/v1/clients/{client_id}/access-log"

    assert sqlite_api.get(path).status_code == 403
    assert sqlite_api.get(path, role="compliance_reviewer", agency="agency-b").status_code == 404


def test_entries_of_a_log_kept_before_one_entry_per_request_still_name_their_subject(
    sqlite_url: str,
) -> None:
    # A store whose access log has the earlier shape: one row per subject, no request id.
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as db:
        db.execute(
            "CREATE TABLE access_log (entry_id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "agency_id TEXT NOT NULL, actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, "
            "token_id TEXT NOT NULL, action TEXT NOT NULL, purpose TEXT NOT NULL, "
            "client_id TEXT, case_id TEXT, accessed_at TEXT NOT NULL)"
        )
    settings = Settings(database_url=sqlite_url, poll_interval=0.05)

    for api in serve(settings):  # `db init` brings the table up to date
        client = api.created("/v1/clients", CLIENT)["id"]
        records = open_records(settings)
        Tables(records).execute(
            "INSERT INTO access_log (agency_id, actor_id, actor_role, token_id, action, "
            "purpose, client_id, case_id, accessed_at) VALUES (?,?,?,?,?,?,?,?,?)",
            ("agency-a", "old", "caseworker", "t", "read_client", "p", client, None, NOW),
        )
        records.close()
        api.get(f"/v1/clients/{client}", headers={"X-Request-ID": "new-1"})

        log = api.get(f"/v1/clients/{client}/access-log", role="supervisor").json()["items"]

        assert [(e["actor"]["id"], e["request_id"]) for e in log] == [
            ("old", None),
            ("caseworker@agency-a", "new-1"),
        ]
        assert log[0]["subjects"] == log[1]["subjects"] == [{"client_id": client, "case_id": None}]


def delete_behind_the_service(api: Api, entry_id: int) -> None:
    """An insider's DELETE of one access-log entry, straight in the database."""
    records = open_records(api.settings)
    try:
        Tables(records).execute("DELETE FROM {t}access_log WHERE entry_id = ?", (entry_id,))
    finally:
        records.close()


def test_an_entry_deleted_behind_the_service_is_flagged_by_the_pages_around_it(
    api: Api,
) -> None:
    client_id, _ = a_case(api)
    for _ in range(3):
        api.get(f"/v1/clients/{client_id}")
    path = f"/v1/clients/{client_id}/access-log"
    entries = api.get(path, role="compliance_reviewer").json()["items"]
    reads = [e["entry_id"] for e in entries if e["action"] == "read_client"]
    delete_behind_the_service(api, reads[1])
    shown = [e["entry_id"] for e in entries]
    gap_at = shown.index(reads[1])  # the first page ends just before it

    whole = api.get(path, role="compliance_reviewer").json()
    before = api.get(path, role="compliance_reviewer", limit=gap_at).json()
    after = api.get(path, role="compliance_reviewer", cursor=before["next"]).json()

    assert whole["integrity"]["intact"] is False
    [gap] = whole["integrity"]["missing"]
    assert (gap["after_entry"], gap["before_entry"]) == (reads[0], reads[2])
    assert gap["first"] == gap["last"] > 1
    assert after["items"][0]["entry_id"] == reads[2]
    assert after["integrity"] == whole["integrity"]
    assert before["integrity"] == whole["integrity"]  # its look past the page sees the gap
    assert all(e["intact"] for e in whole["items"])


def test_a_whole_access_log_is_intact(api: Api) -> None:
    client_id, case_id = a_case(api)
    api.get(f"/v1/clients/{client_id}")
    api.get(f"/v1/cases/{case_id}")
    api.get("/v1/clients")

    log = api.get(f"/v1/clients/{client_id}/access-log", role="compliance_reviewer", limit=1)
    rest = api.get(
        f"/v1/clients/{client_id}/access-log", role="compliance_reviewer", cursor=log.json()["next"]
    )

    assert log.json()["integrity"] == rest.json()["integrity"] == {"intact": True, "missing": []}


def test_the_consoles_access_log_page_warns_of_an_entry_deleted_behind_the_service(
    sqlite_api: Api,
) -> None:
    client_id, _ = a_case(sqlite_api)
    for _ in range(3):
        sqlite_api.get(f"/v1/clients/{client_id}")
    path = f"/v1/clients/{client_id}/access-log"
    entries = sqlite_api.get(path, role="compliance_reviewer").json()["items"]
    browser = signed_in(sqlite_api)
    page = f"/console/clients/{client_id}/access-log"
    whole = browser.get(page)
    delete_behind_the_service(sqlite_api, entries[-2]["entry_id"])

    gapped = browser.get(page)

    assert whole.status_code == gapped.status_code == 200
    assert "changed behind the service" not in whole.text
    assert "entries are missing from this log" in gapped.text


def test_a_clients_newest_entries_deleted_are_flagged_after_the_next_read(api: Api) -> None:
    client_id, _ = a_case(api)
    for _ in range(3):
        api.get(f"/v1/clients/{client_id}")
    path = f"/v1/clients/{client_id}/access-log"
    kept = api.get(path, role="compliance_reviewer").json()["items"][-2]["entry_id"]
    records = open_records(api.settings)
    try:  # the newest entry (the last read), with its subject rows
        for table in ("access_log_subjects", "access_log"):
            Tables(records).execute(f"DELETE FROM {{t}}{table} WHERE entry_id > ?", (kept,))
    finally:
        records.close()

    api.get(f"/v1/clients/{client_id}")
    log = api.get(path, role="compliance_reviewer").json()

    [gap] = log["integrity"]["missing"]
    assert log["integrity"]["intact"] is False
    assert (gap["after_entry"], gap["before_entry"]) == (kept, log["items"][-1]["entry_id"])
    assert gap["first"] == gap["last"]
