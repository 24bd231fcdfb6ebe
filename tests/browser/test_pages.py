"""Served pages: strict CSP, no inline script, nothing from another origin."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer


def test_scan_page_is_served_with_a_strict_content_security_policy(page: Page, live_server: LiveServer):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    response = page.goto("/scan")

    assert response is not None and response.status == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self' 'wasm-unsafe-eval'" in csp
    assert "unsafe-inline" not in csp
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("扫码核验"))
    assert requests and all(url.startswith(live_server.url) for url in requests)
    # No inline script in the page as sent
    assert "<script>" not in page.content() and not re.search(r"<script(?![^>]*\bsrc=)", response.text())
