"""A reviewer's, a supervisor's and a case manager's whole journey through the console in
Chromium, another agency's reviewer finding none of it, and an accessibility sweep."""

import json
import re
from pathlib import Path
from typing import Any, cast

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.conftest import OTHER_AGENCY, Site, page_view, sign_in

LAPTOP: ViewportSize = {"width": 1280, "height": 860}
TABLET: ViewportSize = {"width": 820, "height": 1180}


def shoot(page: Page, site: Site, name: str, *, first_role: bool, whole: bool = False) -> None:
    """A screenshot for docs/console.md (written there with UPDATE_CONSOLE_SCREENSHOTS=1)."""
    if first_role:
        page.screenshot(path=str(site.shots / f"{name}.png"), full_page=whole)


@pytest.mark.parametrize("role", ["compliance_reviewer", "supervisor", "caseworker"])
def test_a_signed_in_user_finds_a_client_reads_replays_and_audits_the_case_then_signs_out(
    browser: Browser, site: Site, role: str
) -> None:
    first = role == "compliance_reviewer"
    audits = role != "caseworker"
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    page = context.new_page()
    views: list[str] = []
    sign_in(page, site, role)

    # Find the client
    page.get_by_label("Name").fill("Reyes")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 client found")).to_be_visible()
    shoot(page, site, "find-a-client", first_role=first)
    page.get_by_role("link", name="Reyes, Daniel").click()
    expect(page.locator("h1")).to_have_text("Daniel Reyes")
    expect(page.get_by_text("Client details corrected (phone)")).to_be_visible()
    expect(page.locator("[data-consents] tbody tr")).to_contain_text(["in force"])
    expect(page.locator("[data-disclosures]")).to_contain_text("emergency override")
    shoot(page, site, "client-record", first_role=first)
    views.append(page_view(page))

    # Open the case: the current plan, the goal's chart, the note marked in error
    page.locator("section[aria-labelledby=cases] a").first.click()
    expect(page.locator("h3[data-plan-title]")).to_have_text("Recovery, housing and work plan")
    expect(page.locator("figure.chart").first.locator("svg circle")).to_have_count(3)
    # The goal that targets a PHQ-9 score is charted from the two administrations, which the
    # assessments list with their bands and the first's safety flag.
    mood = page.locator("article.goal", has_text="PHQ-9 below 10")
    expect(mood.locator("svg circle")).to_have_count(2)
    expect(page.locator("[data-scores] tbody tr", has_text="PHQ-9")).to_have_count(2)
    expect(page.locator("[data-scores]")).to_contain_text("safety: self harm thoughts")
    # Each status of a referral says who recorded it and when.
    history = page.locator("article.referral table.status-history tbody tr")
    expect(history.filter(has_text="accepted")).to_contain_text("demo-caseworker")
    expect(page.locator("[data-worklist]")).to_contain_text("Medicaid: decision expected")
    struck = page.locator("article.note.in-error del")
    expect(struck).to_have_text("Missed appointment; no answer by phone.")
    expect(page.locator("article.note.in-error .marking").first).to_contain_text("demo-supervisor")
    expect(page.locator("article.note.in-error .marking").first).to_contain_text(
        "Recorded on the wrong client's case"
    )
    expect(page.locator("article.note.in-error .meta")).to_contain_text("by demo-caseworker")
    expect(page.locator("[data-case-labels]")).to_contain_text("substance use")
    shoot(page, site, "case", first_role=first, whole=True)
    case_url = page.url
    views.append(page_view(page))

    # As of: the slider moved to the event before the plan's revision shows the earlier plan
    page.get_by_role("link", name="As of", exact=True).click()
    slider = page.locator("#moment")
    labels = slider.get_attribute("data-labels") or ""
    revised = next(i for i, text in enumerate(labels.split("|")) if "Plan revised" in text)
    # The slider submits through console.js, whose listeners are attached once the page has
    # loaded: a value set before then would change nothing.
    page.wait_for_load_state("load")
    slider.fill(str(revised - 1))
    page.wait_for_url(lambda url: f"moment={revised - 1}" in url)
    expect(page.locator("h3[data-plan-title]")).to_have_text("Recovery and housing plan")
    expect(page.locator("[data-as-of-banner]")).to_contain_text("As the record stood at")
    shoot(page, site, "as-of", first_role=first)
    views.append(page_view(page))

    # Diff between that moment and the latest: the plan's title changed
    page.get_by_role("link", name="What has changed since").click()
    expect(page.get_by_label("From")).to_have_value(str(revised - 1))
    title = page.locator("table.diff tr", has_text="current_plan.title")
    expect(title.locator("del")).to_have_text("Recovery and housing plan")
    expect(title.locator("ins")).to_have_text("Recovery, housing and work plan")
    shoot(page, site, "diff", first_role=first)

    # The timeline filtered by actor
    page.get_by_role("link", name="Timeline", exact=True).click()
    shoot(page, site, "timeline", first_role=first, whole=True)
    page.get_by_label("Actor").select_option("demo-supervisor")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.timeline tbody tr")
    expect(rows.first).to_have_attribute("data-actor", "demo-supervisor")
    assert {rows.nth(i).get_attribute("data-actor") for i in range(rows.count())} == {
        "demo-supervisor"
    }
    expect(page.locator("table.timeline")).to_contain_text("marked in error")

    if audits:
        # The access log holds this journey's own page views, with the purpose
        page.get_by_role("link", name="Access log", exact=True).click()
        for view in views:
            # The client page's view writes three entries (the record, its consents, the
            # accounting of disclosures), as the API logs those reads; other pages one.
            entry = page.locator(f"tr[data-request='{view}']")
            expect(entry).not_to_have_count(0)
            expect(entry.first).to_contain_text(role.replace("_", " "))
        # The client page's view named this client; the search before it, others as a count.
        expect(page.locator(f"tr[data-request='{views[0]}']").first).to_contain_text("this client")
        shoot(page, site, "access-log", first_role=first)

        # Verification and the export
        page.goto(case_url + "/verification")
        expect(page.locator("[data-verdict]")).to_contain_text("Intact")
        expect(page.locator("tbody th")).to_have_text(
            [f"case {case_url[-36:][:8]}", re.compile("client ")] * 2
        )
        expect(page.locator("[data-coverage]")).to_have_attribute(
            "data-coverage", re.compile("^(partly_)?covered$")
        )
        shoot(page, site, "verification", first_role=first)
        with page.expect_download() as download:
            page.locator("[data-export]").click()
        exported = json.loads(Path(download.value.path()).read_text())
        assert exported["records"] and len(exported["records"]) == len(exported["links"])

        page.get_by_role("link", name="Audit trail", exact=True).click()
        expect(page.locator("table tbody tr").first).to_be_visible()
        shoot(page, site, "audit-trail", first_role=first)
    else:
        expect(page.get_by_role("link", name="Audit trail", exact=True)).to_have_count(0)
        page.goto(case_url + "/verification")
        expect(page.locator("h1")).to_have_text("Not for your role")

    if not first:
        # The referral's service, in the resource directory; then a search by need and area.
        page.goto(case_url)
        page.get_by_role("link", name="the service in the directory").click()
        expect(page.locator("article.service:target h3")).to_contain_text("rapid rehousing")
        page.get_by_label("Need").select_option("housing-insecurity")
        page.get_by_label("Area served").select_option("Northport")
        page.get_by_role("button", name="Search").click()
        found = page.locator("article.service")
        expect(found).to_have_count(1)
        expect(found.first).to_contain_text("housing insecurity")
        expect(page.locator("[data-directory-count]")).to_contain_text("1 of ")
    else:
        page.get_by_role("link", name="Directory", exact=True).click()
        expect(page.locator("article.service").first).to_be_visible()
        shoot(page, site, "directory", first_role=first)

    page.get_by_role("link", name="Caseloads", exact=True).click()
    rows = page.locator("table.caseloads tbody tr")
    expect(rows.filter(has_text="demo-caseworker")).to_have_count(1)
    expect(rows.filter(has_text="cm-alice")).to_have_count(1)  # the case handed over
    shoot(page, site, "caseloads", first_role=first)
    if role == "supervisor":
        # The case handed over is on hold: the page says why and until when, and who had it.
        page.get_by_text("Cases of cm-alice").click()
        page.get_by_role("link", name="Walter Brooks").click()
        expect(page.locator("section.summary")).to_contain_text("inpatient stay for a foot ulcer")
        transfer = page.locator("section[aria-labelledby^=part-]", has_text="Transfers")
        cells = transfer.locator("tbody tr td")
        expect(cells).to_contain_text(["demo-caseworker", "cm-alice", "accepted", "Lives alone"])

    # Sign out: the old cookie no longer opens anything
    cookies = context.cookies()
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("h1")).to_have_text("Sign in")
    again = browser.new_context()
    again.add_cookies(cast(Any, cookies))  # the same fields a cookie is set with
    stale = again.new_page()
    stale.goto(case_url)
    expect(stale.locator("h1")).to_have_text("Sign in")
    again.close()
    context.close()


