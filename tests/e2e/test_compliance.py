"""Compliance over HTTP: hash-chain verification and the audit trail."""

from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from caserecord.access import Tables
from caserecord.config import Settings
from caserecord.projections import VIEW_NAMES
from caserecord.store import open_records
from tests.e2e.http import Api, a_case, forget_cached, serve
from tests.e2e.test_stored_damage import write_assessment_directly
from tests.integration.stored_rows import StoredRows
from tests.integration.test_signed_checkpoints import rewrite_history, write_checkpoint


def test_a_case_verifies_and_a_tampered_event_is_named(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    path = f"/v1/cases/{case_id}/verification"
    intact = sqlite_api.get(path, role="compliance_reviewer").json()
    records = open_records(sqlite_api.settings)
    Tables(records).execute(
        "UPDATE stored_events SET state = CAST(REPLACE(CAST(state AS TEXT), 'sobriety', "
        "'SOBRIETY') AS BLOB) WHERE originator_version = 1 AND originator_id = ?",
        (case_id.replace("-", ""),),
    )
    records.close()
    forget_cached(sqlite_api)

    tampered = sqlite_api.get(path, role="compliance_reviewer").json()

    assert intact["ok"] is True
    assert [s["versions_checked"] for s in intact["streams"]] == [1, 1]
    assert intact["checkpoint"]["status"] == "not_configured"
    assert tampered["ok"] is False
    assert tampered["streams"][0]["first_bad_version"] == 1


def test_the_audit_trail_lists_who_recorded_what_within_the_agency(api: Api) -> None:
    client_id, case_id = a_case(api)
    a_case(api, agency="agency-b")
    # The reviewer and the supervisor wrote nothing: they wait for the writers' positions.
    head = api.client.app.state.runtime.records.recorder.max_notification_id()  # type: ignore[attr-defined]
    reached = {"X-Min-Position": str(head)}

    trail = api.get("/v1/audit-trail", role="compliance_reviewer", headers=reached).json()
    of_case = api.get("/v1/audit-trail", role="supervisor", case_id=case_id, headers=reached)
    trail, of_case = trail["items"], of_case.json()["items"]

    assert [(r["event_type"], r["agency_id"]) for r in trail] == [
        ("Registered", "agency-a"),
        ("Opened", "agency-a"),
    ]
    assert [r["event_type"] for r in of_case] == ["Opened"]
    assert trail[0]["client_id"] == client_id


def test_the_audit_trails_event_type_filter_says_which_spelling_of_a_type_it_matches(
    api: Api,
) -> None:
    _, case_id = a_case(api)
    note = {"text": "called", "contact_kind": "client", "contact_mode": "phone"}
    written = api.post(f"/v1/cases/{case_id}/notes", note)
    reached = {"X-Min-Position": written.headers["X-Record-Position"]}

    def trail(event_type: str) -> Any:
        return api.get("/v1/audit-trail", role="supervisor", event_type=event_type, headers=reached)

    assert [r["case_id"] for r in trail("ProgressNoteRecorded").json()["items"]] == [case_id]
    assert trail("Case.ProgressNoteRecorded").status_code == 422
    operation = api.get("/openapi.json").json()["paths"]["/v1/audit-trail"]["get"]
    [parameter] = [p for p in operation["parameters"] if p["name"] == "event_type"]
    assert "not `Case.ProgressNoteRecorded`" in parameter["description"]


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("Case.ProgressNoteRecorded", "ProgressNoteRecorded"),
        ("ProgresNoteRecorded", "ProgressNoteRecorded"),
        ("Nothing", None),
    ],
)
def test_an_event_type_filter_naming_no_event_type_answers_422_naming_it_and_the_types(
    sqlite_api: Api, typed: str, hint: str | None
) -> None:
    answer = sqlite_api.get("/v1/audit-trail", role="supervisor", event_type=typed)

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == "validation_failed"
    [error] = problem["errors"]
    assert error["path"] == "query:event_type" and error["type"] == "unknown_event_type"
    assert f"{typed!r} is not an event type" in error["message"]
    assert ("did you mean ProgressNoteRecorded?" in error["message"]) == (hint is not None)
    assert "AccountingRequested, AddendumAppended," in error["message"]


def test_compliance_routes_are_refused_to_caseworkers(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)

    assert sqlite_api.get("/v1/audit-trail").status_code == 403
    assert sqlite_api.get(f"/v1/cases/{case_id}/verification").status_code == 403


def test_a_read_that_needs_a_deleted_event_answers_a_problem_naming_it(sqlite_api: Api) -> None:
    _, case_id = a_case(sqlite_api)
    note = {"text": "Home visit.", "contact_kind": "client", "contact_mode": "in_person"}
    version = sqlite_api.created(f"/v1/cases/{case_id}/notes", note)["version"]
    sqlite_api.created(f"/v1/cases/{case_id}/notes", note)  # the deleted one is not the last
    records = open_records(sqlite_api.settings)
    Tables(records).execute(
        "DELETE FROM stored_events WHERE originator_version = ? AND originator_id = ?",
        (version, case_id.replace("-", "")),
    )
    records.close()

    page = sqlite_api.get(f"/v1/cases/{case_id}/notes")  # the case itself is cached
    forget_cached(sqlite_api)
    replayed = sqlite_api.get(f"/v1/cases/{case_id}")  # read from the store: a gap

    for response in (page, replayed):
        assert response.status_code == 500
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "record_incomplete"
    assert f"no event at version {version} of stream {case_id}" in page.json()["detail"]
    assert "/verification" in replayed.json()["detail"]


