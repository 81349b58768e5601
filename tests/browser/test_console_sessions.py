"""A session that ends under a reviewer's hands, in Chromium: what the sign-in page says
and where signing in again goes."""

from datetime import timedelta

from playwright.sync_api import Browser, expect

from caserecord.console.sessions import now_utc
from tests.browser.conftest import Site, sign_in


def test_a_reviewer_whose_session_ended_signs_in_again_and_is_back_on_the_filtered_timeline(
    browser: Browser, site: Site
) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, site, "compliance_reviewer")
    case = site.ids["recovery/case"]
    page.goto(f"{site.url}/console/cases/{case}/timeline")
    page.get_by_label("Actor").select_option("demo-supervisor")
    page.get_by_role("button", name="Filter").click()
    filtered = page.url
    sessions = site.app.state.console.sessions
    sessions.clock = lambda: now_utc() + timedelta(minutes=31)
    try:
        page.reload()
        expect(page.locator("h1")).to_have_text("Sign in")
        expect(page.locator("[data-session-ended]")).to_contain_text("Your session has ended")
    finally:
        sessions.clock = now_utc

    page.get_by_label("Token").fill(site.tokens["demo-agency", "compliance_reviewer"])
    page.get_by_label("Purpose of use").select_option("quality_assurance")
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(filtered)
    expect(page.locator("h1")).to_have_text("Timeline")
    expect(page.get_by_label("Actor")).to_have_value("demo-supervisor")
    expect(page.locator("header .who")).to_contain_text("quality assurance")
    context.close()