def test_a_reviewer_of_another_agency_sees_none_of_it(browser: Browser, site: Site) -> None:
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    sign_in(page, site, "compliance_reviewer", OTHER_AGENCY)
    case, client = site.ids["recovery/case"], site.ids["recovery/client"]

    page.get_by_label("Name").fill("Reyes")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="0 clients found")).to_be_visible()
    for path in (
        f"/console/clients/{client}",
        f"/console/clients/{client}/access-log",
        f"/console/cases/{case}",
        f"/console/cases/{case}/timeline",
        f"/console/cases/{case}/as-of",
        f"/console/cases/{case}/verification",
        f"/console/cases/{case}/export",
    ):
        response = page.goto(site.url + path)
        assert response is not None and response.status == 404, path
        expect(page.locator("h1")).to_have_text("Not found")
    page.goto(f"{site.url}/console/audit?case_id={case}")
    expect(page.locator("tbody tr")).to_have_text("No events match.")
    page.goto(f"{site.url}/console/caseloads")
    expect(page.get_by_text("0 open cases")).to_be_visible()
    # Its own directory, not the demo agency's.
    page.get_by_role("link", name="Directory", exact=True).click()
    expect(page.locator("article.service")).to_have_count(0)
    expect(page.get_by_text("The directory is empty.")).to_be_visible()
    context.close()


