"""/docs renders in a browser with the network cut: Swagger UI's script and styles come from this service
(no CDN), and the operations are listed under their tags in reading order.

Headless Debian Chromium driven by Playwright (no browser download): every request that is not to this
local server is blocked and recorded, and none may be attempted.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.sync_api import Page, Route, expect, sync_playwright

from app.main import OPENAPI_TAGS, create_app

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium)"
)
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def served(settings, store) -> Iterator[str]:
    """The app on a real local port, in a thread of this process."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings, store=store), host="127.0.0.1", port=port, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def browser_page() -> Iterator[tuple[Page, list[str]]]:
    """A headless Chromium page that may reach this machine only; what it tried elsewhere is listed."""
    blocked: list[str] = []

    def local_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname in {"127.0.0.1", "localhost"}:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", local_only)
            yield page, blocked
        finally:
            browser.close()


def test_docs_render_offline_with_the_operations_listed_in_reading_order(served: str, browser_page) -> None:
    page, blocked = browser_page
    page.goto(f"{served}/docs")
    expect(page.get_by_role("heading", name="信易+ credit-incentive marketplace")).to_be_visible(
        timeout=30_000
    )
    for path in ("/v1/auth/otp", "/v1/me/passes", "/v1/verifications", "/v1/rentals"):
        expect(page.get_by_text(path, exact=True).first).to_be_visible()
    shown = [name.strip() for name in page.locator("h3 > a > span").all_inner_texts()]
    assert blocked == []
    # Every tag in use is listed in OPENAPI_TAGS (an unlisted one would show up here, after them).
    assert shown == [tag["name"] for tag in OPENAPI_TAGS]
