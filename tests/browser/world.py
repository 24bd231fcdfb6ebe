"""A whole service for ``make screens`` and ``make bench-web``: a fresh SQLite database, the app on a free
port, Chromium, and the people of the scenes (a merchant with a scanner, residents), made through the API."""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.db import make_engine
from app.core.migrate import upgrade
from app.core.sms import RecordingSender
from app.core.store import MemoryStore
from app.main import create_app
from tests.browser import helpers
from tests.browser.live import CHROMIUM_ARGS, PHONE, LiveServer, chromium_path, serve
from tests.passes import helpers as passes


@dataclass
class World:
    directory: Path
    engine: Any
    sms: RecordingSender
    server: LiveServer
    playwright: Playwright
    http: httpx.Client

    def browser(self, *extra: str) -> Browser:
        path = chromium_path()
        if path is None:
            raise SystemExit("Needs Debian's chromium: apt-get install -y chromium")
        return self.playwright.chromium.launch(executable_path=path, args=[*CHROMIUM_ARGS, *extra])

    def context(self, browser: Browser, viewport: dict[str, int] = PHONE, **options: Any) -> BrowserContext:
        return browser.new_context(base_url=self.server.url, viewport=viewport, locale="zh-CN", **options)

    def merchant(self) -> dict[str, Any]:
        return helpers.partner(
            self.engine, "merchant", ["verifications:write", "rentals:write"], "天山共享充电宝"
        )

    def resident(self) -> dict[str, Any]:
        return passes.resident(self.http, self.sms)  # type: ignore[arg-type]

    def scanner(self, context: BrowserContext, merchant: dict[str, Any]) -> Page:
        """A page at /scan, enrolled for the merchant, its clock on the server's."""
        page = context.new_page()
        page.clock.set_system_time(utcnow())
        helpers.enrol_scanner(page, helpers.enrolment_code(self.http, merchant))
        return page

    def pass_png(self, holder: dict[str, Any]) -> bytes:
        issued = passes.issue(self.http, holder)  # type: ignore[arg-type]
        response = self.http.get(issued["qr"]["png_url"], headers=holder["headers"])
        response.raise_for_status()
        return response.content


def settings_in(directory: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        database_url=f"sqlite:///{directory / 'web.db'}",
        secret_key="web-scenes-secret-key-that-is-long-enough-0123",
        id_encryption_keys={"w1": base64.urlsafe_b64encode(b"w" * 32).decode()},
        id_encryption_active_kid="w1",
        id_hash_key="web-scenes-id-hash-key-0123456789",
        audit_hmac_keys={"wa1": "web-scenes-audit-hmac-key-0123456789"},
        audit_hmac_active_kid="wa1",
        log_level="WARNING",
        evidence_dir=str(directory / "evidence"),
    )


@contextmanager
def world() -> Iterator[World]:
    with tempfile.TemporaryDirectory(prefix="xinyi-web-") as name:
        directory = Path(name)
        settings = settings_in(directory)
        engine = make_engine(settings.database_url)
        with engine.connect() as connection:
            upgrade(connection=connection)
            connection.commit()
        sms = RecordingSender()
        app = create_app(settings, store=MemoryStore(), sms_sender=sms)
        try:
            with serve(app) as server, sync_playwright() as driver, httpx.Client(base_url=server.url) as http:
                yield World(directory, engine, sms, server, driver, http)
        finally:
            engine.dispose()
