"""The merchant manager's console: enrolling a scanner device (the code and its QR shown once), the device
enrolling at /scan with it, revoking it (its next scan is refused); the scan statistics and the rentals
with their default rate."""

from __future__ import annotations

from datetime import timedelta

import httpx
from playwright.sync_api import Dialog, Page, expect
from sqlalchemy import Engine
from sqlmodel import select

from app.core.clock import business_date, utcnow
from app.core.config import Settings
from app.core.sms import RecordingSender
from app.rentals.models import Rental
from tests.browser import helpers
from tests.browser.conftest import TABLET, LaunchBrowser, LiveServer
from tests.browser.console import sign_in_to_console
from tests.browser.members import DESKTOP, member, member_menu
from tests.passes import helpers as passes
from tests.rentals import helpers as rentals

SCOPES = ["verifications:write", "rentals:write"]


def test_a_merchant_manager_enrols_a_scanner_device_and_revokes_it(
    page: Page,
    live_server: LiveServer,
    launch_browser: LaunchBrowser,
    committed_engine: Engine,
    settings: Settings,
    sms: RecordingSender,
) -> None:
    merchant = helpers.partner(committed_engine, "merchant", SCOPES)
    manager = member(committed_engine, settings, merchant["id"], "manager")
    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, manager)

    # the menu offers the merchant's sections, the partner named with the role, and starts on the devices
    assert member_menu(page) == ["扫码设备", "扫码统计", "租赁", "API 密钥", "团队成员"]
    expect(page.get_by_role("navigation", name="控制台菜单")).to_contain_text(f"{merchant['name']}（经理）")
    expect(page.get_by_role("heading", name="扫码设备", level=1)).to_be_visible()
    expect(page.get_by_text("还没有扫码设备。")).to_be_visible()

    # the manager adds a device: its code and QR code are shown once, with how long they are valid
    page.get_by_label("设备名称").fill("前台 3号机")
    page.get_by_role("button", name="添加设备").click()
    shown = page.get_by_role("region", name="前台 3号机 的激活码")
    expect(shown.get_by_role("img", name="激活二维码")).to_be_visible()
    expect(shown).to_contain_text("激活码和二维码只显示这一次，24 小时内有效")
    code = shown.locator("#enrolment-code").inner_text()
    row = page.get_by_role("row").filter(has_text="前台 3号机")
    expect(row).to_contain_text("待激活")

    # the device at the counter enrols with the code and scans a pass
    counter = launch_browser().new_context(base_url=live_server.url, viewport=TABLET, locale="zh-CN")
    try:
        scanner = counter.new_page()
        scanner.clock.set_system_time(utcnow())
        helpers.enrol_scanner(scanner, code)
        with helpers.api_client(live_server.url) as http:
            holder = passes.resident(http, sms)  # type: ignore[arg-type]
            helpers.scan_by_hand(scanner, passes.issue(http, holder)["token"])  # type: ignore[arg-type]
            expect(scanner.locator("#result-verdict")).to_have_text("✓ 符合条件")

            # the console shows it enrolled; leaving the page and coming back, the code is not shown again
            page.get_by_role("link", name="扫码统计").click()
            page.get_by_role("link", name="扫码设备").click()
            expect(row).to_contain_text("已激活")
            expect(page.get_by_role("img", name="激活二维码")).to_have_count(0)
            assert code not in page.content()

            # the manager revokes it, confirming first
            dialogs: list[str] = []

            def accept(dialog: Dialog) -> None:
                dialogs.append(dialog.message)
                dialog.accept()

            page.once("dialog", accept)
            row.get_by_role("button", name="注销 前台 3号机").click()
            expect(page.get_by_role("status").filter(has_text="已注销 前台 3号机")).to_be_visible()
            assert dialogs == ["注销 前台 3号机？该设备下一次扫码起即被拒绝。"]
            expect(row).to_contain_text("已注销")
            expect(row.get_by_role("button")).to_have_count(0)
            listed = http.get("/v1/partner/scanner-devices", headers=merchant["headers"]).json()["data"]
            assert [(d["name"], d["status"]) for d in listed] == [("前台 3号机", "revoked")]

            # the device's next scan is refused
            token = passes.issue(http, holder)["token"]  # type: ignore[arg-type]
        scanner.get_by_role("button", name="继续扫码").click()
        helpers.scan_by_hand(scanner, token)
        expect(scanner.locator("#result-verdict")).to_have_text("本设备已被停用")
    finally:
        counter.close()


