"""The console's scenes for ``make screens`` (scripts/screens.py): the operator's objection queue, the
auditor's log with the chain verified, a merchant manager's new scanner device (its enrolment code and QR
code, shown once), a data provider's upload with its refused rows, a merchant owner's new API key and team,
and a bank officer's referral, on a desktop."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from app.core.config import Settings
from tests.browser import bank as banks
from tests.browser import helpers
from tests.browser.console import VERIFY_MS, resident_with_objection, sign_in_to_console, staff
from tests.browser.members import member
from tests.browser.resident import penalty
from tests.browser.world import World, settings_in
from tests.helpers import make_phone
from tests.passes.helpers import unique_id_number

DESKTOP = {"width": 1280, "height": 800}


def console_scenes(w: World, out: Path) -> list[Path]:
    settings = settings_in(w.directory)  # the world's own settings: the same keys, so staff sign in
    case = resident_with_objection(w.http, w.engine, w.sms)
    browser = w.browser()

    page = w.context(browser, viewport=DESKTOP).new_page()
    sign_in_to_console(page, w.sms, staff(w.engine, settings, "operator"))
    expect(page.get_by_role("link", name=case["objection"]["id"])).to_be_visible()
    operator = out / "console-operator.png"
    page.screenshot(path=str(operator))

    page = w.context(browser, viewport=DESKTOP).new_page()
    sign_in_to_console(page, w.sms, staff(w.engine, settings, "auditor"))
    page.get_by_role("button", name="校验审计链").click()
    expect(page.get_by_text("审计链完整")).to_be_visible(timeout=VERIFY_MS)
    expect(page.get_by_role("region", name="审计记录").get_by_role("row").nth(1)).to_be_visible()
    auditor = out / "console-auditor.png"
    page.screenshot(path=str(auditor))
    merchant, provider = _member_scenes(w, settings, browser, out)
    keys, team = _partner_admin_scenes(w, settings, browser, out)
    browser.close()
    return [operator, auditor, merchant, provider, keys, team]


def _partner_admin_scenes(w: World, settings: Settings, browser: Browser, out: Path) -> tuple[Path, Path]:
    """A merchant's owner: a new API key, its secret shown once; the team with a clerk's invitation waiting."""
    page = w.context(browser, viewport=DESKTOP).new_page()
    sign_in_to_console(page, w.sms, member(w.engine, settings, w.merchant()["id"], "owner"))
    nav = page.get_by_role("navigation", name="控制台菜单")
    nav.get_by_role("link", name="API 密钥").click()
    page.get_by_label("用途").fill("收银系统")
    page.get_by_role("button", name="创建密钥").click()
    expect(page.get_by_role("button", name="复制")).to_be_visible()
    keys = out / "console-api-keys.png"
    page.screenshot(path=str(keys))
    nav.get_by_role("link", name="团队成员").click()
    invite = page.get_by_role("region", name="邀请成员")
    invite.get_by_label("手机号").fill(make_phone())
    invite.get_by_role("button", name="发送邀请").click()
    expect(page.get_by_role("region", name="待接受的邀请").get_by_role("row")).to_have_count(2)
    team = out / "console-team.png"
    page.screenshot(path=str(team))
    return keys, team


def _member_scenes(w: World, settings: Settings, browser: Browser, out: Path) -> tuple[Path, Path]:
    page = w.context(browser, viewport=DESKTOP).new_page()
    sign_in_to_console(page, w.sms, member(w.engine, settings, w.merchant()["id"], "manager"))
    expect(page.get_by_role("region", name="设备列表")).to_be_visible()
    page.get_by_label("设备名称").fill("前台 1号机")
    page.get_by_role("button", name="添加设备").click()
    expect(page.get_by_role("img", name="激活二维码")).to_be_visible()
    expect(page.get_by_role("region", name="设备列表").get_by_role("row")).to_have_count(2)
    merchant = out / "console-merchant.png"
    page.screenshot(path=str(merchant))

    department = helpers.partner(w.engine, "data_provider", ["records:write"], "乌鲁木齐市市场监督管理局")
    rows = [penalty(unique_id_number(), 30, "未按规定公示年度报告") for _ in range(3)]
    rows[1]["severity"] = "huge"
    rows[2]["decision_date"] = "2026-13-40"
    columns = list(rows[0])
    upload = w.directory / "amr-2026-11.csv"
    upload.write_text("\n".join([",".join(columns)] + [",".join(r[c] for c in columns) for r in rows]) + "\n")
    page = w.context(browser, viewport=DESKTOP).new_page()
    sign_in_to_console(page, w.sms, member(w.engine, settings, department["id"], "manager"))
    expect(page.get_by_role("region", name="批次与文件导入")).to_be_visible()
    page.get_by_label("记录文件（CSV 或 JSON Lines）").set_input_files(upload)
    page.get_by_role("button", name="上传", exact=True).click()
    expect(page.get_by_role("region", name="上传结果")).to_be_visible()
    provider = out / "console-data-provider.png"
    page.screenshot(path=str(provider))
    return merchant, provider


def bank_console_scenes(w: World, out: Path) -> list[Path]:
    """A bank officer's referral: the enterprise's report fetched while its consent is valid, and the
    decision form."""
    settings = settings_in(w.directory)
    bank = banks.bank(w.engine)
    banks.product(w.http, bank)
    firm = banks.referred_enterprise(w.http, w.sms, bank["id"])
    browser = w.browser()
    page = w.context(browser, viewport=DESKTOP).new_page()
    sign_in_to_console(page, w.sms, banks.member(w.engine, settings, bank["id"], "manager"))
    page.get_by_role("link", name=f"查看 {firm['referral_id']}").click()
    page.get_by_role("button", name="获取信用报告").click()
    expect(page.get_by_text("企业授权有效至")).to_be_visible()
    path = out / "console-bank.png"
    page.screenshot(path=str(path), full_page=True)
    browser.close()
    return [path]
