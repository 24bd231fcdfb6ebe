"""Who may use which partner member view of /console, as the page shows it: every member view × owner,
manager, clerk, a member of another partner, a resident and an operator. The API decides each call; the
page shows its refusal, offers no form the visitor could not use, and nothing changes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, func
from sqlmodel import select

from app.core.config import Settings
from app.core.sms import RecordingSender
from app.members.models import PartnerInvitation, PartnerMember
from app.partners.models import ApiKey
from app.records.models import RecordBatch
from app.scanners.models import ScannerDevice
from app.scanners.router import device_out
from app.webhooks.models import WebhookEndpoint
from tests.browser import helpers
from tests.browser.conftest import LiveServer
from tests.browser.console import sign_in_to_console, staff
from tests.browser.members import DESKTOP, member, member_menu
from tests.helpers import sign_in

# view -> (its heading, the partner kind it belongs to)
VIEWS = {
    "devices": ("扫码设备", "merchant"),
    "scans": ("扫码统计", "merchant"),
    "rentals": ("租赁", "merchant"),
    "records": ("信用记录上报", "data_provider"),
    "record-objections": ("记录异议", "data_provider"),
    "webhook-endpoints": ("Webhook 端点", "data_provider"),
    "api-keys": ("API 密钥", "merchant"),
    "team": ("团队成员", "merchant"),
}
# Who is in the team and which keys exist is for owners and managers (README, Partner members)
NOT_FOR_CLERKS = {"api-keys", "team"}
NOT_A_MEMBER = "无权访问：您不是该机构的成员。"
ROLE_REFUSED = "无权执行此操作，您的账号没有所需角色（This needs the owner or manager role in this partner.）"
# The forms that change something, none of which a refused visitor may be offered
FORMS = ("添加设备", "创建密钥", "发送邀请", "添加端点")


@pytest.fixture
def partners(live_server: LiveServer, committed_engine: Engine) -> dict[str, dict[str, Any]]:
    """A merchant with a device awaiting enrolment, and a data provider."""
    merchant = helpers.partner(committed_engine, "merchant", ["verifications:write", "rentals:write"])
    with helpers.api_client(live_server.url) as http:
        helpers.enrolment_code(http, merchant, "前台 9号机")
    provider = helpers.partner(
        committed_engine, "data_provider", ["records:write"], f"市场监管局 {uuid.uuid4().hex[:4]}"
    )
    return {"merchant": merchant, "data_provider": provider}


def _state(engine: Engine, partners: dict[str, dict[str, Any]]) -> tuple[Any, ...]:
    """What a refused visitor must not change: the merchant's devices, keys, members and invitations, the
    provider's batches and webhook endpoints."""
    merchant, provider = partners["merchant"]["id"], partners["data_provider"]["id"]
    with helpers.session_on(engine) as session:
        devices = session.exec(select(ScannerDevice).where(ScannerDevice.partner_id == merchant)).all()
        batches = session.exec(
            select(func.count()).select_from(RecordBatch).where(RecordBatch.source == provider)
        ).one()
        keys = session.exec(select(ApiKey).where(ApiKey.partner_id == merchant)).all()
        members = session.exec(select(PartnerMember).where(PartnerMember.partner_id == merchant)).all()
        invitations = session.exec(
            select(PartnerInvitation).where(PartnerInvitation.partner_id == merchant)
        ).all()
        endpoints = session.exec(select(WebhookEndpoint).where(WebhookEndpoint.partner_id == provider)).all()
    return (
        [device_out(d).status for d in devices],
        int(batches),
        sorted((k.id, k.revoked_at) for k in keys),
        sorted((m.id, m.role) for m in members),
        sorted((i.id, i.status) for i in invitations),
        sorted((e.id, e.enabled, e.deleted_at) for e in endpoints),
    )


def _open(page: Page, partners: dict[str, dict[str, Any]], view: str) -> None:
    page.goto(f"/console#/p/{partners[VIEWS[view][1]]['id']}/{view}")
    expect(page.get_by_role("heading", name=VIEWS[view][0], level=1)).to_be_visible()


