"""The resident app's scenes for ``make screens`` (scripts/screens.py): home and the pass, on a phone."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser.resident import penalty, provider, push, sign_in_verified
from tests.browser.world import World


def resident_scenes(w: World, out: Path) -> list[Path]:
    browser = w.browser()
    page = w.context(browser).new_page()
    _, id_number = sign_in_verified(page, w.sms, name="张伟")
    department = provider(w.engine, "乌鲁木齐市市场监督管理局")  # a fresh database: the plain name
    push(w.http, department, penalty(id_number, 200, "未按期履行行政处罚决定"))  # a reason to show
    page.reload()
    expect(page.get_by_role("link", name="现在申请信用修复")).to_be_visible()
    home = out / "resident-home.png"
    page.screenshot(path=str(home))
    page.get_by_role("main").get_by_role("link", name="出示信用码").click()
    expect(page.get_by_role("timer")).to_contain_text("秒后失效")
    shown = out / "resident-pass.png"
    page.screenshot(path=str(shown))
    browser.close()
    return [home, shown]
