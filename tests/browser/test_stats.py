"""The public statistics page in Chromium: the charts draw from the public API, from this origin only,
under the page's CSP, and the figures on the page are the API's."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from app.core.sms import RecordingSender
from tests.browser import helpers
from tests.browser.conftest import LiveServer
from tests.passes import helpers as passes


@pytest.fixture
def merchant(committed_engine: Engine) -> dict[str, Any]:
    return helpers.partner(committed_engine, "merchant", ["verifications:write"])


def test_the_charts_draw_the_public_figures(
    page: Page, live_server: LiveServer, merchant: dict[str, Any], sms: RecordingSender
):
    with helpers.api_client(live_server.url) as http:
        holder = passes.resident(http, sms)
        scanned = passes.verify(http, merchant, passes.issue(http, holder)["token"])  # type: ignore[arg-type]
        assert scanned.status_code == 201, scanned.text
        usage = http.get("/v1/stats/scenarios").json()
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto("/stats")

    expect(page.locator("#stats")).to_have_attribute("data-charts", "ready")
    expect(page.locator("#chart-scenarios canvas")).to_have_count(1)
    rental = page.locator('tr[data-scenario="deposit_free_rental"] td')
    figures = {s["scenario"]: s for s in usage["by_scenario"]}["deposit_free_rental"]
    expect(rental).to_have_text([str(figures["scans"]), str(figures["eligible"])])
    assert figures["scans"] >= 1
    assert problems == [], problems
    assert requests and all(url.startswith(live_server.url) for url in requests)


def test_the_page_switches_to_english(page: Page, live_server: LiveServer):
    page.goto("/stats")
    page.get_by_role("link", name="English").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Xinyi+ public statistics")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#stats")).to_have_attribute("data-charts", "ready")
