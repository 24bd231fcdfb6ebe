"""No serious accessibility violation (axe-core) on the console's screens, at desktop size; and no
Content-Security-Policy violation while an operator uses them."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, ConsoleMessage, expect
from sqlalchemy import Engine

from app.core.config import Settings
from app.core.sms import RecordingSender
from tests.browser import helpers
from tests.browser.axe import serious_violations
from tests.browser.conftest import LiveServer
from tests.browser.console import (
    VERIFY_MS,
    resident_with_objection,
    resident_with_repair,
    sign_in_to_console,
    staff,
    walk_requested,
)

DESKTOP = {"width": 1280, "height": 800}


def test_the_console_has_no_serious_violation_and_keeps_to_its_policy(
    browser: Browser,
    sms: RecordingSender,
    live_server: LiveServer,
    committed_engine: Engine,
    settings: Settings,
) -> None:
    with helpers.api_client(live_server.url) as http:
        case = resident_with_objection(http, committed_engine, sms)
        repair = resident_with_repair(http, committed_engine, sms)["repair"]
    # axe is injected as a script, which the policy refuses: the audited profile bypasses it; the other
    # profile keeps the policy and listens for any violation of it
    audited = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="zh-CN", bypass_csp=True)
    strict = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="zh-CN")
    seen: dict[str, list[dict[str, Any]]] = {}
    violations: list[str] = []
    try:
        page = audited.new_page()
        page.goto("/console")
        expect(page.get_by_label("手机号")).to_be_visible()
        seen["sign-in"] = serious_violations(page)
        sign_in_to_console(page, sms, staff(committed_engine, settings, "operator"))
        expect(page.get_by_role("link", name=case["objection"]["id"])).to_be_visible()
        seen["queue"] = serious_violations(page)
        page.get_by_role("link", name=case["objection"]["id"]).click()
        expect(page.get_by_role("button", name="提交答复")).to_be_visible()
        seen["case"] = serious_violations(page)
        page.goto(f"/console#/repairs/{repair['id']}")
        page.get_by_role("button", name="查看").click()
        expect(page.get_by_text("1 / 2", exact=True)).to_be_visible()
        seen["pdf"] = serious_violations(page)
        page.goto("/console#/audit")
        page.get_by_role("button", name="校验审计链").click()
        expect(page.get_by_text("已提交校验")).to_be_visible()
        walk_requested(committed_engine, settings)
        expect(page.get_by_text("审计链完整")).to_be_visible(timeout=VERIFY_MS)
        seen["audit"] = serious_violations(page)

        kept = strict.new_page()

        def note(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                violations.append(message.text)

        kept.on("console", note)
        sign_in_to_console(kept, sms, staff(committed_engine, settings, "operator"))
        kept.get_by_role("link", name=case["objection"]["id"]).click()
        kept.get_by_role("button", name="查看").click()
        expect(kept.get_by_role("img", name="证据材料：复议决定书.png")).to_be_visible()
        for section in ("repairs", "subjects", "partners", "webhooks", "jobs", "audit"):
            kept.goto(f"/console#/{section}")
            expect(kept.get_by_role("heading", level=1)).to_be_visible()
        kept.get_by_role("button", name="校验审计链").click()
        expect(kept.get_by_text("已提交校验")).to_be_visible()
        walk_requested(committed_engine, settings)
        expect(kept.get_by_text("审计链完整")).to_be_visible(timeout=VERIFY_MS)
    finally:
        audited.close()
        strict.close()

    assert seen == {"sign-in": [], "queue": [], "case": [], "pdf": [], "audit": []}
    assert violations == []