def test_a_revocation_the_manager_does_not_confirm_changes_nothing(
    page: Page, live_server: LiveServer, committed_engine: Engine, settings: Settings, sms: RecordingSender
) -> None:
    merchant = helpers.partner(committed_engine, "merchant", SCOPES)
    with helpers.api_client(live_server.url) as http:
        helpers.enrolment_code(http, merchant, "前台 4号机")
    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, member(committed_engine, settings, merchant["id"], "clerk"))
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="注销 前台 4号机").click()
    expect(page.get_by_role("row").filter(has_text="前台 4号机")).to_contain_text("待激活")
    with helpers.api_client(live_server.url) as http:
        listed = http.get("/v1/partner/scanner-devices", headers=merchant["headers"]).json()["data"]
    assert [d["status"] for d in listed] == ["awaiting_enrolment"]


def _rent(http: httpx.Client, merchant: dict, sms: RecordingSender) -> str:
    holder = rentals.resident(http, sms)  # type: ignore[arg-type]
    verification = rentals.verification(http, holder, merchant)  # type: ignore[arg-type]
    opened = rentals.open_rental(http, merchant, verification["id"])  # type: ignore[arg-type]
    assert opened.status_code == 201, opened.text
    return str(opened.json()["id"])


def test_a_merchant_manager_reads_scans_and_rentals_with_the_default_rate(
    page: Page, live_server: LiveServer, committed_engine: Engine, settings: Settings, sms: RecordingSender
) -> None:
    # three deposit-free rentals today: one returned, one open, one open past its due time
    merchant = helpers.partner(committed_engine, "merchant", SCOPES)
    with helpers.api_client(live_server.url) as http:
        returned, still_open, late = (_rent(http, merchant, sms) for _ in range(3))
        back = http.post(
            f"/v1/rentals/{returned}/return", headers={**merchant["headers"], "Idempotency-Key": returned}
        )
        assert back.status_code == 200, back.text
    with helpers.session_on(committed_engine) as session:
        rental = session.exec(select(Rental).where(Rental.id == late)).one()
        rental.due_at = utcnow() - timedelta(hours=1)  # time has passed for this one
        session.add(rental)
        session.commit()

    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, member(committed_engine, settings, merchant["id"], "clerk"))

    # the scans: three, all eligible, today and in the deposit-free rental scenario
    page.get_by_role("link", name="扫码统计").click()
    today = business_date().isoformat()
    expect(
        page.get_by_role("region", name=f"{(business_date() - timedelta(days=29)).isoformat()} 至 {today}")
    ).to_contain_text("扫码次数3符合条件3符合率100.0%")
    expect(page.get_by_role("region", name="按场景").get_by_role("row").nth(1)).to_have_text("信易租33100.0%")
    expect(page.get_by_role("region", name="按日").get_by_role("row").nth(1)).to_have_text(f"{today}33100.0%")

    # the rentals: the figures with the default rate (none defaulted of the one ended)
    page.get_by_role("link", name="租赁").click()
    figures = page.get_by_role("region", name="租赁概况（按开始日期）")
    expect(figures).to_contain_text("开始租赁3已逾期1已结束1违约率0.0%")
    listed = page.get_by_role("region", name="租赁记录")
    expect(listed.get_by_role("row")).to_have_count(4)

    # filtered: the overdue one, then the open ones (the overdue one among them, marked)
    page.get_by_label("状态", exact=True).select_option("overdue")
    expect(listed.get_by_role("row")).to_have_count(2)
    expect(listed.get_by_role("row").nth(1)).to_contain_text(late)
    page.get_by_label("状态", exact=True).select_option("open")
    expect(listed.get_by_role("row")).to_have_count(3)
    expect(listed.get_by_role("row").filter(has_text=still_open)).to_contain_text("租赁中")
    expect(listed.get_by_role("row").filter(has_text=late)).to_contain_text("已逾期")
    page.get_by_label("状态", exact=True).select_option("defaulted")
    expect(listed).to_contain_text("没有符合条件的租赁。")
