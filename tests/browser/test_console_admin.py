"""The operators' console: a subject look-up that states its purpose and legal basis (the resident sees
both), and partners onboarded, suspended and reactivated."""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta

from playwright.sync_api import Dialog, Page, Route, expect
from sqlalchemy import Engine

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.sms import RecordingSender
from app.jobs import service as jobs_service
from tests.browser import helpers
from tests.browser.conftest import LiveServer
from tests.browser.console import resident_with_objection, sign_in_to_console, staff
from tests.clock import days_ago
from tests.helpers import make_phone
from tests.records.helpers import csv_text, new_id_number, penalty

DESKTOP = {"width": 1280, "height": 800}


def test_an_operator_looks_a_subject_up_and_the_resident_sees_why(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine, settings: Settings
) -> None:
    with helpers.api_client(live_server.url) as http:
        resident = resident_with_objection(http, committed_engine, sms)
    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, staff(committed_engine, settings, "operator"))

    page.get_by_role("navigation", name="控制台菜单").get_by_role("link", name="主体查询").click()
    page.get_by_label("主体编号").fill(resident["subject_id"])
    page.get_by_label("查询目的").fill("核实异议当事人身份")
    page.get_by_label("法律依据").fill("《信用信息异议处理办法》第八条")
    page.get_by_role("button", name="查询").click()

    found = page.get_by_role("region", name="主体信息")
    expect(found).to_contain_text("陈静")
    expect(found).to_contain_text(f"当前信用分 {resident['score_before']['score']}")
    # the ID number masked, never the number itself
    expect(found.locator("dd").nth(3)).to_have_text(re.compile(r"^\d+\*+[0-9X]+$"))
    with helpers.api_client(live_server.url) as http:
        log = http.get("/v1/me/access-log", params={"limit": 20}, headers=resident["headers"]).json()["data"]
    read = [e for e in log if e["action"] == "subject.read"]
    assert [(e["actor_type"], e["purpose"], e["legal_basis"]) for e in read] == [
        ("operator", "核实异议当事人身份", "《信用信息异议处理办法》第八条")
    ]


def test_a_lookup_without_a_purpose_is_refused_naming_the_field_and_nothing_is_recorded(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine, settings: Settings
) -> None:
    with helpers.api_client(live_server.url) as http:
        resident = resident_with_objection(http, committed_engine, sms)
    sign_in_to_console(page, sms, staff(committed_engine, settings, "operator"))
    page.goto("/console#/subjects")
    page.get_by_label("主体编号").fill(resident["subject_id"])
    page.get_by_label("法律依据").fill("平台运营规则")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("alert")).to_contain_text("purpose")
    with helpers.api_client(live_server.url) as http:
        log = http.get("/v1/me/access-log", params={"limit": 20}, headers=resident["headers"]).json()["data"]
    assert [e for e in log if e["action"] == "subject.read"] == []


def bank_to_onboard(page: Page, sms: RecordingSender, committed_engine: Engine, settings: Settings) -> str:
    """An operator on the partners page with the onboarding form filled in for a new bank, not yet sent:
    the bank's name."""
    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, staff(committed_engine, settings, "operator"))
    page.get_by_role("navigation", name="控制台菜单").get_by_role("link", name="合作机构").click()
    name = f"天山农村商业银行 {uuid.uuid4().hex[:4]}"
    page.get_by_label("机构名称").fill(name)
    page.get_by_label("类型").select_option("bank")
    return name


