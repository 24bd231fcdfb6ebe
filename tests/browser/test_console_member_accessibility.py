"""No serious accessibility violation (axe-core) on the partner members' views at desktop size, and no
Content-Security-Policy violation while a member uses them (the enrolment QR code and a secret shown once
included)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from sqlalchemy import Engine

from app.core.config import Settings
from app.core.security import Crypto
from app.core.sms import RecordingSender
from app.members import invitations
from app.members import service as members_service
from app.members.models import MemberRole
from app.partners import service as partners_service
from tests.browser import helpers
from tests.browser.axe import serious_violations
from tests.browser.conftest import LiveServer
from tests.browser.console import sign_in_to_console
from tests.browser.members import DESKTOP, member
from tests.helpers import make_phone

VIEWS = {
    "devices": ("merchant", "设备列表"),
    "scans": ("merchant", "按日"),
    "rentals": ("merchant", "租赁记录"),
    "records": ("data_provider", "批次与文件导入"),
    "record-objections": ("data_provider", None),
    "webhook-endpoints": ("data_provider", "端点列表"),
    "api-keys": ("merchant", "密钥列表"),
    "team": ("merchant", "成员列表"),
}


def _visit(page: Page, partners: dict[str, dict[str, Any]], view: str) -> None:
    kind, region = VIEWS[view]
    page.goto(f"/console#/p/{partners[kind]['id']}/{view}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    if region:
        expect(page.get_by_role("region", name=region)).to_be_visible()
    expect(page.get_by_text("正在加载…")).to_have_count(0)


def _add_device(page: Page, name: str) -> None:
    """Add a device: its enrolment QR code (an SVG data URL) is drawn."""
    page.get_by_label("设备名称").fill(name)
    page.get_by_role("button", name="添加设备").click()
    qr = page.get_by_role("img", name="激活二维码")
    expect(qr).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", qr.element_handle()) > 0


def _invitation_waiting(engine: Engine, settings: Settings, partner_id: str) -> None:
    """An invitation of a clerk, waiting (the team view lists it with its revoke button)."""
    with helpers.session_on(engine) as session:
        partner = partners_service.get_partner(session, partner_id)
        owner = members_service.member_principal(partner, "test-setup", MemberRole.owner)
        invitations.invite(session, Crypto(settings), owner, partner_id, make_phone(), MemberRole.clerk)
        session.commit()


def _create_key(page: Page, name: str) -> None:
    """Create an API key: its secret is shown once, with its copy button."""
    page.get_by_label("用途").fill(name)
    page.get_by_role("button", name="创建密钥").click()
    expect(page.get_by_role("button", name="复制")).to_be_visible()


def test_the_member_views_have_no_serious_violation_and_keep_to_the_policy(
    browser: Browser,
    sms: RecordingSender,
    live_server: LiveServer,
    committed_engine: Engine,
    settings: Settings,
) -> None:
    partners = {
        "merchant": helpers.partner(committed_engine, "merchant", ["verifications:write", "rentals:write"]),
        "data_provider": helpers.partner(committed_engine, "data_provider", ["records:write"]),
    }
    _invitation_waiting(committed_engine, settings, partners["merchant"]["id"])
    phones = []
    for _ in range(2):  # one per profile: a phone gets one sign-in code a minute
        phone = member(committed_engine, settings, partners["merchant"]["id"], "owner")
        phones.append(member(committed_engine, settings, partners["data_provider"]["id"], "owner", phone))
    audited = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="zh-CN", bypass_csp=True)
    strict = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="zh-CN")
    seen: dict[str, list[dict[str, Any]]] = {}
    violations: list[str] = []
    try:
        page = audited.new_page()
        sign_in_to_console(page, sms, phones[0])
        for view in VIEWS:
            _visit(page, partners, view)
            seen[view] = serious_violations(page)
        _visit(page, partners, "devices")
        _add_device(page, "前台 5号机")
        seen["enrolment"] = serious_violations(page)
        _visit(page, partners, "api-keys")
        _create_key(page, "收银系统")
        seen["secret"] = serious_violations(page)

        kept = strict.new_page()

        def note(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                violations.append(message.text)

        kept.on("console", note)
        sign_in_to_console(kept, sms, phones[1])
        _visit(kept, partners, "devices")
        _add_device(kept, "前台 6号机")
        _visit(kept, partners, "api-keys")
        _create_key(kept, "对账系统")
        for view in VIEWS:
            _visit(kept, partners, view)
    finally:
        audited.close()
        strict.close()

    assert seen == {view: [] for view in [*VIEWS, "enrolment", "secret"]}
    assert violations == []
