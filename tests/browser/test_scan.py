"""The merchant's scanner at /scan, as the person at the counter uses it (manual entry; the camera is in
test_headline.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from app.core.clock import utcnow
from app.core.sms import RecordingSender
from tests.browser import helpers
from tests.browser.conftest import LiveServer
from tests.passes import helpers as passes


@pytest.fixture
def merchant(committed_engine: Engine) -> dict[str, Any]:
    return helpers.partner(committed_engine, "merchant", ["verifications:write", "rentals:write"])


def test_enrolled_scanner_shows_eligible_then_already_used(
    page: Page, live_server: LiveServer, merchant: dict[str, Any], sms: RecordingSender
):
    page.clock.set_system_time(utcnow())
    with helpers.api_client(live_server.url) as http:
        helpers.enrol_scanner(page, helpers.enrolment_code(http, merchant))
        holder = passes.resident(http, sms)
        token = passes.issue(http, holder)["token"]

    expect(page.get_by_text(re.compile(r"前台 1号机 · 信易租"))).to_be_visible()
    helpers.scan_by_hand(page, token)
    result = page.locator("#result")
    expect(result.get_by_text("✓ 符合条件")).to_be_visible()
    expect(result.get_by_text("免押金，最高 99 元")).to_be_visible()

    page.get_by_role("button", name="继续扫码").click()
    helpers.scan_by_hand(page, token)
    expect(result.get_by_text("已使用")).to_be_visible()
    expect(result.get_by_text("请对方在「信易+」App 中刷新信用码后重新出示。")).to_be_visible()


def test_a_black_listed_resident_is_not_eligible_and_is_told_why(
    page: Page,
    live_server: LiveServer,
    merchant: dict[str, Any],
    sms: RecordingSender,
    committed_engine: Engine,
):
    page.clock.set_system_time(utcnow())
    with helpers.api_client(live_server.url) as http:
        helpers.enrol_scanner(page, helpers.enrolment_code(http, merchant))
        holder = passes.resident(http, sms)
        helpers.black_list(http, committed_engine, holder)
        token = passes.issue(http, holder)["token"]

    helpers.scan_by_hand(page, token)
    result = page.locator("#result")
    expect(result.get_by_text("✗ 不符合条件")).to_be_visible()
    expect(result.get_by_text("对方目前受失信联合惩戒限制")).to_be_visible()
    expect(result.get_by_text(re.compile("提出异议"))).to_be_visible()
    expect(page.get_by_role("button", name="开始免押金租借")).to_be_hidden()


def test_a_failed_scan_always_says_why(
    page: Page, live_server: LiveServer, merchant: dict[str, Any], sms: RecordingSender
):
    page.clock.set_system_time(utcnow())
    with helpers.api_client(live_server.url) as http:
        helpers.enrol_scanner(page, helpers.enrolment_code(http, merchant))
        holder = passes.resident(http, sms)
        forged, online = passes.issue(http, holder)["token"], passes.issue(http, holder)["token"]
    forged = forged[:-4] + ("AAAA" if not forged.endswith("AAAA") else "BBBB")
    verdict = page.locator("#result-verdict")
    reason = page.locator("#result-reason")

    page.get_by_label("扫不出来？手动输入码").fill("https://example.com/not-a-pass")
    page.get_by_role("button", name="核验", exact=True).click()
    expect(verdict).to_have_text("不是信易+信用码")
    expect(reason).to_have_text("扫到的二维码不是信易+信用码。")

    page.get_by_role("button", name="继续扫码").click()
    helpers.scan_by_hand(page, forged)
    expect(verdict).to_have_text("不是有效的信易+信用码")
    expect(reason).to_have_text("码的签名校验失败，可能被篡改或伪造。")

    page.get_by_role("button", name="继续扫码").click()
    page.context.set_offline(True)
    helpers.scan_by_hand(page, online)
    expect(verdict).to_have_text("网络不可用，无法核验")
    expect(page.locator("#result-advice")).to_have_text("请对方出示「离线码」，或待网络恢复后重试。")
    expect(page.get_by_text(re.compile("^离线 · 离线名单更新于"))).to_be_visible()


def test_an_eligible_resident_rents_without_deposit_and_returns(
    page: Page, live_server: LiveServer, merchant: dict[str, Any], sms: RecordingSender
):
    page.clock.set_system_time(utcnow())
    with helpers.api_client(live_server.url) as http:
        helpers.enrol_scanner(page, helpers.enrolment_code(http, merchant))
        holder = passes.resident(http, sms)
        setup = http.post("/v1/me/payment-method/setup", headers=holder["headers"])
        assert setup.status_code == 201, setup.text
        token = passes.issue(http, holder)["token"]

    helpers.scan_by_hand(page, token)
    page.get_by_role("button", name="开始免押金租借").click()
    result = page.locator("#result")
    expect(result.get_by_text("✓ 已免押金租出")).to_be_visible()
    expect(result.get_by_text("充电宝已租出，免押金 99 元")).to_be_visible()

    with helpers.api_client(live_server.url) as http:
        rentals = http.get("/v1/rentals", headers=merchant["headers"]).json()["data"]
    assert [(r["status"], r["credit_amount"], r["fund_amount"]) for r in rentals] == [("open", 9900, 0)]

    page.get_by_role("button", name=re.compile("^归还充电宝")).click()
    expect(result.get_by_text("已归还")).to_be_visible()
    with helpers.api_client(live_server.url) as http:
        rentals = http.get("/v1/rentals", headers=merchant["headers"]).json()["data"]
    assert [r["status"] for r in rentals] == ["returned"]