def test_a_tampered_case_answers_its_verification_with_where_and_how(api: Api) -> None:
    _, case_id = a_case(api)
    note = {"text": "Home visit.", "contact_kind": "client", "contact_mode": "in_person"}
    flipped = api.created(f"/v1/cases/{case_id}/notes", note)["version"]
    deleted = api.created(f"/v1/cases/{case_id}/notes", note)["version"]
    api.created(f"/v1/cases/{case_id}/notes", note)
    rows = StoredRows(api.settings.database_url)
    rows.flip_byte(UUID(case_id), flipped, 0)  # the first byte: the event no longer decodes
    rows.delete_event(UUID(case_id), deleted)
    forget_cached(api)
    path = f"/v1/cases/{case_id}/verification"

    answer = api.get(path, role="compliance_reviewer")
    other_agency = api.get(path, role="compliance_reviewer", agency="agency-b")

    assert api.get(f"/v1/cases/{case_id}").status_code == 500  # the case cannot be served
    assert answer.status_code == 200, answer.text
    assert answer.json()["ok"] is False
    assert answer.json()["streams"][0] | {"head_hash": ""} == {
        "stream_id": case_id,
        "ok": False,
        "versions_checked": flipped - 1,
        "head_hash": "",
        "first_bad_version": flipped,
        "problem": "the stored event does not match its hash",
    }
    assert other_agency.status_code == 404


def test_a_stream_the_views_cannot_apply_is_listed_in_the_quarantine_of_its_agency_alone(
    api: Api,
) -> None:
    _, case_id = a_case(api)
    version = write_assessment_directly(api, case_id, lambda _: b"{not json")
    head = api.client.app.state.runtime.records.recorder.max_notification_id()  # type: ignore[attr-defined]
    api.get("/v1/caseloads", headers={"X-Min-Position": str(head)})  # the views are there

    listed = api.get("/v1/quarantine", role="compliance_reviewer", limit=2)
    other_agency = api.get("/v1/quarantine", role="compliance_reviewer", agency="agency-b")
    case = api.get(f"/v1/cases/{case_id}/plan")

    assert listed.status_code == 200, listed.text
    walked, cursor = listed.json()["items"], listed.json()["next"]
    while cursor is not None:
        page = api.get("/v1/quarantine", role="compliance_reviewer", limit=2, cursor=cursor)
        walked, cursor = walked + page.json()["items"], page.json()["next"]
    assert {(q["stream_id"], q["version"]) for q in walked} == {(case_id, version)}
    assert sorted(q["view"] for q in walked) == sorted(VIEW_NAMES)  # one row per view
    assert other_agency.json() == {"items": [], "next": None}
    assert (case.status_code, case.json()["code"]) == (500, "record_incomplete")
    assert f"stream {case_id} at version {version}" in case.json()["detail"]


def test_the_verification_names_the_signed_checkpoint_that_covers_the_case(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=sqlite_url,
        checkpoint_dir=tmp_path / "signing" / "checkpoints",
        checkpoint_public_key=tmp_path / "signing" / "signing.pub",
    )
    for api in serve(settings):
        _, case_id = a_case(api)
        records = open_records(settings)
        write_checkpoint(records, tmp_path / "signing", "cp.json", "2026-01-01T00:00:00Z")
        records.close()

        found = api.get(f"/v1/cases/{case_id}/verification", role="compliance_reviewer").json()

        assert found["ok"] is True
        assert found["checkpoint"]["status"] == "covered"
        assert found["checkpoint"]["checkpoint"] == "cp.json"
        assert [s["signed_version"] for s in found["checkpoint"]["streams"]] == [1, 1]


def test_a_rewrite_with_its_links_recomputed_answers_200_not_ok_at_the_rewritten_version(
    api: Api,
) -> None:
    _, case_id = a_case(api)
    note = {"text": "Home visit.", "contact_kind": "client", "contact_mode": "in_person"}
    rewritten = api.created(f"/v1/cases/{case_id}/notes", note)["version"]
    last = api.created(f"/v1/cases/{case_id}/notes", note)["version"]
    rows = StoredRows(api.settings.database_url)
    rewrite_history(rows, UUID(case_id), rewritten, last)  # the chain verifies again
    forget_cached(api)

    answer = api.get(f"/v1/cases/{case_id}/verification", role="compliance_reviewer")

    assert answer.status_code == 200, answer.text
    assert answer.json()["ok"] is False
    (case,) = [s for s in answer.json()["streams"] if s["stream_id"] == case_id]
    assert (case["first_bad_version"], case["versions_checked"]) == (rewritten, rewritten - 1)
    assert "MAC" in case["problem"]