@pytest.mark.parametrize("role", ["owner", "manager", "clerk"])
def test_a_member_uses_every_view_of_their_partners_as_the_role_permits(
    role: str,
    page: Page,
    sms: RecordingSender,
    committed_engine: Engine,
    settings: Settings,
    partners: dict[str, dict[str, Any]],
) -> None:
    # given a person with the same role at the merchant and at the data provider
    phone = member(committed_engine, settings, partners["merchant"]["id"], role)
    member(committed_engine, settings, partners["data_provider"]["id"], role, phone)
    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, phone)

    before = _state(committed_engine, partners)
    # the picker names both partners with the role; the menu is the first one's (the merchant, joined first)
    role_zh = {"owner": "负责人", "manager": "经理", "clerk": "店员"}[role]
    picker = page.get_by_label("合作机构")
    expect(picker.locator("option")).to_have_text(
        [f"{partners['merchant']['name']}（{role_zh}）", f"{partners['data_provider']['name']}（{role_zh}）"]
    )
    people = [] if role == "clerk" else ["API 密钥", "团队成员"]
    assert member_menu(page) == ["扫码设备", "扫码统计", "租赁", *people]
    picker.select_option(partners["data_provider"]["id"])
    expect(page.get_by_role("heading", name="信用记录上报", level=1)).to_be_visible()
    assert member_menu(page) == ["信用记录上报", "记录异议", "Webhook 端点", *people]

    for view in VIEWS:
        _open(page, partners, view)
        if role == "clerk" and view in NOT_FOR_CLERKS:  # opened by address: the API's refusal, no form
            expect(page.get_by_role("alert")).to_have_text(ROLE_REFUSED)
            for form in FORMS:
                expect(page.get_by_role("button", name=form)).to_have_count(0)
            continue
        expect(page.get_by_role("alert")).to_have_count(0)
        if view == "api-keys":  # owners and managers make and revoke keys
            expect(page.get_by_role("button", name="创建密钥")).to_be_visible()
        if view == "team":  # only an owner changes the team; a manager reads it
            expect(page.get_by_role("button", name="发送邀请")).to_have_count(1 if role == "owner" else 0)
            masked = f"{phone[:3]}****{phone[-4:]}"
            expect(page.get_by_role("region", name="成员列表")).to_contain_text(f"{masked}（我）{role_zh}")
        if view == "webhook-endpoints":  # a clerk reads the endpoints; managers change them
            expect(page.get_by_role("region", name="端点列表")).to_contain_text("还没有 Webhook 端点。")
            expect(page.get_by_role("button", name="添加端点")).to_have_count(0 if role == "clerk" else 1)
        if view == "devices":  # every role may add and revoke the counter's devices
            expect(page.get_by_role("button", name="添加设备")).to_be_visible()
            expect(page.get_by_role("button", name="注销 前台 9号机")).to_be_visible()
        if view == "records":  # sending records that move scores takes a manager
            expect(page.get_by_role("button", name="上传", exact=True)).to_have_count(
                0 if role == "clerk" else 1
            )

    assert _state(committed_engine, partners) == before


@pytest.mark.parametrize("visitor", ["member_of_another_partner", "resident", "operator"])
def test_anyone_else_is_refused_every_member_view_and_nothing_changes(
    visitor: str,
    page: Page,
    sms: RecordingSender,
    committed_engine: Engine,
    settings: Settings,
    partners: dict[str, dict[str, Any]],
) -> None:
    before = _state(committed_engine, partners)
    if visitor == "member_of_another_partner":
        other = helpers.partner(committed_engine, "merchant", ["verifications:write", "rentals:write"])
        phone = member(committed_engine, settings, other["id"], "owner")
    else:
        phone = staff(committed_engine, settings, *(["operator"] if visitor == "operator" else []))
    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, phone)

    for view in VIEWS:
        _open(page, partners, view)
        expect(page.get_by_role("alert").first).to_have_text(NOT_A_MEMBER)
        expect(page.locator("#view")).not_to_contain_text("null")
        # no menu entry for these partners, and no form to use
        for link in page.get_by_role("navigation", name="控制台菜单").get_by_role("link").all():
            assert partners[VIEWS[view][1]]["id"] not in (link.get_attribute("href") or "")
        for form in FORMS:
            expect(page.get_by_role("button", name=form)).to_have_count(0)
        expect(page.get_by_role("button", name="上传", exact=True)).to_have_count(0)
        expect(page.get_by_role("button", name="注销 前台 9号机")).to_have_count(0)

    assert _state(committed_engine, partners) == before
    assert before[:2] == (["awaiting_enrolment"], 0)


def test_a_member_opening_a_view_of_another_kind_is_told_the_partner_has_none(
    page: Page,
    sms: RecordingSender,
    committed_engine: Engine,
    settings: Settings,
    partners: dict[str, dict[str, Any]],
) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, member(committed_engine, settings, partners["merchant"]["id"], "owner"))
    page.goto(f"/console#/p/{partners['merchant']['id']}/records")
    expect(page.get_by_role("alert").first).to_have_text(
        "此类机构没有该功能（A merchant partner has no records.）"
    )
    expect(page.get_by_role("button", name="上传", exact=True)).to_have_count(0)


def test_a_member_of_a_suspended_partner_is_told_so_and_refused(
    page: Page,
    live_server: LiveServer,
    sms: RecordingSender,
    committed_engine: Engine,
    settings: Settings,
    partners: dict[str, dict[str, Any]],
) -> None:
    phone = member(committed_engine, settings, partners["merchant"]["id"], "owner")
    before = _state(committed_engine, partners)
    with helpers.api_client(live_server.url) as http:
        operator = sign_in(http, sms, staff(committed_engine, settings, "operator"))  # type: ignore[arg-type]
        suspended = http.post(
            f"/v1/admin/partners/{partners['merchant']['id']}/suspend", headers=operator["headers"]
        )
        assert suspended.status_code == 200, suspended.text
    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, phone)

    # no section is offered; the start page says why
    expect(page.get_by_role("alert")).to_have_text(
        f"{partners['merchant']['name']} 已被暂停，其成员暂时不能操作。"
    )
    assert member_menu(page) == []
    # and a view opened by address shows the API's refusal, in the language chosen
    page.goto(f"/console#/p/{partners['merchant']['id']}/devices")
    expect(page.get_by_role("alert").first).to_have_text("该机构已被暂停，其成员暂时不能操作。")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Scanner devices", level=1)).to_be_visible()
    expect(page.get_by_role("alert").first).to_have_text(
        "This partner is suspended; its members cannot act for now."
    )
    expect(page.get_by_role("button", name="Add device")).to_have_count(0)
    assert _state(committed_engine, partners) == before
