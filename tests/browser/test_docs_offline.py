"""/docs renders in a browser with the network cut: Swagger UI's script and styles come from this service
(no CDN), and the operations are listed under their tags in reading order. Every request that is not to
the local server is blocked and recorded, and none may be attempted."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from app.main import OPENAPI_TAGS
from tests.browser import helpers
from tests.browser.live import LiveServer


def test_docs_render_offline_with_the_operations_listed_in_reading_order(
    browser: Browser, live_server: LiveServer
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    blocked = helpers.outside_requests(context)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/docs")
        expect(page.get_by_role("heading", name="信易+ credit-incentive marketplace")).to_be_visible(
            timeout=30_000
        )
        for path in ("/v1/auth/otp", "/v1/me/passes", "/v1/verifications", "/v1/rentals"):
            expect(page.get_by_text(path, exact=True).first).to_be_visible()
        shown = [name.strip() for name in page.locator("h3 > a > span").all_inner_texts()]
    finally:
        context.close()
    assert blocked == []
    # Every tag in use is listed in OPENAPI_TAGS (an unlisted one would show up here, after them).
    assert shown == [tag["name"] for tag in OPENAPI_TAGS]