def serious(page: Page) -> list[str]:
    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def test_every_main_page_has_no_serious_accessibility_finding_and_the_api_docs_work_offline(
    browser: Browser, site: Site
) -> None:
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)
    page.goto(f"{site.url}/console/sign-in")
    findings = {"sign-in": serious(page)}
    sign_in(page, site, "compliance_reviewer")
    case, client = site.ids["recovery/case"], site.ids["recovery/client"]
    pages = {
        "find": "/console/clients?name=Reyes",
        "client": f"/console/clients/{client}",
        "case": f"/console/cases/{case}",
        "timeline": f"/console/cases/{case}/timeline",
        "as-of": f"/console/cases/{case}/as-of?moment=3",
        "diff": f"/console/cases/{case}/diff?t1=2",
        "access-log": f"/console/clients/{client}/access-log",
        "verification": f"/console/cases/{case}/verification",
        "audit": "/console/audit",
        "directory": "/console/directory?need=housing-insecurity",
        "caseloads": "/console/caseloads",  # last: its collapsed lists are printed below
    }
    too_wide = {}
    for name, path in pages.items():
        page.goto(site.url + path)
        findings[name] = serious(page)
        # A tablet shows every page without scrolling sideways (wide tables scroll alone).
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > TABLET["width"]:
            too_wide[name] = width
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    # Printing opens what was collapsed (the caseloads' lists of cases), and closes it after.
    closed = "document.querySelectorAll('details:not([open])').length"
    assert page.evaluate(closed) > 0
    page.emulate_media(media="print")
    expect(page.locator("details:not([open])")).to_have_count(0)
    page.emulate_media(media="screen")
    expect(page.locator("details:not([open])")).not_to_have_count(0)

    assert {name: found for name, found in findings.items() if found} == {}
    assert too_wide == {}
    assert refused == []

    # The API documentation loads its scripts from the app: it renders with no internet.
    page.goto(f"{site.url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("caserecord")
    page.goto(f"{site.url}/redoc")
    expect(page.locator("h1").first).to_contain_text("caserecord")
    # ReDoc's bundle names a logo on its vendor's CDN; the policy keeps it out, as a network
    # without internet would. No script or style is refused.
    blocked = [m for m in refused if "Content Security Policy" in m]
    assert [m for m in blocked if "cdn.redoc.ly/redoc/logo-mini.svg" not in m] == []
    context.close()
