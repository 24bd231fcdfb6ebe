"""No serious accessibility violation (axe-core) on the scanner and the resident app, on a phone
(360×640) and on a tablet, in each state a person meets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine

from app.core.clock import utcnow
from app.core.sms import RecordingSender
from tests.browser import helpers
from tests.browser.axe import serious_violations
from tests.browser.conftest import PHONE, TABLET, LiveServer
from tests.browser.resident import sign_in_verified
from tests.passes import helpers as passes


@pytest.fixture(params=[PHONE, TABLET], ids=["phone", "tablet"])
def audited(request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server.url, viewport=request.param, locale="zh-CN", bypass_csp=True
    )
    yield context.new_page()
    context.close()


def test_the_scanner_has_no_serious_violation(
    audited: Page, live_server: LiveServer, committed_engine: Engine, sms: RecordingSender
):
    page = audited
    merchant = helpers.partner(committed_engine, "merchant")
    page.clock.set_system_time(utcnow())
    seen: dict[str, list[dict[str, Any]]] = {}

    page.goto("/scan")
    expect(page.get_by_label("激活码")).to_be_visible()
    seen["enrol"] = serious_violations(page)
    with helpers.api_client(live_server.url) as http:
        page.get_by_label("激活码").fill(helpers.enrolment_code(http, merchant))
        page.get_by_role("button", name="激活本设备").click()
        expect(page.get_by_label("核验场景", exact=True)).to_be_visible()
        seen["setup"] = serious_violations(page)
        page.get_by_role("button", name="保存").click()
        holder = passes.resident(http, sms)
        token = passes.issue(http, holder)["token"]
    helpers.scan_by_hand(page, token)
    expect(page.locator("#result-verdict")).to_have_text("✓ 符合条件")
    seen["eligible"] = serious_violations(page)
    page.get_by_role("button", name="继续扫码").click()
    helpers.scan_by_hand(page, token)
    expect(page.locator("#result-verdict")).to_have_text("已使用")
    seen["used"] = serious_violations(page)

    assert seen == {"enrol": [], "setup": [], "eligible": [], "used": []}


def test_the_resident_app_has_no_serious_violation(audited: Page, sms: RecordingSender):
    page = audited
    page.goto("/app")
    expect(page.get_by_label("手机号")).to_be_visible()
    signed_out = serious_violations(page)
    sign_in_verified(page, sms)
    home = serious_violations(page)
    page.get_by_role("link", name="出示信用码").first.click()
    expect(page.get_by_role("img", name="信用码")).to_be_visible()
    shown = serious_violations(page)

    assert {"sign-in": signed_out, "home": home, "pass": shown} == {"sign-in": [], "home": [], "pass": []}


def test_the_resident_apps_other_screens_have_no_serious_violation(
    audited: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine
):
    from tests.browser.resident import penalty, provider, push

    page = audited
    _, id_number = sign_in_verified(page, sms)
    with helpers.api_client(live_server.url) as http:
        push(http, provider(committed_engine), penalty(id_number, 200, "逾期未缴纳罚款"))
    seen: dict[str, list[dict[str, Any]]] = {}
    for name, path, ready in [
        ("records", "/app#/records", "逾期未缴纳罚款"),
        ("scans", "/app#/scans", "还没有核验记录。"),
        ("more", "/app#/more", "退出登录"),
        ("places", "/app#/more/places", "信易租"),
        ("report", "/app#/more/report", "下载报告"),
        ("consents", "/app#/more/consents", "没有授权记录。"),
        ("access log", "/app#/more/access", "谁查看了我的信息"),
        ("loans", "/app#/more/loans", "您不是任何企业的管理员。"),
    ]:
        page.goto(path)
        expect(page.get_by_text(ready).first).to_be_visible()
        seen[name] = serious_violations(page)
    page.goto("/app#/records")
    page.get_by_role("link", name="逾期未缴纳罚款").click()
    expect(page.get_by_role("button", name="提交修复申请")).to_be_visible()  # objection and repair forms
    seen["record"] = serious_violations(page)
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("button", name="Object")).to_be_visible()
    seen["record (English)"] = serious_violations(page)

    assert seen == {name: [] for name in seen}
