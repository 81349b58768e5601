"""What a compliance reviewer and a supervisor read in the console: the words of the "as
of" replay and of the verification, and what the sign-in page says and keeps."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from caserecord.config import Settings
from caserecord.console.sessions import now_utc
from tests.e2e.http import Api, a_case, forget_cached, serve
from tests.e2e.test_console_sessions import CSRF, console, sign_in, signed_in
from tests.integration.stored_rows import StoredRows

NEXT = re.compile(r'name="next" value="([^"]*)"')
NOTE = {"text": "Check-in.", "contact_kind": "client", "contact_mode": "phone"}


@pytest.fixture
def api(sqlite_url: str) -> Iterator[Api]:
    with contextmanager(serve)(Settings(database_url=sqlite_url)) as api:
        yield api


def banner(html: str) -> str:
    found = re.search(r"<p class=\"banner\"[^>]*>(.*?)</p>", html, re.S)
    assert found is not None
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())


def test_the_effective_as_of_banner_counts_events_not_yet_in_effect_as_such_not_as_set_aside(
    api: Api,
) -> None:
    days = [datetime.now(UTC) - timedelta(days=n) for n in range(11)]
    _, case_id = a_case(api, effective_at=days[10].isoformat())
    for day in (days[3], days[2]):
        api.created(f"/v1/cases/{case_id}/notes", NOTE | {"effective_at": day.isoformat()})
    client = signed_in(api)

    opening = client.get(f"/console/cases/{case_id}/as-of?axis=effective&moment=0")
    both = client.get(
        f"/console/cases/{case_id}/as-of",
        params={
            "axis": "both",
            "use": "time",
            "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
            "effective": days[5].strftime("%Y-%m-%dT%H:%M"),
        },
    )

    # Nothing was marked in error: the two later notes were only not yet in effect.
    assert "set aside" not in banner(opening.text)
    assert "1 event in effect, 2 not yet in effect then" in banner(opening.text)
    assert "1 event in effect, 2 not yet in effect then" in banner(both.text)


def verdict(html: str) -> str:
    found = re.search(r"<p class=\"verdict [^\"]*\"[^>]*data-verdict>(.*?)</p>", html, re.S)
    assert found is not None
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())


def test_an_intact_verdict_names_every_check_made_and_says_when_no_signed_checkpoint_backs_it(
    api: Api,
) -> None:
    _, case_id = a_case(api)
    client = signed_in(api)

    said = verdict(client.get(f"/console/cases/{case_id}/verification").text)

    assert said.startswith("Intact")
    for check in ("hash chain", "MAC", "integrity key", "Merkle tree", "snapshot"):
        assert check in said
    # Without a signed checkpoint, a server that rewrote its own records and key would say
    # the same: the verdict says that nothing outside the server vouches for it.
    assert "No signed checkpoint" in said


def test_a_session_that_ended_sends_its_viewer_to_a_sign_in_page_that_says_why(
    api: Api,
) -> None:
    _, case_id = a_case(api)
    client = signed_in(api)
    sessions = console(api).sessions
    sessions.clock = lambda: now_utc() + timedelta(minutes=31)

    answer = client.get(f"/console/cases/{case_id}")

    assert answer.url.path == "/console/sign-in"
    assert "Your session has ended" in answer.text
    assert "30 minutes without a page view" in answer.text
    # A first visit, with no session to end, is not told one ended.
    fresh = TestClient(api.client.app, base_url="http://testserver")
    assert "Your session has ended" not in fresh.get("/console/cases/" + case_id).text


def test_a_wrong_token_keeps_the_purpose_of_use_chosen(api: Api) -> None:
    fresh = TestClient(api.client.app, base_url="http://testserver")

    answer = sign_in(fresh, "crt_not-a-real-token", purpose="quality_assurance")

    assert answer.status_code == 401
    assert '<option value="quality_assurance" selected>' in answer.text


def test_a_typed_time_before_the_case_keeps_the_as_of_form_and_names_the_first_moment(
    api: Api,
) -> None:
    _, case_id = a_case(api, effective_at="2024-01-01T09:00:00+00:00")
    client = signed_in(api)

    answer = client.get(
        f"/console/cases/{case_id}/as-of",
        params={"axis": "effective", "at": "2023-12-31T23:59", "use": "time"},
    )

    assert answer.status_code == 404
    assert "had no events then" in answer.text
    # The form is still there with what was typed, and the page says where the case begins.
    assert 'name="at" type="text"' in answer.text and 'value="2023-12-31T23:59:59.999"' in (
        answer.text
    )
    assert 'value="effective" checked' in answer.text
    assert "2024-01-01 09:00:00.000 UTC" in answer.text


def test_the_as_of_time_fields_take_and_show_utc_in_iso_form_not_the_browsers_locale(
    api: Api,
) -> None:
    _, case_id = a_case(api, effective_at="2024-01-01T09:00:00+00:00")
    client = signed_in(api)

    # Typed with an offset (as the API writes times): read as written, shown back in UTC.
    answer = client.get(
        f"/console/cases/{case_id}/as-of",
        params={
            "axis": "both",
            "use": "time",
            "at": "2099-01-01T11:00+02:00",
            "effective": "2024-01-01T09:00:30.5Z",
        },
    )

    tags = re.findall(r'<input id="(?:at|effective)"[^>]*>', answer.text)
    attributes = [dict(re.findall(r'([a-z-]+)="([^"]*)"', tag)) for tag in tags]
    fields = {field["id"]: field for field in attributes}
    assert answer.status_code == 200
    for field in fields.values():
        # A datetime-local field shows its value in the browser's locale order and clock.
        assert field["type"] == "text"
        assert field["aria-describedby"] == "moment-format"
        assert re.fullmatch(field["pattern"], "2026-03-01T09:30:05.250Z")
    assert fields["at"]["value"] == "2099-01-01T09:00:59.999"
    assert fields["effective"]["value"] == "2024-01-01T09:00:30.599"
    assert '<label for="at">Recorded up to (UTC)</label>' in answer.text
    assert '<label for="effective">In effect at (UTC)</label>' in answer.text
    assert 'id="moment-format">In UTC as YYYY-MM-DDTHH:MM' in answer.text


def opened(html: str) -> str:
    found = re.search(r"<dt>Opened</dt><dd>(.*?)</dd>", html, re.S)
    assert found is not None
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())


def test_a_case_opened_before_it_was_recorded_says_when_it_opened_and_when_it_was_recorded(
    api: Api,
) -> None:
    _, case_id = a_case(api, effective_at="2024-01-01T09:00:00+00:00")
    client = signed_in(api, "supervisor")
    today = datetime.now(UTC).strftime("%Y-%m-%d")

    case_page = opened(client.get(f"/console/cases/{case_id}").text)
    as_of = opened(client.get(f"/console/cases/{case_id}/as-of").text)

    for said in (case_page, as_of):
        assert said.startswith("2024-01-01 09:00:00 UTC")
        assert f"recorded {today}" in said


def test_an_unknown_console_address_gets_a_not_found_page_not_the_apis_json(api: Api) -> None:
    client = signed_in(api, "supervisor")

    answer = client.get("/console/case/4b12ae52")

    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in answer.text
    assert 'aria-label="Main"' in answer.text  # the console's own navigation, to go on from
    # The assets keep their own answers, and a trailing slash is still taken away.
    assert client.get("/console/static/console.css").status_code == 200
    slash = client.get("/console/clients/?name=Lopez", follow_redirects=False)
    assert slash.headers["location"].endswith("/console/clients?name=Lopez")
    assert client.get("/console/", follow_redirects=False).headers["location"].endswith("/console")


def test_an_audit_filter_that_is_not_an_id_keeps_every_filter_typed_and_says_which(
    api: Api,
) -> None:
    client = signed_in(api)

    # The pages show ids cut to 8 characters: the first thing a reviewer pastes.
    answer = client.get("/console/audit", params={"case_id": "4b12ae52", "actor": "cm-1"})

    assert answer.status_code == 400
    assert "<h1>Audit trail</h1>" in answer.text
    assert 'id="case_id" name="case_id" value="4b12ae52"' in answer.text
    assert 'id="actor" name="actor" value="cm-1"' in answer.text
    assert "case &#39;4b12ae52&#39; is not an id" in answer.text
    assert "the whole id" in answer.text


def test_an_event_type_filter_naming_no_event_type_says_so_rather_than_showing_no_events(
    api: Api,
) -> None:
    _, case_id = a_case(api)
    client = signed_in(api)

    audit = client.get("/console/audit", params={"event_type": "Case.Opened", "actor": "cm-1"})
    timeline = client.get(f"/console/cases/{case_id}/timeline?event_type=Openned")

    assert audit.status_code == 400
    assert 'id="event_type" name="event_type" value="Case.Opened"' in audit.text
    assert 'id="actor" name="actor" value="cm-1"' in audit.text
    assert "&#39;Case.Opened&#39; is not an event type (did you mean Opened?)" in audit.text
    assert "No events match" not in audit.text
    assert timeline.status_code == 400
    assert "&#39;Openned&#39; is not an event type (did you mean Opened?)" in timeline.text
    assert client.get("/console/audit", params={"event_type": "Opened"}).status_code == 200


def test_the_date_filters_of_the_audit_trail_and_the_timeline_say_their_days_are_utc(
    api: Api,
) -> None:
    _, case_id = a_case(api)
    client = signed_in(api)

    for path in ("/console/audit", f"/console/cases/{case_id}/timeline"):
        page = client.get(path).text
        assert '<label for="since">Recorded from (UTC day)</label>' in page
        assert '<label for="until">Recorded to (UTC day, included)</label>' in page


def test_signing_in_again_after_a_session_ended_goes_back_to_the_page_asked_for(
    api: Api,
) -> None:
    _, case_id = a_case(api)
    client = signed_in(api)
    sessions = console(api).sessions
    sessions.clock = lambda: now_utc() + timedelta(minutes=31)
    asked = f"/console/cases/{case_id}/timeline?actor=cm-1"

    ended = client.get(asked)
    sessions.clock = now_utc
    form = CSRF.search(ended.text)
    assert form is not None
    again = client.post(
        "/console/sign-in",
        data={
            "token": api.tokens["agency-a", "compliance_reviewer"],
            "csrf_token": form.group(1),
            "next": NEXT.search(ended.text).group(1),  # type: ignore[union-attr]
        },
        follow_redirects=False,
    )

    assert again.status_code == 303
    assert again.headers["location"] == asked


@pytest.mark.parametrize(
    "elsewhere", ["https://evil.example/console", "//evil.example/console", "/docs", "/console\\x"]
)
def test_signing_in_never_goes_on_to_an_address_outside_the_console(
    api: Api, elsewhere: str
) -> None:
    fresh = TestClient(api.client.app, base_url="http://testserver")

    answer = sign_in(fresh, api.tokens["agency-a", "supervisor"], next=elsewhere)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/console"


@pytest.mark.parametrize("damage", ["changed", "deleted"])
def test_a_damaged_case_page_says_the_record_cannot_be_read_and_links_its_verification(
    api: Api, damage: str
) -> None:
    _, case_id = a_case(api)
    version = api.created(f"/v1/cases/{case_id}/notes", NOTE)["version"]
    api.created(f"/v1/cases/{case_id}/notes", NOTE)
    rows = StoredRows(api.settings.database_url)
    if damage == "changed":
        rows.flip_byte(UUID(case_id), version, 0)
    else:
        rows.delete_event(UUID(case_id), version)
    forget_cached(api)
    reviewer, worker = signed_in(api), signed_in(api, "caseworker")

    answer = reviewer.get(f"/console/cases/{case_id}")
    to_worker = worker.get(f"/console/cases/{case_id}")

    assert answer.status_code == to_worker.status_code == 500
    for page in (answer.text, to_worker.text):
        assert "<h1>The record cannot be read</h1>" in page
        assert "not shown rather than shown wrong" in page
    assert f'href="/console/cases/{case_id}/verification"' in answer.text
    # A case manager cannot open the verification: told who can, not sent there.
    assert "/verification" not in to_worker.text
    assert "supervisor or a compliance reviewer" in to_worker.text


def test_the_timeline_of_a_case_with_a_deleted_event_says_which_version_is_missing(
    api: Api,
) -> None:
    _, case_id = a_case(api)
    version = api.created(f"/v1/cases/{case_id}/notes", NOTE)["version"]
    api.created(f"/v1/cases/{case_id}/notes", NOTE)
    StoredRows(api.settings.database_url).delete_event(UUID(case_id), version)
    reviewer = signed_in(api)

    answer = reviewer.get(f"/console/cases/{case_id}/timeline")

    # The events either side are listed as stored; the gap between them is not closed up.
    assert answer.status_code == 200
    missing = re.search(r"<p [^>]*data-missing>(.*?)</p>", answer.text, re.S)
    assert missing is not None
    assert f"case v{version}" in missing.group(1)
    assert f'href="/console/cases/{case_id}/verification"' in missing.group(1)


def test_a_diff_from_a_later_moment_to_an_earlier_keeps_both_choices_and_says_what_to_change(
    api: Api,
) -> None:
    _, case_id = a_case(api)
    for _ in range(3):
        api.created(f"/v1/cases/{case_id}/notes", NOTE)
    client = signed_in(api)

    answer = client.get(f"/console/cases/{case_id}/diff", params={"t1": 3, "t2": 1})

    assert answer.status_code == 400
    assert "<h1>What changed between two moments</h1>" in answer.text
    assert re.search(r'<select id="t1" name="t1">.*?<option value="3" selected>', answer.text, re.S)
    assert re.search(r'<select id="t2" name="t2">.*?<option value="1" selected>', answer.text, re.S)
    assert "“From” is after “To”" in answer.text


def caseload_flags(html: str, case_id: str) -> str:
    row = re.search(rf'<tr><td><a href="/console/cases/{case_id}">.*?</tr>', html, re.S)
    assert row is not None
    return " ".join(re.sub(r"<[^>]+>", " ", row.group(0)).split())


def test_the_caseloads_flag_a_contact_overdue_by_the_specialtys_standard_as_the_worklist_does(
    api: Api,
) -> None:
    ten_days_ago = (datetime.now(UTC) - timedelta(days=10)).isoformat()
    cases = {}
    for specialty in ("substance_abuse", "geriatric"):
        _, case_id = a_case(api, specialty=specialty, effective_at=ten_days_ago)
        api.created(f"/v1/cases/{case_id}/notes", NOTE | {"effective_at": ten_days_ago})
        cases[specialty] = case_id

    # The writer's own read waits for the views, so the console's read below sees them too.
    worklist = api.get("/v1/worklist", kind="client_contact")
    html = signed_in(api).get("/console/caseloads").text

    # Ten days without contact: past the 7 days of substance use, within geriatric care's 30.
    overdue = {item["case_id"] for item in worklist.json()["items"] if item["overdue"]}
    assert cases["substance_abuse"] in overdue and cases["geriatric"] not in overdue
    assert caseload_flags(html, cases["substance_abuse"]).endswith("0 contact")
    assert caseload_flags(html, cases["geriatric"]).endswith(" 0")
