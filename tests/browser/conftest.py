"""Browser tests: the real pages, served by a live uvicorn on a free port, driven by Playwright in
Debian's Chromium (``executable_path``; Playwright's own browser download cannot work here).

The server runs in a thread of this process on the leg's database and store (like ``live`` in
tests/conftest.py): every request commits for real, so each test makes its own, unique data. Its clock is
the test's (pinned); Chromium's is real: use ``page.clock`` where the page's time matters.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from sqlalchemy import Engine

from app.core.config import Settings
from app.core.sms import RecordingSender
from app.core.store import KeyValueStore
from app.main import create_app

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 640}
TABLET = {"width": 800, "height": 1280}
STARTUP_SECONDS = 20


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Browser tests need Debian's chromium: apt-get install -y chromium", pytrace=False)
    return path


class LiveServer:
    def __init__(self, server: uvicorn.Server, port: int) -> None:
        self.server = server
        self.url = f"http://127.0.0.1:{port}"


@contextmanager
def serve(app: object) -> Iterator[LiveServer]:
    """``app`` on 127.0.0.1, a free port, in a thread; stopped (and waited for) on the way out."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # log_config=None: uvicorn leaves the process's logging as the app set it (its own dictConfig would turn
    # the uvicorn.access logger down for every later test in this process)
    config = uvicorn.Config(app, log_config=None, lifespan="on", access_log=False)  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(server, port)
    finally:
        server.should_exit = True
        thread.join(STARTUP_SECONDS)
        sock.close()


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
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=[*CHROMIUM_ARGS, *extra], headless=True
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
