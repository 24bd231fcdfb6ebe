"""The console's scenes for ``make screens`` (scripts/screens.py): the operator's objection queue, the
auditor's log with the chain verified and a bank officer's referral, on a desktop."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser import bank as banks
from tests.browser.console import VERIFY_MS, resident_with_objection, sign_in_to_console, staff
from tests.browser.world import World, settings_in

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
    browser.close()
    return [operator, auditor]


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
