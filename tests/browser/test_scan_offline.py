"""The scanner without a network: offline codes decided in the page, once, reported when back online,
refused once the kept deny list is older than its max_age."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from app.core.clock import utcnow
from app.core.sms import RecordingSender
from tests.browser import helpers
from tests.browser.conftest import LiveServer
from tests.passes import helpers as passes


def test_an_offline_code_verifies_once_offline_and_is_reported_when_back_online(
    page: Page, live_server: LiveServer, committed_engine: Engine, sms: RecordingSender
):
    merchant = helpers.partner(committed_engine, "merchant")
    page.clock.set_system_time(utcnow())
    with helpers.api_client(live_server.url) as http:
        helpers.enrol_scanner(page, helpers.enrolment_code(http, merchant))
        holder = passes.resident(http, sms)
        codes = http.post(
            "/v1/me/passes/offline",
            json={"scenario": "deposit_free_rental", "count": 2},
            headers=holder["headers"],
        )
        assert codes.status_code == 201, codes.text
        first, second = (c["token"] for c in codes.json()["data"])
    expect(page.get_by_text("在线 · 离线名单更新于 刚刚")).to_be_visible()
    verdict = page.locator("#result-verdict")

    page.context.set_offline(True)
    expect(page.get_by_text("离线 · 离线名单更新于 刚刚")).to_be_visible()
    helpers.scan_by_hand(page, first)
    expect(verdict).to_have_text("✓ 符合条件（离线核验）")
    expect(page.locator("#result-benefit")).to_have_text("免押金，最高 99 元")
    expect(page.get_by_text("1 条离线核验待上报（联网后自动上报）")).to_be_visible()

    page.get_by_role("button", name="继续扫码").click()
    helpers.scan_by_hand(page, first)
    expect(verdict).to_have_text("已使用")

    page.context.set_offline(False)
    expect(page.get_by_text("已上报 1 条离线核验")).to_be_visible()
    with helpers.api_client(live_server.url) as http:
        scans = http.get("/v1/me/verifications", headers=holder["headers"]).json()["data"]
    assert [(s["mode"], s["decision"], s["partner"]["id"], s["flagged"]) for s in scans] == [
        ("offline", "eligible", merchant["id"], False)
    ]

    # Past the list's max_age (12 h) without a network, offline codes are refused
    page.context.set_offline(True)
    page.clock.set_system_time(utcnow() + timedelta(hours=13))
    page.get_by_role("button", name="继续扫码").click()
    helpers.scan_by_hand(page, second)
    expect(verdict).to_have_text("离线名单已过期，暂不能离线核验")
    expect(page.get_by_text(re.compile(r"^离线 · 离线名单已过期"))).to_be_visible()
