"""The console's scenes for ``make screens`` (scripts/screens.py): the operator's objection queue and a PDF
proof in the evidence viewer, the auditor's log with the chain verified, a merchant manager's new scanner
device (its enrolment code and QR code, shown once) and scan charts, a data provider's upload with its
refused rows, a merchant owner's new API key and team, and a bank officer's referral, on a desktop."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from app.core.config import Settings
from tests.browser import bank as banks
from tests.browser import helpers
from tests.browser.console import (
    VERIFY_MS,
    resident_with_objection,
    resident_with_repair,
    sign_in_to_console,
    staff,
    walk_requested,
)
from tests.browser.members import member
from tests.browser.resident import penalty
from tests.browser.world import World, settings_in
from tests.helpers import make_phone
from tests.passes import helpers as passes
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
    expect(page.get_by_text("已提交校验")).to_be_visible()
    walk_requested(w.engine, settings)  # the worker's part
    expect(page.get_by_text("审计链完整")).to_be_visible(timeout=VERIFY_MS)
    expect(page.get_by_role("region", name="审计记录").get_by_role("row").nth(1)).to_be_visible()
    auditor = out / "console-auditor.png"
    page.screenshot(path=str(auditor))
    evidence = _evidence_scene(w, settings, browser, out)
    merchant, scans, provider = _member_scenes(w, settings, browser, out)
    keys, team = _partner_admin_scenes(w, settings, browser, out)
    browser.close()
    return [operator, evidence, auditor, merchant, scans, provider, keys, team]


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


def _evidence_scene(w: World, settings: Settings, browser: Browser, out: Path) -> Path:
    """An operator reading a repair application's PDF proof in the viewer."""
    repair = resident_with_repair(w.http, w.engine, w.sms)["repair"]
    page = w.context(browser, viewport=DESKTOP).new_page()
    sign_in_to_console(page, w.sms, staff(w.engine, settings, "operator"))
    page.goto(f"/console#/repairs/{repair['id']}")
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("img", name="缴款凭证.pdf 第 1 页，共 2 页")).to_be_visible()
    path = out / "console-evidence-pdf.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _member_scenes(w: World, settings: Settings, browser: Browser, out: Path) -> tuple[Path, Path, Path]:
    shop = w.merchant()
    for resident, listed in ((w.resident(), False), (w.resident(), False), (w.resident(), True)):
        if listed:
            helpers.black_list(w.http, w.engine, resident)
        passes.verify(w.http, shop, passes.issue(w.http, resident)["token"]).raise_for_status()  # type: ignore[arg-type]
    page = w.context(browser, viewport=DESKTOP).new_page()
    sign_in_to_console(page, w.sms, member(w.engine, settings, shop["id"], "manager"))
    expect(page.get_by_role("region", name="设备列表")).to_be_visible()
    page.get_by_label("设备名称").fill("前台 1号机")
    page.get_by_role("button", name="添加设备").click()
    expect(page.get_by_role("img", name="激活二维码")).to_be_visible()
    expect(page.get_by_role("region", name="设备列表").get_by_role("row")).to_have_count(2)
    merchant = out / "console-merchant.png"
    page.screenshot(path=str(merchant))
    page.get_by_role("link", name="扫码统计").click()
    expect(page.get_by_role("region", name="按日").locator("[data-drawn=true]")).to_have_count(1)
    scans = out / "console-merchant-scans.png"
    page.screenshot(path=str(scans), full_page=True)

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
    return merchant, scans, provider


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
