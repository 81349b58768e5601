"""The "as of" slider in Chromium, on a case whose entries were given whole-minute times."""

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, expect

from caserecord.demo import DEMO_AGENCY
from tests.browser.conftest import Site, sign_in

# Yesterday on the half hour: after the demo case opened, before now, no fraction of a second.
AT = (datetime.now(UTC) - timedelta(days=1)).replace(minute=30, second=0, microsecond=0)
NOTE = {
    "text": "Phone check-in; doing well.",
    "contact_kind": "client",
    "contact_mode": "phone",
    "effective_at": AT.isoformat(),
}


def test_the_slider_names_an_event_at_a_whole_second_with_its_time_and_fills_the_field(
    browser: Browser, site: Site
) -> None:
    case = site.ids["recovery/case"]
    context = browser.new_context()
    written = context.request.post(
        f"{site.url}/v1/cases/{case}/notes",
        data=NOTE,
        headers={"Authorization": f"Bearer {site.tokens[DEMO_AGENCY, 'caseworker']}"},
    )
    assert written.ok, written.text()
    version = written.json()["version"]
    page = context.new_page()
    sign_in(page, site, "compliance_reviewer")
    page.goto(f"{site.url}/console/cases/{case}/as-of?axis=effective")
    page.wait_for_load_state("load")  # console.js listens from then on
    slider = page.locator("#moment")
    moments = (slider.get_attribute("data-moments") or "").split("|")
    step = next(i for i, m in enumerate(moments) if m.startswith(AT.strftime("%Y-%m-%dT%H:%M")))

    # A time with no fraction of a second was cut to "15:30:00+00:" and emptied the field.
    slider.evaluate(f"s => {{ s.value = {step}; s.dispatchEvent(new Event('input')); }}")

    expect(page.locator("#moment-shown")).to_have_text(
        f"Event {step + 1} of {len(moments)}: v{version} Progress note recorded (client, phone)"
        f" ({AT:%Y-%m-%d %H:%M}:00.000 UTC)"
    )
    # The field is text, in UTC as the page writes it, not the browser's local form.
    expect(page.locator("#at")).to_have_value(f"{AT:%Y-%m-%dT%H:%M}:00.000")
    # The page drawn by the server names the step the same way.
    page.goto(f"{site.url}/console/cases/{case}/as-of?axis=effective&moment={step}")
    expect(page.locator("#moment-shown")).to_have_text(
        f"Event {step + 1} of {len(moments)}: v{version} Progress note recorded (client, phone)"
        f" ({AT:%Y-%m-%d %H:%M}:00.000 UTC)"
    )
    context.close()
