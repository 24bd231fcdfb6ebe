"""The resident app (/app) in Chromium: what a person sees."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from app.core.sms import RecordingSender
from tests.browser.conftest import LiveServer
from tests.browser.resident import sign_in_verified


def test_a_resident_signs_in_sees_the_level_and_shows_the_pass(
    page: Page, sms: RecordingSender, live_server: LiveServer
) -> None:
    sign_in_verified(page, sms)
    expect(page.get_by_text(re.compile(r"信用分 \d+ / 1000"))).to_be_visible()
    page.get_by_role("link", name="出示信用码").first.click()
    qr = page.get_by_role("img", name="信用码")
    expect(qr).to_have_attribute("src", re.compile("^data:image/svg"))
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^\d+ 秒后失效，将自动刷新$"))
