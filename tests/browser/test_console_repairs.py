"""The operators' console: a repair application decided within its 3 working days, with the proof
shown in the page and offered as a download, and the score that moves."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from app.core.config import Settings
from app.core.sms import RecordingSender
from tests.browser import helpers
from tests.browser.conftest import LiveServer
from tests.browser.console import resident_with_repair, sign_in_to_console, staff
from tests.clock import TODAY


def test_an_operator_approves_a_repair_and_the_record_stops_counting(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine, settings: Settings
) -> None:
    # given a resident who applied for repair of a penalty, with a PDF as proof
    with helpers.api_client(live_server.url) as http:
        resident = resident_with_repair(http, committed_engine, sms)
    repair = resident["repair"]
    before = resident["score_before"]
    due = date.fromisoformat(repair["decision_due_on"])
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in_to_console(page, sms, staff(committed_engine, settings, "operator"))

    # when the operator opens the repair queue
    page.get_by_role("navigation", name="控制台菜单").get_by_role("link", name="信用修复").click()
    expect(page.get_by_role("heading", name="信用修复申请队列")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=repair["id"]))
    # then it shows its due day (3 working days on) and the days left until it
    expect(row).to_contain_text(repair["decision_due_on"])
    expect(row).to_contain_text(f"剩 {(due - TODAY).days} 天")

    # when they open it, the proof is drawn in the page's PDF viewer and offered as a download
    row.get_by_role("link", name=repair["id"]).click()
    expect(page.get_by_text("已足额缴纳罚款并完成整改。")).to_be_visible()
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("img", name="缴款凭证.pdf 第 1 页，共 2 页")).to_be_visible()
    download = page.get_by_role("link", name="下载 缴款凭证.pdf（PDF）")
    expect(download).to_have_attribute("href", re.compile("^blob:"))
    expect(download).to_have_attribute("download", "缴款凭证.pdf")
    with page.expect_download() as saved:
        download.click()
    assert saved.value.suggested_filename == "缴款凭证.pdf"

    # a refusal without reasons is refused by the API, and the page says why
    page.get_by_label("不予修复").check()
    page.get_by_role("button", name="提交决定").click()
    expect(page.get_by_role("alert")).to_contain_text("reasons")
    with helpers.api_client(live_server.url) as http:
        still = http.get(f"/v1/me/repairs/{repair['id']}", headers=resident["headers"]).json()
    assert still["status"] == "pending"

    # and they approve it
    page.get_by_label("批准修复").check()
    page.get_by_role("button", name="提交决定").click()

    # then the score shown after is the resident's score now, higher than before
    banner = page.get_by_role("status").filter(has_text="已处理")
    expect(banner).to_contain_text("已处理：已批准。")
    moved = re.search(r"信用分 (\d+)（(\w+)）→ (\d+)（(\w+)）", banner.inner_text())
    assert moved is not None
    with helpers.api_client(live_server.url) as http:
        after = http.get("/v1/me/score", headers=resident["headers"]).json()
        mine = http.get(f"/v1/me/repairs/{repair['id']}", headers=resident["headers"]).json()
    assert (int(moved[1]), moved[2], int(moved[3]), moved[4]) == (
        before["score"],
        before["level"],
        after["score"],
        after["level"],
    )
    assert after["score"] > before["score"]
    assert mine["status"] == "approved"
