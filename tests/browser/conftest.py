"""The console in a real browser: a uvicorn server in this process over a SQLite store with
the demo agency, and Debian's Chromium driven headless by Playwright.

Without a browser the tests skip, saying why, unless ``CI`` is set: there they fail, since
``.ci/run`` installs Chromium."""

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from caserecord.access import Tables, TokenStore
from caserecord.api import create_app
from caserecord.config import Settings
from caserecord.demo import DEMO_AGENCY, DEMO_PROVIDER_ORG, TOKEN_STAFF, load_demo
from caserecord.domain.values import Role
from caserecord.provision import init_store
from caserecord.store import open_records
from tests.integration.test_signed_checkpoints import write_checkpoint

OTHER_AGENCY = "other-agency"
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "console"
# The machine is shared with other test processes: a page may take more than the default 5 s.
expect.set_options(timeout=20_000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chromium() -> str | None:
    given = os.environ.get("CHROMIUM")
    return given or shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Site:
    url: str
    tokens: dict[tuple[str, str], str]
    ids: dict[str, Any]
    app: Any
    shots: Path
    page_views: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("console")
    signing = folder / "demo-signing"
    settings = Settings(
        database_url=f"sqlite:///{folder}/caserecord.db",
        poll_interval=0.05,
        checkpoint_dir=signing / "checkpoints",
        checkpoint_public_key=signing / "signing.pub",
    )
    init_store(settings)
    records = open_records(settings)
    try:
        ids = load_demo(records).ids
        # As `make run` does: a signed checkpoint of the demo, for the verification page.
        write_checkpoint(records, signing, "demo.json", datetime.now(UTC).isoformat())
        store = TokenStore(Tables(records))
        tokens = {
            (agency, role.value): store.create(
                agency_id=agency,
                role=role.value,
                name=f"{role.value}-{agency}",
                # The demo's staff members, as the demo's own tokens belong to them.
                staff_id=TOKEN_STAFF.get(role.value) if agency == DEMO_AGENCY else None,
                # A provider token answers for one organisation: the demo's, as `demo` gives.
                organization_id=DEMO_PROVIDER_ORG if role == Role.PROVIDER else None,
            )[1]
            for agency in (DEMO_AGENCY, OTHER_AGENCY)
            for role in Role
        }
    finally:
        records.close()
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    runtime = app.state.runtime
    runtime.catch_up("", runtime.head())  # the views hold the demo before a page asks
    update = os.environ.get("UPDATE_CONSOLE_SCREENSHOTS") == "1"
    shots = SCREENSHOTS if update else folder / "screenshots"
    shots.mkdir(exist_ok=True)
    try:
        yield Site(f"http://127.0.0.1:{port}", tokens, ids, app, shots)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("no Chromium for the browser tests (`apt-get install -y chromium`)")
        pytest.skip("no Chromium installed (`apt-get install chromium`); CI runs these tests")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True)
        yield launched
        launched.close()


def sign_in(page: Page, site: Site, role: str, agency: str = DEMO_AGENCY) -> None:
    page.goto(f"{site.url}/console")
    assert page.locator("h1").inner_text() == "Sign in"
    page.get_by_label("Token").fill(site.tokens[agency, role])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)


def page_view(page: Page) -> str:
    """The id of the page view on screen (the access log's request id)."""
    return page.locator("[data-page-view]").inner_text()
