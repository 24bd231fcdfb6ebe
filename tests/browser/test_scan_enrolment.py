"""A scanner device enrolled by its camera: the manager's screen shows the enrolment code as a QR code, the
device at the counter reads it at /scan (Chromium's fake camera plays the picture), scans, and is refused
from its next scan on once the manager revokes it."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from app.core.clock import utcnow
from app.core.sms import RecordingSender
from tests.browser import helpers
from tests.browser.camera import camera_args, y4m_of
from tests.browser.conftest import TABLET, LaunchBrowser, LiveServer
from tests.passes import helpers as passes


def picture_of(page: Page, data_url: str) -> bytes:
    """The QR code as the manager's screen shows it: the API's SVG in an <img>, captured."""
    page.set_content(f'<img alt="激活二维码" src="{data_url}" width="320" height="320">')
    return page.get_by_role("img", name="激活二维码").screenshot()


def test_a_device_enrols_by_reading_the_managers_qr_code_and_is_refused_once_revoked(
    page: Page,
    live_server: LiveServer,
    launch_browser: LaunchBrowser,
    committed_engine: Engine,
    sms: RecordingSender,
    tmp_path: Path,
):
    merchant = helpers.partner(committed_engine, "merchant", ["verifications:write", "rentals:write"])
    with helpers.api_client(live_server.url) as http:
        issued = http.post(
            "/v1/partner/scanner-devices", json={"name": "前台 2号机"}, headers=merchant["headers"]
        )
        assert issued.status_code == 201, issued.text
        device = issued.json()
        holder = passes.resident(http, sms)
        token = passes.issue(http, holder)["token"]
    video = y4m_of(picture_of(page, device["enrolment_qr_svg_data_url"]), tmp_path / "enrolment.y4m")

    counter = launch_browser(*camera_args(video)).new_context(
        base_url=live_server.url, viewport=TABLET, locale="zh-CN", permissions=["camera"]
    )
    try:
        scanner = counter.new_page()
        scanner.clock.set_system_time(utcnow())
        scanner.goto("/scan")
        scanner.get_by_role("button", name="用摄像头扫描激活二维码").click()

        # the camera reads the code and the device is enrolled: it asks for its scenario next
        scanner.get_by_label("核验场景", exact=True).select_option("deposit_free_rental", timeout=10_000)
        scanner.get_by_role("button", name="保存").click()
        expect(scanner.get_by_text("前台 2号机 · 信易租", exact=False)).to_be_visible()
        with helpers.api_client(live_server.url) as http:
            listed = http.get("/v1/partner/scanner-devices", headers=merchant["headers"]).json()["data"]
            assert [(d["id"], d["status"]) for d in listed] == [(device["id"], "enrolled")]

            helpers.scan_by_hand(scanner, token)
            expect(scanner.locator("#result-verdict")).to_have_text("✓ 符合条件")

            # the manager revokes the device: its next scan is refused, and it forgets its credential
            revoked = http.post(
                f"/v1/partner/scanner-devices/{device['id']}/revoke", headers=merchant["headers"]
            )
            assert revoked.status_code == 200, revoked.text
            token = passes.issue(http, holder)["token"]
        scanner.get_by_role("button", name="继续扫码").click()
        helpers.scan_by_hand(scanner, token)
        expect(scanner.locator("#result-verdict")).to_have_text("本设备已被停用")
        expect(scanner.locator("#result-reason")).to_have_text("商户管理员已注销本设备。")
        scanner.reload()
        expect(scanner.get_by_role("button", name="用摄像头扫描激活二维码")).to_be_visible()
    finally:
        counter.close()


def test_a_code_that_is_not_an_enrolment_code_is_named_and_the_device_stays_unenrolled(
    page: Page,
    live_server: LiveServer,
    launch_browser: LaunchBrowser,
    committed_engine: Engine,
    sms: RecordingSender,
    tmp_path: Path,
):
    # the camera sees a resident's pass instead of the manager's enrolment QR code
    with helpers.api_client(live_server.url) as http:
        holder = passes.resident(http, sms)
        svg = passes.issue(http, holder)["qr"]["svg_data_url"]
    video = y4m_of(picture_of(page, svg), tmp_path / "pass.y4m")
    counter = launch_browser(*camera_args(video)).new_context(
        base_url=live_server.url, viewport=TABLET, locale="zh-CN", permissions=["camera"]
    )
    try:
        scanner = counter.new_page()
        scanner.goto("/scan")
        scanner.get_by_role("button", name="用摄像头扫描激活二维码").click()
        expect(scanner.locator("#enrol-error")).to_have_text(
            "这不是激活二维码：请扫描商户管理员屏幕上显示的激活二维码。", timeout=10_000
        )
        expect(scanner.get_by_label("激活码")).to_have_value("")
        assert scanner.evaluate("localStorage.length") == 0
    finally:
        counter.close()
