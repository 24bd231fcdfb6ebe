"""Browser tests: the real pages, served by a live uvicorn on a free port, driven by Playwright in
Debian's Chromium (``executable_path``; Playwright's own browser download cannot work here).

The server runs in a thread of this process on the leg's database and store (like ``live`` in
tests/conftest.py): every request commits for real, so each test makes its own, unique data. Its clock is
the test's (pinned); Chromium's is real: use ``page.clock`` where the page's time matters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from sqlalchemy import Engine

from app.core.config import Settings
from app.core.sms import RecordingSender
from app.core.store import KeyValueStore
from app.main import create_app
from tests.browser.live import CHROMIUM_ARGS, PHONE, TABLET, LiveServer, chromium_path, serve

__all__ = ["PHONE", "TABLET", "LiveServer"]


@pytest.fixture
def live_server(
    committed_engine: Engine, settings: Settings, store: KeyValueStore, sms: RecordingSender
) -> Iterator[LiveServer]:
    """The whole app over real HTTP, on the committed database of the leg (``committed_engine`` has
    migrated it)."""
    with serve(create_app(settings, store=store, sms_sender=sms)) as server:
        yield server


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


LaunchBrowser = Callable[..., Browser]


@pytest.fixture(scope="session")
def launch_browser(playwright: Playwright) -> Iterator[LaunchBrowser]:
    """Launch Chromium with the usual arguments and ``extra`` ones (a fake camera, say); closed at the end."""
    launched: list[Browser] = []

    def launch(*extra: str) -> Browser:
        path = chromium_path()
        if path is None:
            pytest.fail("Browser tests need Debian's chromium: apt-get install -y chromium", pytrace=False)
        browser = playwright.chromium.launch(
            executable_path=path, args=[*CHROMIUM_ARGS, *extra], headless=True
        )
        launched.append(browser)
        return browser

    yield launch
    for browser in launched:
        browser.close()


@pytest.fixture(scope="session")
def browser(launch_browser: LaunchBrowser) -> Browser:
    return launch_browser()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    """A fresh profile (no storage shared between tests) at phone size, zh-CN, on the live server."""
    ctx = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="zh-CN")
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
