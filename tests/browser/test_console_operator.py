"""The operators' console (/console) in Chromium: the objection queue with its clock, a case with its
evidence, and an answer that moves the resident's score (read back through the API)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from app.core.config import Settings
from app.core.sms import RecordingSender
from tests.browser import helpers
from tests.browser.conftest import LiveServer
from tests.browser.console import resident_with_objection, sign_in_to_console, staff


def test_an_operator_upholds_an_objection_and_the_residents_score_rises(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine, settings: Settings
) -> None:
    # given a resident who objected to a penalty, with a PNG as evidence, and an operator
    with helpers.api_client(live_server.url) as http:
        resident = resident_with_objection(http, committed_engine, sms)
    objection = resident["objection"]
    before = resident["score_before"]
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in_to_console(page, sms, staff(committed_engine, settings, "operator"))

    # when the operator opens the objection queue (the start page of an operator)
    menu = page.get_by_role("navigation", name="控制台菜单")
    expect(menu.get_by_role("link")).to_have_text(
        ["异议处理", "信用修复", "主体查询", "合作机构", "Webhook 投递", "定时任务", "数据导入", "审计日志"]
    )
    expect(page.get_by_role("heading", name="异议队列")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=objection["id"]))
    # then the case shows with its 20-day clock
    expect(row).to_contain_text("剩 20 天")
    expect(row).to_contain_text(resident["subject_id"])

    # when they open it
    row.get_by_role("link", name=objection["id"]).click()
    expect(page.get_by_role("heading", name=f"异议 {objection['id']}")).to_be_visible()
    expect(page.get_by_text("该处罚已被行政复议撤销，记录有误。")).to_be_visible()
    # the score before, read for this case
    expect(page.get_by_text(f"当前信用分 {before['score']}（等级 {before['level']}）")).to_be_visible()
    # the evidence, shown as an image fetched with the operator's token
    page.get_by_role("button", name="查看").click()
    image = page.get_by_role("img", name="证据材料：复议决定书.png")
    expect(image).to_have_attribute("src", re.compile("^blob:"))
    assert image.evaluate("img => img.complete && img.naturalWidth") == 8

    # and uphold it, withdrawing the record
    page.get_by_label("异议成立").check()
    page.get_by_label("处理方式").select_option("withdrawn")
    page.get_by_label("书面答复（含理由）").fill("经核实，该处罚已被复议撤销，撤销此记录。")
    page.get_by_role("button", name="提交答复").click()

    # then the page shows the score before and after, and the resident's score is the one shown after
    banner = page.get_by_role("status").filter(has_text="已处理")
    expect(banner).to_contain_text("已处理：异议成立。")
    text = banner.inner_text()
    moved = re.search(r"信用分 (\d+)（(\w+)）→ (\d+)（(\w+)）", text)
    assert moved is not None, text
    assert (int(moved[1]), moved[2]) == (before["score"], before["level"])
    with helpers.api_client(live_server.url) as http:
        after = http.get("/v1/me/score", headers=resident["headers"]).json()
        mine = http.get(f"/v1/me/objections/{objection['id']}", headers=resident["headers"]).json()
    assert (int(moved[3]), moved[4]) == (after["score"], after["level"])
    assert after["score"] > before["score"]
    assert (mine["status"], mine["resolution"]) == ("upheld", "withdrawn")

    # and the queue no longer lists it among the open ones
    page.get_by_role("link", name="返回异议队列").click()
    expect(page.get_by_role("heading", name="异议队列")).to_be_visible()
    expect(page.get_by_role("link", name=objection["id"])).to_have_count(0)
    # but among the upheld ones
    page.get_by_label("状态").select_option("upheld")
    expect(
        page.get_by_role("row").filter(has=page.get_by_role("link", name=objection["id"]))
    ).to_contain_text("异议成立")
