"""Actors for browser tests, made through the live server's API (committed for real, unique per test)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import BrowserContext, Page, Route, expect
from sqlalchemy import Engine
from sqlmodel import Session

from tests.passes import helpers as passes


@contextmanager
def api_client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        yield client


def outside_requests(context: BrowserContext) -> list[str]:
    """Block every request of ``context`` that is not to the local server (its workers' included); the list
    fills with each blocked URL, so a test can assert that none was attempted. A local request goes on to
    the routes set before this one (a test may break one on purpose)."""
    blocked: list[str] = []

    def local_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname in {"127.0.0.1", "localhost"}:
            route.fallback()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", local_only)
    return blocked


def partner(
    engine: Engine, kind: str = "merchant", scopes: list[str] | None = None, name: str | None = None
) -> dict[str, Any]:
    """A partner and its key, committed (the live server sees them)."""
    name = name or f"天山共享充电宝 {uuid.uuid4().hex[:4]}"
    with session_on(engine) as session:
        return {**passes.partner(session, kind, scopes, name=name), "name": name}


def session_on(engine: Engine) -> Session:
    """Objects stay readable after a commit: a read that began a new transaction would hold SQLite's
    write lock (BEGIN IMMEDIATE) against the live server."""
    return Session(engine, expire_on_commit=False)


def black_list(http: httpx.Client, engine: Engine, holder: dict[str, Any]) -> None:
    with session_on(engine) as session:
        passes.black_list(http, session, holder)  # type: ignore[arg-type]


def enrolment_code(http: httpx.Client, owner: dict[str, Any], name: str = "前台 1号机") -> str:
    response = http.post("/v1/partner/scanner-devices", json={"name": name}, headers=owner["headers"])
    assert response.status_code == 201, response.text
    return str(response.json()["enrolment_code"])


def enrol_scanner(page: Page, code: str, scenario: str = "deposit_free_rental") -> None:
    """What the person at the counter does: open /scan, type the code, choose the scenario once."""
    page.goto("/scan")
    page.get_by_label("激活码").fill(code)
    page.get_by_role("button", name="激活本设备").click()
    page.get_by_label("核验场景", exact=True).select_option(scenario)
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_label("扫不出来？手动输入码")).to_be_visible()


def qr_digits(token: str) -> str:
    from app.passes.qr import to_numeric

    return to_numeric(token)


def scan_by_hand(page: Page, token: str) -> None:
    """Type the QR's digits into the manual entry, as a person does when the camera cannot read it."""
    page.get_by_label("扫不出来？手动输入码").fill(qr_digits(token))
    page.get_by_role("button", name="核验", exact=True).click()
