"""Who may use which part of /console. The page is a public shell; every call it makes is decided by the
API by role. For each section and each kind of visitor the page shows the refusal as the API gave it, and
nothing changes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Request, expect
from sqlalchemy import Engine

from app.core.config import Settings
from app.core.sms import RecordingSender
from tests.browser import helpers
from tests.browser.conftest import LiveServer
from tests.browser.console import (
    VERIFY_MS,
    resident_with_objection,
    sign_in_to_console,
    staff,
    walk_requested,
)
from tests.helpers import make_phone

OPERATOR_SECTIONS = ["objections", "repairs", "partners", "webhooks", "jobs", "imports"]


def _state(http: httpx.Client, resident: dict[str, Any]) -> tuple[str, int]:
    """What a refused visitor must not change: the objection's status and the resident's access log."""
    objection = http.get(f"/v1/me/objections/{resident['objection']['id']}", headers=resident["headers"])
    log = http.get("/v1/me/access-log", params={"limit": 100}, headers=resident["headers"])
    return objection.json()["status"], len(log.json()["data"])


@pytest.fixture
def case(live_server: LiveServer, committed_engine: Engine, sms: RecordingSender) -> dict[str, Any]:
    with helpers.api_client(live_server.url) as http:
        return resident_with_objection(http, committed_engine, sms)


def _expect_refused(page: Page, role: str) -> None:
    expect(page.get_by_role("alert").first).to_contain_text("无权执行此操作")
    expect(page.get_by_role("alert").first).to_contain_text(f"This needs the {role} role.")


def _visit_operator_sections(page: Page, case: dict[str, Any]) -> None:
    """Every operator section refuses: the queues, a case, the lists, and a subject look-up."""
    for section in OPERATOR_SECTIONS:
        page.goto(f"/console#/{section}")
        _expect_refused(page, "operator")
    page.goto(f"/console#/objections/{case['objection']['id']}")
    _expect_refused(page, "operator")
    expect(page.get_by_role("button", name="提交答复")).to_have_count(0)
    page.goto("/console#/subjects")
    page.get_by_label("主体编号").fill(case["subject_id"])
    page.get_by_label("查询目的").fill("核实身份信息")
    page.get_by_label("法律依据").fill("平台运营规则")
    page.get_by_role("button", name="查询").click()
    _expect_refused(page, "operator")


def test_an_anonymous_visitor_sees_only_the_sign_in(
    page: Page, live_server: LiveServer, case: dict[str, Any]
) -> None:
    calls: list[str] = []
    page.on("request", lambda request: calls.append(request.url) if "/v1/admin" in request.url else None)
    for section in [*OPERATOR_SECTIONS, "subjects", "audit", f"objections/{case['objection']['id']}"]:
        page.goto(f"/console#/{section}")
        expect(page.get_by_role("heading", name="登录管理控制台")).to_be_visible()
        expect(page.get_by_role("navigation", name="控制台菜单")).to_be_hidden()
    assert calls == []


def test_a_resident_is_refused_everywhere_and_nothing_changes(
    page: Page, sms: RecordingSender, live_server: LiveServer, case: dict[str, Any]
) -> None:
    # given a resident (no staff role) signed in to the console
    with helpers.api_client(live_server.url) as http:
        before = _state(http, case)
    sign_in_to_console(page, sms, make_phone())

    # then the console says there is nothing for them, with no menu
    expect(page.get_by_role("alert")).to_have_text(
        "此账号没有控制台权限（需要运营人员或审计人员角色，或合作机构成员身份）。"
    )
    expect(page.get_by_role("navigation", name="控制台菜单")).to_be_hidden()

    # and each section they open by address shows the API's refusal
    _visit_operator_sections(page, case)
    page.goto("/console#/audit")
    verification = page.get_by_role("region", name="审计链校验")
    verification.get_by_role("button", name="校验审计链").click()
    expect(verification.get_by_role("alert")).to_contain_text("This needs the auditor or operator role.")
    expect(page.get_by_role("region", name="审计记录").get_by_role("alert")).to_contain_text(
        "This needs the auditor or operator role."
    )

    # and nothing changed
    with helpers.api_client(live_server.url) as http:
        assert _state(http, case) == before == ("open", before[1])


def test_an_auditor_is_refused_the_operator_sections_and_nothing_changes(
    page: Page,
    sms: RecordingSender,
    live_server: LiveServer,
    committed_engine: Engine,
    settings: Settings,
    case: dict[str, Any],
) -> None:
    with helpers.api_client(live_server.url) as http:
        before = _state(http, case)
    sign_in_to_console(page, sms, staff(committed_engine, settings, "auditor"))
    expect(page.get_by_role("navigation", name="控制台菜单").get_by_role("link")).to_have_text(["审计日志"])

    _visit_operator_sections(page, case)

    with helpers.api_client(live_server.url) as http:
        assert _state(http, case) == before == ("open", before[1])


def test_an_operator_may_use_every_section(
    page: Page,
    sms: RecordingSender,
    live_server: LiveServer,
    committed_engine: Engine,
    settings: Settings,
    case: dict[str, Any],
) -> None:
    refused: list[str] = []

    def note(request: Request) -> None:
        response = request.response()
        if "/v1/" in request.url and response is not None and response.status == 403:
            refused.append(request.url)

    page.on("requestfinished", note)
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in_to_console(page, sms, staff(committed_engine, settings, "operator"))
    headings = {
        "objections": "异议队列", "repairs": "信用修复申请队列", "subjects": "主体查询", "partners": "合作机构",
        "webhooks": "Webhook 投递", "jobs": "定时任务", "audit": "审计日志",
    }  # fmt: skip
    for section, heading in headings.items():
        page.goto(f"/console#/{section}")
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    page.get_by_role("button", name="校验审计链").click()
    expect(page.get_by_role("region", name="审计链校验")).to_contain_text("已提交校验")
    walk_requested(committed_engine, settings)
    expect(page.get_by_role("region", name="审计链校验")).to_contain_text("审计链完整", timeout=VERIFY_MS)
    expect(page.get_by_role("alert")).to_have_count(0)
    assert refused == []