def test_an_operator_onboards_suspends_and_reactivates_a_partner(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine, settings: Settings
) -> None:
    # given a merchant with a working key
    merchant = helpers.partner(committed_engine, "merchant")

    # when the operator onboards a new bank
    name = bank_to_onboard(page, sms, committed_engine, settings)
    page.get_by_role("button", name="接入").click()
    # then it is listed, active
    expect(page.get_by_role("status").filter(has_text="已接入")).to_contain_text(f"已接入 {name}")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("银行")
    expect(row).to_contain_text("正常")
    # and invites its owner by phone (shown back masked)
    owner = make_phone()
    row.get_by_label(f"{name} 负责人手机号").fill(owner)
    row.get_by_role("button", name="邀请").click()
    expect(row.get_by_role("status")).to_contain_text(f"已邀请 {owner[:3]}****{owner[-4:]}")

    # when they suspend the merchant (and confirm)
    asked: list[str] = []

    def confirm(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", confirm)
    row = page.get_by_role("row").filter(has_text=merchant["name"])
    row.get_by_role("button", name="暂停").click()
    # then its keys are refused at once
    expect(page.get_by_role("row").filter(has_text=merchant["name"])).to_contain_text("已暂停")
    assert asked == [f"暂停 {merchant['name']}？其所有密钥将立即失效，直至恢复。"]
    with helpers.api_client(live_server.url) as http:
        refused = http.get("/v1/partner/me", headers=merchant["headers"])
        assert (refused.status_code, refused.json()["code"]) == (403, "partner_suspended")

        # and once reactivated, they work again
        page.get_by_role("row").filter(has_text=merchant["name"]).get_by_role("button", name="恢复").click()
        expect(page.get_by_role("row").filter(has_text=merchant["name"])).to_contain_text("正常")
        assert http.get("/v1/partner/me", headers=merchant["headers"]).status_code == 200


def test_a_click_pressed_while_the_partner_list_loads_is_not_lost(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine, settings: Settings
) -> None:
    # given the partners page, its list held back while the operator fills in the onboarding form
    held: list[Route] = []
    the_list = re.compile(r"/v1/admin/partners\?limit=100$")
    page.route(the_list, lambda route: held.append(route))
    name = bank_to_onboard(page, sms, committed_engine, settings)
    deadline = time.monotonic() + 5
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(20)  # lets Playwright hand over the held request
    assert len(held) == 1

    # when the button is pressed, the list arrives and is drawn, and then the button is released
    page.get_by_role("button", name="接入").hover()
    page.mouse.down()
    held[0].continue_()
    page.unroute(the_list)
    expect(page.get_by_role("region", name="机构列表")).to_be_visible()
    page.mouse.up()

    # then the click counted: the bank is onboarded and listed
    expect(page.get_by_role("status").filter(has_text="已接入")).to_contain_text(f"已接入 {name}")
    expect(page.get_by_role("row").filter(has_text=name)).to_contain_text("银行")


def test_an_operator_sees_a_failed_and_a_late_job(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine, settings: Settings
) -> None:
    now = utcnow()
    failed, late = f"test.console_failed_{uuid.uuid4().hex[:6]}", f"test.console_late_{uuid.uuid4().hex[:6]}"
    jobs_service.record_run(committed_engine, failed, timedelta(hours=1), now - timedelta(minutes=5), False)
    jobs_service.record_run(committed_engine, late, timedelta(minutes=1), now - timedelta(minutes=30), True)
    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, staff(committed_engine, settings, "operator"))

    page.get_by_role("navigation", name="控制台菜单").get_by_role("link", name="定时任务").click()

    expect(page.get_by_role("row").filter(has_text=failed)).to_contain_text("每 1 小时")
    expect(page.get_by_role("row").filter(has_text=failed)).to_contain_text("最近一次运行失败")
    expect(page.get_by_role("row").filter(has_text=late)).to_contain_text("每 1 分钟")
    expect(page.get_by_role("row").filter(has_text=late)).to_contain_text(re.compile(r"已延迟 (29|30) 分钟"))


def test_an_operator_sees_a_providers_file_import_with_its_refused_row(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine, settings: Settings
) -> None:
    provider = helpers.partner(committed_engine, "data_provider", ["records:write"])
    name = f"amr-{uuid.uuid4().hex[:6]}.csv"
    good = penalty(new_id_number(), decision_date=days_ago(30).isoformat())
    bad = {**penalty(new_id_number()), "decision_date": "2026-13-01"}
    with helpers.api_client(live_server.url) as http:
        sent = http.post(
            "/v1/records/files",
            files={"file": (name, csv_text(good, bad).encode(), "text/csv")},
            headers={**provider["headers"], "Idempotency-Key": uuid.uuid4().hex},
        )
        assert sent.status_code == 201, sent.text
    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, staff(committed_engine, settings, "operator"))

    page.get_by_role("navigation", name="控制台菜单").get_by_role("link", name="数据导入").click()
    page.get_by_label("渠道").select_option("file")

    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text(sent.json()["id"])
    expect(row).to_contain_text(provider["id"])
    expect(row.get_by_role("cell")).to_have_text(
        [
            sent.json()["id"],
            provider["id"],
            "文件",
            name,
            "已完成",
            "2",
            "1",
            "0",
            "1",
            re.compile(r"\d{4}-"),
            re.compile(r"\d{4}-"),
        ]
    )
    expect(page).to_have_url(re.compile(r"#/imports\?channel=file$"))
