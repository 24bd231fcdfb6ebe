"""The auditors' console (/console) in Chromium: the audit log, read-only and paged, with the chains
verified by the server."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from app.core.config import Settings
from app.core.sms import RecordingSender
from tests.audit.helpers import new_subject_id, record_scans
from tests.browser import helpers
from tests.browser.conftest import LiveServer
from tests.browser.console import (
    VERIFY_MS,
    resident_with_objection,
    sign_in_to_console,
    staff,
    walk_requested,
)
from tests.helpers import sign_in


def test_an_auditor_sees_the_log_and_the_chain_verifies(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine, settings: Settings
) -> None:
    # given a resident whose record an operator read for a stated purpose
    with helpers.api_client(live_server.url) as http:
        resident = resident_with_objection(http, committed_engine, sms)
        operator = staff(committed_engine, settings, "operator")
        purpose = "核实异议材料 audit-console"
        op_headers = sign_in(http, sms, operator)["headers"]  # type: ignore[arg-type]
        read = http.get(
            f"/v1/admin/subjects/{resident['subject_id']}",
            params={"purpose": purpose, "legal_basis": "《信用信息异议处理办法》"},
            headers=op_headers,
        )
        assert read.status_code == 200, read.text
    page.set_viewport_size({"width": 1280, "height": 800})

    # when an auditor signs in to the console
    sign_in_to_console(page, sms, staff(committed_engine, settings, "auditor"))

    # then the menu offers the audit log only, and the chains verify when asked
    menu = page.get_by_role("navigation", name="控制台菜单")
    expect(menu.get_by_role("link")).to_have_text(["审计日志"])
    expect(page.get_by_role("heading", name="审计日志", level=1)).to_be_visible()
    verification = page.get_by_role("region", name="审计链校验")
    verification.get_by_role("button", name="校验审计链").click()
    expect(verification).to_contain_text("已提交校验，等待后台开始…")
    expect(verification.get_by_role("button", name="校验审计链")).to_be_disabled()
    walk_requested(committed_engine, settings)  # the worker's part
    expect(verification).to_contain_text("审计链完整：所有记录和签名检查点均校验通过。", timeout=VERIFY_MS)
    expect(verification).to_contain_text("（审计人员）")

    # and the operator's read of the subject is in the log, with its purpose, when filtered by subject
    entries = page.get_by_role("region", name="审计记录")
    entries.get_by_label("主体编号").fill(resident["subject_id"])
    entries.get_by_role("button", name="筛选").click()
    row = entries.get_by_role("row").filter(has_text="subject.read")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(purpose)
    expect(row).to_contain_text(f"subject:{resident['subject_id']}")
    # read-only: nothing on the page changes the log
    expect(entries.get_by_role("button")).to_have_text(["筛选"])

    # and in English
    page.get_by_role("button", name="English").click()
    english = page.get_by_role("region", name="Chain verification")
    expect(english).to_contain_text("Audit chain intact")
    expect(english.get_by_role("button", name="Verify the audit chains")).to_be_enabled()


def test_the_log_pages_fifty_at_a_time(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine, settings: Settings
) -> None:
    # given a subject with 55 entries
    subject = new_subject_id()
    with helpers.session_on(committed_engine) as session:
        entries = record_scans(session, subject, 55)
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in_to_console(page, sms, staff(committed_engine, settings, "auditor"))

    # when the auditor filters by it: the newest 50 first
    log = page.get_by_role("region", name="审计记录")
    log.get_by_label("主体编号").fill(subject)
    log.get_by_role("button", name="筛选").click()
    rows = log.get_by_role("row").filter(has_text="pass.verified")
    expect(rows).to_have_count(50)
    expect(rows.first.get_by_role("cell")).to_have_text(
        [re.compile(".+"), f"subject:{subject}", "55"] + [re.compile(".*")] * 5
    )

    # then the rest on asking, and nothing more to ask for
    log.get_by_role("button", name="加载更多").click()
    expect(rows).to_have_count(55)
    expect(rows.last.get_by_role("cell").nth(2)).to_have_text("1")
    expect(log.get_by_role("button", name="加载更多")).to_be_hidden()
    assert len(entries) == 55
