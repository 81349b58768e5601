"""The console's sessions, forms and headers over HTTP: what a browser is sent, and what
a forged, expired, ended or cross-site request gets."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from caserecord.config import Settings
from caserecord.console.sessions import hashed, now_utc
from caserecord.domain.consent import form_hash
from tests.e2e.http import Api, a_case, serve, staff_the_agency, staff_token
from tests.integration.stored_rows import StoredRows

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def api(sqlite_url: str) -> Iterator[Api]:
    with contextmanager(serve)(Settings(database_url=sqlite_url)) as api:
        yield api


@pytest.fixture
def postgres_api(database_url: str) -> Iterator[Api]:
    with contextmanager(serve)(Settings(database_url=database_url)) as api:
        yield api


def sign_in(client: TestClient, token: str, **extra: str) -> Any:
    form = client.get("/console/sign-in")
    csrf = CSRF.search(form.text)
    assert csrf is not None
    return client.post(
        "/console/sign-in",
        data={"token": token, "csrf_token": csrf.group(1), **extra},
        follow_redirects=False,
    )


def signed_in(api: Api, role: str = "compliance_reviewer", agency: str = "agency-a") -> TestClient:
    client = TestClient(api.client.app, base_url="http://testserver")
    answer = sign_in(client, api.tokens[agency, role])
    assert answer.status_code == 303, answer.text
    return client


def console(api: Api) -> Any:
    app: FastAPI = api.client.app  # type: ignore[assignment]
    return app.state.console


def pages(client_id: str, case_id: str) -> list[str]:
    case = f"/console/cases/{case_id}"
    return [
        "/console/clients",
        "/console/clients?name=Lopez",
        f"/console/clients/{client_id}",
        f"/console/clients/{client_id}/access-log",
        case,
        f"{case}/timeline",
        f"{case}/as-of",
        f"{case}/as-of?axis=effective&moment=0",
        f"{case}/diff",
        f"{case}/verification",
        "/console/audit",
        "/console/caseloads",
        "/console/directory",
        "/console/directory?q=food&need=food-insecurity",
    ]


def test_signing_in_sets_an_http_only_strict_session_cookie_and_the_pages_open(
    postgres_api: Api,
) -> None:
    client = TestClient(postgres_api.client.app, base_url="http://testserver")
    client_id, case_id = a_case(postgres_api)

    answer = sign_in(client, postgres_api.tokens["agency-a", "supervisor"])

    cookie = next(c for c in answer.headers.get_list("set-cookie") if "caserecord_session" in c)
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain HTTP, and not configured
    assert answer.headers["location"] == "/console"
    for path in pages(client_id, case_id):
        assert client.get(path).status_code == 200, path


def test_the_session_cookie_is_secure_behind_tls_or_when_configured(sqlite_url: str) -> None:
    with contextmanager(serve)(Settings(database_url=sqlite_url)) as api:
        tls = TestClient(api.client.app, base_url="https://testserver")
        assert "Secure" in sign_in(tls, api.tokens["agency-a", "caseworker"]).headers["set-cookie"]
    settings = Settings(database_url=sqlite_url, console_secure_cookie=True)
    with contextmanager(serve)(settings) as api:
        plain = TestClient(api.client.app, base_url="http://testserver")
        # Configured: sent over HTTPS only, so a plain-HTTP browser cannot even sign in.
        assert "Secure" in plain.get("/console/sign-in").headers["set-cookie"]
        refused = sign_in(plain, api.tokens["agency-a", "caseworker"])
        assert refused.status_code == 403


def test_a_forged_or_missing_session_cookie_gets_the_sign_in_page(api: Api) -> None:
    _, case_id = a_case(api)
    client = TestClient(api.client.app, base_url="http://testserver")

    missing = client.get(f"/console/cases/{case_id}", follow_redirects=False)
    client.cookies.set("caserecord_session", "forged-" + "x" * 40, path="/console")
    forged = client.get(f"/console/cases/{case_id}", follow_redirects=False)

    assert missing.status_code == forged.status_code == 303
    assert missing.headers["location"] == "/console/sign-in"
    # A cookie that opens no session is taken for one that ended, and the page says so.
    assert forged.headers["location"] == (
        f"/console/sign-in?ended=1&next=%2Fconsole%2Fcases%2F{case_id}"
    )


@pytest.mark.parametrize("edit", ["made_up", "token_changed"])
def test_a_session_row_made_up_or_pointed_at_another_token_in_the_database_is_refused(
    postgres_api: Api, edit: str
) -> None:
    api = postgres_api
    _, case_id = a_case(api)
    client = signed_in(api, "caseworker")
    tokens = console(api).backend.tokens
    (admin,) = [t for t in tokens.list("agency-a") if t.role == "admin"]
    rows = StoredRows(api.settings.database_url)
    if edit == "token_changed":
        rows._run("UPDATE console_sessions SET token_id=?", admin.token_id)
    else:
        client.cookies.clear()
        client.cookies.set("caserecord_session", "chosen-" + "x" * 40, path="/console")
        ((csrf, purpose, at),) = rows._run(
            "SELECT csrf_token, purpose, created_at FROM console_sessions"
        )
        rows._run(
            "INSERT INTO console_sessions (session_hash, token_id, csrf_token, purpose, "
            "created_at, seen_at) VALUES (?,?,?,?,?,?)",
            hashed("chosen-" + "x" * 40), admin.token_id, csrf, purpose, at, at,
        )  # fmt: skip

    answer = client.get(f"/console/cases/{case_id}", follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/sign-in?ended=1&next=")


def test_a_session_idle_too_long_or_past_its_lifetime_is_over(api: Api) -> None:
    client = signed_in(api)
    sessions = console(api).sessions
    assert client.get("/console/clients", follow_redirects=False).status_code == 200

    sessions.clock = lambda: now_utc() + timedelta(minutes=31)
    assert client.get("/console/clients", follow_redirects=False).status_code == 303

    sessions.clock = now_utc
    again = signed_in(api)
    sessions.idle = timedelta(days=30)
    sessions.clock = lambda: now_utc() + timedelta(hours=12, minutes=1)
    assert again.get("/console/clients", follow_redirects=False).status_code == 303
    # Ended for good: back in time it does not come back.
    sessions.clock = now_utc
    assert again.get("/console/clients", follow_redirects=False).status_code == 303


def test_signing_out_ends_the_session_on_the_server(api: Api) -> None:
    client = signed_in(api)
    cookie = client.cookies.get("caserecord_session")
    csrf = CSRF.search(client.get("/console/clients").text)
    assert csrf is not None and cookie

    out = client.post(
        "/console/sign-out", data={"csrf_token": csrf.group(1)}, follow_redirects=False
    )

    assert out.status_code == 303
    replayed = TestClient(api.client.app, base_url="http://testserver")
    replayed.cookies.set("caserecord_session", cookie, path="/console")
    assert replayed.get("/console/clients", follow_redirects=False).status_code == 303


def test_revoking_the_token_ends_its_sessions(api: Api) -> None:
    client = signed_in(api, "caseworker")
    tokens = console(api).backend.tokens
    (mine,) = [t for t in tokens.list("agency-a") if t.role == "caseworker"]

    tokens.revoke(mine.token_id)

    assert client.get("/console/clients", follow_redirects=False).status_code == 303


def test_a_form_post_without_the_session_csrf_token_or_from_another_site_is_refused(
    api: Api,
) -> None:
    client = signed_in(api)
    csrf = CSRF.search(client.get("/console/clients").text)
    assert csrf is not None

    without = client.post("/console/sign-out", data={}, follow_redirects=False)
    wrong = client.post("/console/sign-out", data={"csrf_token": "x"}, follow_redirects=False)
    elsewhere = client.post(
        "/console/sign-out",
        data={"csrf_token": csrf.group(1)},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    fresh = TestClient(api.client.app, base_url="http://testserver")
    sign_in_without = fresh.post(
        "/console/sign-in",
        data={"token": api.tokens["agency-a", "caseworker"]},
        follow_redirects=False,
    )

    for answer in (without, wrong, elsewhere, sign_in_without):
        assert answer.status_code == 403
        assert "The form has expired" in answer.text
    assert "caserecord_session" not in sign_in_without.headers.get("set-cookie", "")
    assert client.get("/console/clients", follow_redirects=False).status_code == 200


def test_a_wrong_token_is_refused_without_being_echoed(api: Api) -> None:
    client = TestClient(api.client.app, base_url="http://testserver")

    answer = sign_in(client, "crt_not-a-real-token-but-secret")

    assert answer.status_code == 401
    assert "unknown or revoked" in answer.text
    assert "crt_not-a-real-token-but-secret" not in answer.text


def test_no_token_appears_in_any_page_url_or_header_after_signing_in(api: Api) -> None:
    client_id, case_id = a_case(api)
    token = api.tokens["agency-a", "compliance_reviewer"]
    client = TestClient(api.client.app, base_url="http://testserver")
    answer = sign_in(client, token)
    seen = [answer]
    for path in pages(client_id, case_id):
        seen += [client.get(path)]
    seen += [client.get(f"/console/cases/{case_id}/export")]

    for response in seen:
        assert token not in response.text
        assert token not in str(response.url)
        assert all(token not in value for value in response.headers.values())
    assert all(token not in c for c in client.cookies.values())


def test_every_page_carries_the_security_headers(api: Api) -> None:
    client_id, case_id = a_case(api)
    client = signed_in(api)
    paths = [
        "/console/sign-in",
        *pages(client_id, case_id),
        "/console/cases/not-a-case",
        "/console/static/console.css",
        "/console/static/console.js",
        "/docs",
        "/redoc",
        "/docs/swagger-init.js",
        "/openapi.json",
    ]

    for path in paths:
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        scripts = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
        assert scripts.split() == ["script-src", "'self'"], path
        assert "frame-ancestors 'none'" in policy, path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["referrer-policy"] == "no-referrer", path
        assert headers["x-content-type-options"] == "nosniff", path


def test_the_pages_hold_no_inline_script(api: Api) -> None:
    client_id, case_id = a_case(api)
    client = signed_in(api)

    for path in [*pages(client_id, case_id), "/docs", "/redoc"]:
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", client.get(path).text, re.S)
        assert all("src=" in attributes and not body.strip() for attributes, body in scripts), path


def test_each_page_view_is_in_the_access_log_with_its_purpose_and_id(api: Api) -> None:
    client_id, case_id = a_case(api)
    client = signed_in(api)

    page = client.get(f"/console/cases/{case_id}")

    view = re.search(r"data-page-view>([0-9a-f]+)<", page.text)
    assert view is not None
    entries = console(api).backend.access_log.for_client("agency-a", client_id)
    (entry,) = [e for e in entries if e["request_id"] == view.group(1)]
    assert entry["action"] == "console_read_case"
    assert entry["purpose"] == "compliance_review"
    assert entry["subjects"] == [{"client_id": client_id, "case_id": case_id}]


def test_the_purpose_chosen_at_sign_in_is_logged(api: Api) -> None:
    client_id, _ = a_case(api)
    client = TestClient(api.client.app, base_url="http://testserver")
    sign_in(client, api.tokens["agency-a", "supervisor"], purpose="quality_assurance")

    client.get(f"/console/clients/{client_id}")

    entries = console(api).backend.access_log.for_client("agency-a", client_id)
    assert entries[-1]["purpose"] == "quality_assurance"


def test_another_agency_gets_not_found_and_nothing_is_logged_for_it(api: Api) -> None:
    client_id, case_id = a_case(api)
    outsider = signed_in(api, agency="agency-b")

    for path in pages(client_id, case_id)[2:10]:
        answer = outsider.get(path)
        assert answer.status_code == 404, path
        assert "Lopez" not in answer.text
    entries = console(api).backend.access_log.for_client("agency-a", client_id)
    assert [e for e in entries if e["actor"]["agency_id"] == "agency-b"] == []


def test_a_role_without_the_right_gets_a_page_saying_so(api: Api) -> None:
    _, case_id = a_case(api)
    worker = signed_in(api, "caseworker")
    admin = signed_in(api, "admin")

    assert worker.get("/console/audit").status_code == 403
    assert worker.get(f"/console/cases/{case_id}/verification").status_code == 403
    assert admin.get(f"/console/cases/{case_id}").status_code == 403
    assert "cannot read client records" in admin.get("/console/about").text


def test_the_as_of_form_works_without_script_from_a_typed_time(api: Api) -> None:
    _, case_id = a_case(api, effective_at="2024-01-01T09:00:00+00:00")
    client = signed_in(api)

    before = client.get(
        f"/console/cases/{case_id}/as-of",
        params={"axis": "effective", "at": "2023-12-31T23:59", "use": "time"},
    )
    after = client.get(
        f"/console/cases/{case_id}/as-of",
        params={"axis": "effective", "at": "2024-01-01T09:00", "use": "time"},
    )

    assert before.status_code == 404 and "had no events then" in before.text
    assert after.status_code == 200 and "As in effect at" in after.text


def test_the_client_page_shows_consents_and_the_accounting_and_logs_reading_them(
    api: Api,
) -> None:
    client_id, case_id = a_case(api, specialty="substance_abuse")
    consent = {
        "recipient_kind": "organisation",
        "recipient": "Bayview Clinic",
        "purpose": "treatment",
        "data": ["substance_use"],
        "form_sha256": form_hash(b"signed form"),
        "expires_on": "2099-12-31",
    }
    kept = api.created(f"/v1/clients/{client_id}/consents", consent)["entity_id"]
    ended = api.created(f"/v1/clients/{client_id}/consents", consent | {"purpose": "housing"})
    api.post(f"/v1/clients/{client_id}/consents/{ended['entity_id']}/revocation", {})
    referral = {"resource_kind": "medical", "organisation": "Bayview Clinic", "service_name": "MAT"}
    api.created(f"/v1/cases/{case_id}/referrals", referral)
    client = signed_in(api, "caseworker")

    page = client.get(f"/console/clients/{client_id}")

    consents = page.text.split("data-consents")[1].split("</table>")[0]
    accounting = page.text.split("data-disclosures")[1].split("</table>")[0]
    assert consents.count("<strong>in force</strong>") == 1
    assert consents.count("<strong>revoked</strong>") == 1
    assert f"consent {kept[:8]} v1" in accounting and "Bayview Clinic" in accounting
    # The data classes read as words, as the purposes and channels beside them do.
    assert "<td>substance use</td>" in consents and "substance use" in accounting
    assert "substance_use" not in consents + accounting
    view = re.search(r"data-page-view>([0-9a-f]+)<", page.text)
    assert view is not None
    entries = console(api).backend.access_log.for_client("agency-a", client_id)
    actions = {e["action"] for e in entries if e["request_id"] == view.group(1)}
    assert {"console_read_consents", "console_read_disclosures"} <= actions


def test_the_client_pages_cases_show_when_each_took_effect_as_opened_and_when_it_was_recorded(
    api: Api,
) -> None:
    client_id, case_id = a_case(api, effective_at="2024-01-01T09:00:00+00:00")
    console(api).backend.catch_up("", console(api).backend.head())
    client = signed_in(api, "caseworker")

    page = client.get(f"/console/clients/{client_id}")

    [row] = re.findall(r"<tr><td><a href=\"/console/cases/[^<]*</a>.*?</tr>", page.text, re.S)
    opened = re.sub(r"<[^>]+>", "", row.split("</td>")[-2])
    # As the case page shows it: the intake was recorded late, and took effect earlier.
    assert opened.startswith("2024-01-01 09:00:00 UTC (recorded 20")
    assert case_id[:8] in row


def test_the_favicon_and_the_print_script_are_served_from_the_package(api: Api) -> None:
    client = signed_in(api)

    page = client.get("/console/clients")
    icon = client.get("/console/static/favicon.svg")
    script = client.get("/console/static/console.js")

    assert 'rel="icon" href="/console/static/favicon.svg"' in page.text
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert "beforeprint" in script.text


def test_sensitivity_labels_show_on_the_case_its_notes_and_the_console_page(api: Api) -> None:
    _, case_id = a_case(api, specialty="substance_abuse")
    note = {"text": "Disclosed status.", "contact_kind": "client", "contact_mode": "in_person"}
    first = api.created(f"/v1/cases/{case_id}/notes", note | {"labels": ["hiv"]})["version"]
    second = api.created(f"/v1/cases/{case_id}/notes", note)["version"]
    relabel = {"target_version": second, "labels": ["mental_health"], "reason": "content"}
    assert api.post(f"/v1/cases/{case_id}/relabellings", relabel).status_code == 200

    case = api.get(f"/v1/cases/{case_id}").json()
    notes = api.get(f"/v1/cases/{case_id}/notes").json()["items"]
    page = signed_in(api, "caseworker").get(f"/console/cases/{case_id}").text

    assert case["labels"] == ["substance_use", "hiv", "mental_health"]
    assert case["entry_labels"] == {
        str(first): ["substance_use", "hiv"],
        str(second): ["mental_health"],
    }
    assert {n["version"]: n["labels"] for n in notes} == {
        first: ["substance_use", "hiv"],
        second: ["mental_health"],
    }
    assert '<span class="label">substance use</span>' in page.split("data-case-labels")[1]
    assert page.count("data-note-labels") == 2


def test_a_provider_token_cannot_sign_in_to_the_console(api: Api) -> None:
    client = TestClient(api.client.app, base_url="http://testserver")

    answer = sign_in(client, api.tokens["agency-a", "provider"])

    assert answer.status_code == 403
    assert "caserecord_session" not in answer.headers.get("set-cookie", "")
    assert client.get("/console/clients", follow_redirects=False).status_code == 303


def test_a_case_page_shows_a_supervisor_a_task_on_a_psychotherapy_note_only_as_restricted(
    api: Api,
) -> None:
    staff_the_agency(api)
    own = staff_token(api, "worker-1", "caseworker")
    _, case_id = a_case(api, case_manager_id="worker-1")
    note = {"text": "Session.", "contact_mode": "in_person", "labels": ["psychotherapy_notes"]}
    note_id = api.created(f"/v1/cases/{case_id}/notes", note, role=own)["entity_id"]
    task = {
        "title": "Reflect on the dream about the river",
        "owner_id": "worker-1",
        "due_on": "2030-01-01",
        "concerns": "note",
        "concerns_id": note_id,
    }
    api.created(f"/v1/cases/{case_id}/tasks", task, role=own)
    console(api).backend.catch_up("", console(api).backend.head())

    page = signed_in(api, "supervisor").get(f"/console/cases/{case_id}")
    worklist = page.text.split('id="worklist"')[1].split("</section>")[0]

    assert page.status_code == 200
    assert "Restricted entry" in worklist and "2030-01-01" in worklist
    assert "the dream about the river" not in page.text
