"""A partner's people run its own administration in /console: an owner invites a clerk, changes the role and
removes them; an owner makes an API key (its secret shown once), which works until revoked in the page; a
bank's manager adds a webhook endpoint and rotates its secret; a clerk is offered none of it and is refused
by address. Every change is audited with the member as its actor."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import Dialog, Page, expect
from sqlalchemy import Engine
from sqlmodel import col, select

from app.audit.models import AuditEntry
from app.core.clock import utcnow
from app.core.config import Settings
from app.core.security import Crypto
from app.core.sms import RecordingSender
from app.members.models import PartnerInvitation, PartnerMember
from app.partners.models import ApiKey
from app.webhooks import service as webhooks_service
from app.webhooks.models import WebhookEndpoint
from tests.browser import helpers
from tests.browser.conftest import LiveServer
from tests.browser.console import sign_in_to_console
from tests.browser.members import DESKTOP, member, member_menu
from tests.helpers import make_phone, sign_in

ROLE_REFUSED = "无权执行此操作，您的账号没有所需角色（This needs the owner or manager role in this partner.）"


def _masked(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


def _confirming(page: Page) -> list[str]:
    """Accept every confirmation the page asks for; the questions asked, in order."""
    asked: list[str] = []

    def confirm(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", confirm)
    return asked


def _user_id(engine: Engine, partner_id: str, phone_role: str) -> str:
    with helpers.session_on(engine) as session:
        found = session.exec(
            select(PartnerMember).where(
                PartnerMember.partner_id == partner_id, PartnerMember.role == phone_role
            )
        ).one()
    return found.user_id


def _audited(engine: Engine, user_id: str) -> list[str]:
    """The actions audited with this person as the member acting, oldest first."""
    with helpers.session_on(engine) as session:
        entries = session.exec(
            select(AuditEntry)
            .where(AuditEntry.actor_type == "member", AuditEntry.actor_id == user_id)
            .order_by(col(AuditEntry.id))  # ids increase in the process (the clock is pinned)
        ).all()
    return [e.action for e in entries]


def _merchant(engine: Engine) -> dict[str, Any]:
    return helpers.partner(engine, "merchant", ["verifications:write", "rentals:write"])


def test_an_owner_invites_a_clerk_changes_the_role_and_removes_them(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine, settings: Settings
) -> None:
    merchant = _merchant(committed_engine)
    owner = member(committed_engine, settings, merchant["id"], "owner")
    owner_id = _user_id(committed_engine, merchant["id"], "owner")
    asked = _confirming(page)
    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, owner)

    # The team: the owner alone, marked as themselves
    page.get_by_role("navigation", name="控制台菜单").get_by_role("link", name="团队成员").click()
    expect(page.get_by_role("heading", name="团队成员", level=1)).to_be_visible()
    members = page.get_by_role("region", name="成员列表")
    expect(members.get_by_role("row")).to_have_count(2)
    expect(members.get_by_role("row").nth(1)).to_contain_text(f"{_masked(owner)}（我）负责人")
    expect(page.get_by_text("没有待接受的邀请。")).to_be_visible()

    # a number that is not a mobile number is named, and nobody is invited
    invite = page.get_by_role("region", name="邀请成员")
    invite.get_by_label("手机号").fill("12345")
    invite.get_by_role("button", name="发送邀请").click()
    expect(invite.get_by_role("alert")).to_have_text(
        "phone: must be a mainland mobile number: 11 digits starting 13-19"
    )
    expect(page.get_by_text("没有待接受的邀请。")).to_be_visible()

    # invites a person by phone as a clerk: the invitation waits, with its expiry
    clerk = make_phone()
    invite.get_by_label("手机号").fill(clerk)
    invite.get_by_label("角色").select_option("clerk")
    invite.get_by_role("button", name="发送邀请").click()
    expect(page.get_by_role("status").filter(has_text="已邀请")).to_contain_text(
        f"已邀请 {_masked(clerk)}（店员），"
    )
    waiting = page.get_by_role("region", name="待接受的邀请")
    expect(waiting.get_by_role("row").nth(1)).to_contain_text(f"{_masked(clerk)}店员")

    # a second invitation, sent by mistake, is revoked (after a confirmation)
    mistaken = make_phone()
    page.get_by_role("region", name="邀请成员").get_by_label("手机号").fill(mistaken)
    page.get_by_role("region", name="邀请成员").get_by_role("button", name="发送邀请").click()
    page.get_by_role("button", name=f"撤回对 {_masked(mistaken)} 的邀请").click()
    expect(page.get_by_role("status").filter(has_text="已撤回")).to_have_text(
        f"已撤回对 {_masked(mistaken)} 的邀请。"
    )
    expect(page.get_by_role("region", name="待接受的邀请").get_by_role("row")).to_have_count(2)

    # the clerk signs in and accepts; the owner's page, read again, lists them and no invitation waits
    with helpers.api_client(live_server.url) as http:
        person = sign_in(http, sms, clerk)  # type: ignore[arg-type]  # httpx.Client, the same calls
        mine = http.get("/v1/me/invitations", headers=person["headers"]).json()["data"]
        accepted = http.post(f"/v1/me/invitations/{mine[0]['id']}/accept", headers=person["headers"])
        assert accepted.status_code == 201, accepted.text
    page.reload()
    members = page.get_by_role("region", name="成员列表")
    expect(members.get_by_role("row")).to_have_count(3)
    clerk_row = members.get_by_role("row").filter(has_text=_masked(clerk))
    expect(clerk_row).to_contain_text("店员")
    expect(page.get_by_text("没有待接受的邀请。")).to_be_visible()

    # makes them a manager: the API says so, and their next call has the manager's rights
    page.get_by_label(f"{_masked(clerk)} 的角色", exact=True).select_option("manager")
    page.get_by_role("button", name=f"更改角色：{_masked(clerk)}").click()
    expect(page.get_by_role("status").filter(has_text="角色改为")).to_have_text(
        f"已将 {_masked(clerk)} 的角色改为经理。"
    )
    expect(
        page.get_by_role("region", name="成员列表").get_by_role("row").filter(has_text=_masked(clerk))
    ).to_contain_text("经理")
    with helpers.api_client(live_server.url) as http:
        roles = http.get("/v1/me/memberships", headers=person["headers"]).json()["data"]
        assert [(m["partner"]["id"], m["role"]) for m in roles] == [(merchant["id"], "manager")]

    # and removes them, after a confirmation: their next call is refused
    page.get_by_role("button", name=f"移除 {_masked(clerk)}").click()
    expect(page.get_by_role("status").filter(has_text="已移除")).to_have_text(f"已移除 {_masked(clerk)}。")
    expect(page.get_by_role("region", name="成员列表").get_by_role("row")).to_have_count(2)
    with helpers.api_client(live_server.url) as http:
        assert http.get("/v1/me/memberships", headers=person["headers"]).json()["data"] == []
        refused = http.get(f"/v1/partners/{merchant['id']}/scanner-devices", headers=person["headers"])
        assert (refused.status_code, refused.json()["code"]) == (404, "partner_not_found")

    assert asked == [
        f"撤回对 {_masked(mistaken)} 的邀请？",
        f"移除 {_masked(clerk)}？其下一次操作起即被拒绝；其创建的密钥仍属于本机构。",
    ]
    with helpers.session_on(committed_engine) as session:
        invitations = session.exec(
            select(PartnerInvitation).where(PartnerInvitation.partner_id == merchant["id"])
        ).all()
    assert sorted(i.status for i in invitations) == ["accepted", "revoked"]
    assert _audited(committed_engine, owner_id) == [
        "partner_member.invited",
        "partner_member.invited",
        "partner_member.invitation_revoked",
        "partner_member.role_changed",
        "partner_member.removed",
    ]


def test_a_partner_keeps_an_owner_and_an_owner_who_steps_down_sees_the_console_follow(
    page: Page, sms: RecordingSender, committed_engine: Engine, settings: Settings
) -> None:
    merchant = _merchant(committed_engine)
    owner = member(committed_engine, settings, merchant["id"], "owner")
    _confirming(page)
    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, owner)
    page.goto(f"/console#/p/{merchant['id']}/team")

    # the only owner cannot step down: the page says why, and nothing changes
    page.get_by_label(f"{_masked(owner)} 的角色", exact=True).select_option("manager")
    page.get_by_role("button", name=f"更改角色：{_masked(owner)}").click()
    row = page.get_by_role("region", name="成员列表").get_by_role("row").nth(1)
    expect(row.get_by_role("alert")).to_have_text("这是本机构唯一的负责人：请先将另一位成员设为负责人。")
    page.get_by_role("button", name=f"移除 {_masked(owner)}").click()
    expect(row.get_by_role("alert").nth(1)).to_have_text(
        "这是本机构唯一的负责人：请先将另一位成员设为负责人。"
    )
    with helpers.session_on(committed_engine) as session:
        people = session.exec(select(PartnerMember).where(PartnerMember.partner_id == merchant["id"])).all()
    assert [p.role for p in people] == ["owner"]

    # with a second owner, they step down to manager: the team is theirs to read, no longer to change
    member(committed_engine, settings, merchant["id"], "owner")
    page.reload()
    page.get_by_label(f"{_masked(owner)} 的角色", exact=True).select_option("manager")
    page.get_by_role("button", name=f"更改角色：{_masked(owner)}").click()
    expect(page.get_by_text("邀请成员、更改角色和移除成员需要负责人角色；您的角色是经理。")).to_be_visible()
    expect(page.get_by_role("button", name="发送邀请")).to_have_count(0)
    expect(page.get_by_role("navigation", name="控制台菜单")).to_contain_text(f"{merchant['name']}（经理）")


def test_an_owner_creates_an_api_key_sees_it_once_and_revokes_it(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine, settings: Settings
) -> None:
    merchant = _merchant(committed_engine)
    owner = member(committed_engine, settings, merchant["id"], "owner")
    asked = _confirming(page)
    page.set_viewport_size(DESKTOP)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in_to_console(page, sms, owner)
    page.get_by_role("navigation", name="控制台菜单").get_by_role("link", name="API 密钥").click()

    # the keys made with the partner (the fixture's) are listed, never with a secret
    keys = page.get_by_role("region", name="密钥列表")
    expect(keys.get_by_role("row")).to_have_count(2)

    # creates a key: its secret is shown once, with a copy button and the warning
    page.get_by_label("用途").fill("收银系统")
    page.get_by_role("button", name="创建密钥").click()
    shown = page.locator("#secret-once")
    expect(shown).to_be_visible()
    secret = shown.inner_text()
    once = page.get_by_role("region", name="新密钥 收银系统")
    expect(once).to_contain_text("只显示这一次：离开本页后无法再次查看")
    once.get_by_role("button", name="复制").click()
    expect(once.get_by_role("status")).to_have_text("已复制。")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    expect(keys.get_by_role("row")).to_have_count(3)
    made = keys.get_by_role("row").filter(has_text="收银系统")
    expect(made).to_contain_text("有效")

    # the key works against the API
    with helpers.api_client(live_server.url) as http:
        me = http.get("/v1/partner/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.status_code == 200, me.text
        assert (me.json()["id"], me.json()["api_key"]["name"]) == (merchant["id"], "收银系统")
    prefix = me.json()["api_key"]["prefix"]
    assert secret.startswith(prefix)

    # read again, the page lists it by prefix and last use, and the secret is nowhere
    page.reload()
    made = page.get_by_role("region", name="密钥列表").get_by_role("row").filter(has_text="收银系统")
    expect(made).to_contain_text(prefix)
    expect(made).not_to_contain_text("—")  # last used: now, not never
    expect(page.locator("body")).not_to_contain_text(secret)

    # revokes it after a confirmation: its next request is refused
    page.get_by_role("button", name=f"注销密钥 {prefix}").click()
    expect(page.get_by_role("status").filter(has_text="已注销")).to_have_text(
        f"已注销 收银系统（{prefix}），使用它的请求将被拒绝。"
    )
    expect(
        page.get_by_role("region", name="密钥列表").get_by_role("row").filter(has_text="收银系统")
    ).to_contain_text("已于")
    expect(page.get_by_role("button", name=f"注销密钥 {prefix}")).to_have_count(0)
    with helpers.api_client(live_server.url) as http:
        refused = http.get("/v1/partner/me", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 401, refused.text
    assert asked == [f"注销密钥 收银系统（{prefix}）？使用它的下一次请求起即被拒绝，无法恢复。"]
    owner_id = _user_id(committed_engine, merchant["id"], "owner")
    assert _audited(committed_engine, owner_id) == ["api_key.created", "api_key.revoked"]
    with helpers.session_on(committed_engine) as session:
        key = session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).one()
    assert key.created_by == owner_id


def test_a_bank_manager_adds_a_webhook_endpoint_rotates_its_secret_and_deletes_it(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine, settings: Settings
) -> None:
    bank = helpers.partner(committed_engine, "bank", name=f"天山银行 {uuid.uuid4().hex[:4]}")
    manager = member(committed_engine, settings, bank["id"], "manager")
    asked = _confirming(page)
    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, manager)
    page.get_by_role("navigation", name="控制台菜单").get_by_role("link", name="Webhook 端点").click()
    expect(page.get_by_text("还没有 Webhook 端点。")).to_be_visible()

    # a URL that is not one is named, and nothing is made
    add = page.get_by_role("region", name="添加端点")
    add.get_by_label("接收地址（URL）").fill("not a url")
    add.get_by_role("button", name="添加端点").click()
    expect(add.get_by_role("alert")).to_have_text(
        "url: Input should be a valid URL, relative URL without a base"
    )
    expect(page.get_by_text("还没有 Webhook 端点。")).to_be_visible()

    # adds one for the referrals only: its signing secret is shown once
    url = "http://127.0.0.1:9/xinyi-hooks"
    add.get_by_label("接收地址（URL）").fill(url)
    add.get_by_label("说明").fill("信贷系统")
    add.get_by_label("新的信易贷转介").check()
    add.get_by_role("button", name="添加端点").click()
    first = page.locator("#secret-once")
    expect(first).to_contain_text("whsec_")
    first_secret = first.inner_text()
    expect(page.get_by_role("region", name=f"{url} 的签名密钥")).to_contain_text("只显示这一次")
    row = page.get_by_role("region", name="端点列表").get_by_role("row").filter(has_text=url)
    expect(row).to_contain_text("信贷系统新的信易贷转介启用")

    # rotates the secret (after a confirmation): a new one, shown once; the old one signs a while longer
    page.get_by_role("button", name=f"轮换密钥：{url}").click()
    expect(page.get_by_role("region", name=f"{url} 的新签名密钥")).to_contain_text("旧密钥在")
    second_secret = page.locator("#secret-once").inner_text()
    assert second_secret.startswith("whsec_") and second_secret != first_secret
    expect(
        page.get_by_role("region", name="端点列表").get_by_role("row").filter(has_text=url)
    ).to_contain_text("旧密钥在")
    with helpers.api_client(live_server.url) as http:
        endpoints = http.get("/v1/partner/webhook-endpoints", headers=bank["headers"]).json()["data"]
    assert [(e["url"], e["event_types"], e["enabled"]) for e in endpoints] == [
        (url, ["referral.created"], True)
    ]
    assert endpoints[0]["previous_secret_expires_at"] is not None
    # the secrets shown are the ones that sign: the new one, and the old one for its grace period
    with helpers.session_on(committed_engine) as session:
        stored = session.exec(select(WebhookEndpoint).where(WebhookEndpoint.partner_id == bank["id"])).one()
        signing = webhooks_service.live_secrets(Crypto(settings).cipher, stored, utcnow())
    assert signing == [second_secret, first_secret]

    # disables it, then deletes it (after a confirmation)
    page.get_by_role("button", name=f"停用 {url}").click()
    expect(page.get_by_role("status").filter(has_text="已停用")).to_have_text(f"已停用 {url}，不再向其投递。")
    expect(page.get_by_role("button", name=f"启用 {url}")).to_be_visible()
    with helpers.api_client(live_server.url) as http:
        endpoints = http.get("/v1/partner/webhook-endpoints", headers=bank["headers"]).json()["data"]
    assert [e["enabled"] for e in endpoints] == [False]
    page.get_by_role("button", name=f"删除 {url}").click()
    expect(page.get_by_role("status").filter(has_text="已删除")).to_have_text(f"已删除 {url}。")
    expect(page.get_by_text("还没有 Webhook 端点。")).to_be_visible()
    with helpers.api_client(live_server.url) as http:
        assert http.get("/v1/partner/webhook-endpoints", headers=bank["headers"]).json()["data"] == []

    assert asked == [
        f"为 {url} 生成新的签名密钥？旧密钥在 24 小时内仍同时签名。",
        f"删除 {url}？待投递的事件将停止投递，无法恢复。",
    ]
    assert _audited(committed_engine, _user_id(committed_engine, bank["id"], "manager")) == [
        "webhook_endpoint.created",
        "webhook_endpoint.secret_rotated",
        "webhook_endpoint.updated",
        "webhook_endpoint.deleted",
    ]


def test_a_clerk_is_offered_no_team_or_keys_and_is_refused_them_by_address(
    page: Page, sms: RecordingSender, committed_engine: Engine, settings: Settings
) -> None:
    merchant = _merchant(committed_engine)
    member(committed_engine, settings, merchant["id"], "owner")
    clerk = member(committed_engine, settings, merchant["id"], "clerk")

    def state() -> tuple[Any, ...]:
        with helpers.session_on(committed_engine) as session:
            keys = session.exec(select(ApiKey).where(ApiKey.partner_id == merchant["id"])).all()
            people = session.exec(
                select(PartnerMember).where(PartnerMember.partner_id == merchant["id"])
            ).all()
        return sorted((k.id, k.revoked_at) for k in keys), sorted((p.user_id, p.role) for p in people)

    before = state()
    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, clerk)
    assert member_menu(page) == ["扫码设备", "扫码统计", "租赁"]

    for section, heading in (("team", "团队成员"), ("api-keys", "API 密钥")):
        page.goto(f"/console#/p/{merchant['id']}/{section}")
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        expect(page.get_by_role("alert")).to_have_text(ROLE_REFUSED)
        for button in ("发送邀请", "创建密钥"):
            expect(page.get_by_role("button", name=button)).to_have_count(0)
        expect(page.get_by_role("table")).to_have_count(0)
    # in English too
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(
        "Refused: your account lacks the role (This needs the owner or manager role in this partner.)"
    )
    expect(page.get_by_role("navigation", name="Console menu").get_by_role("link")).to_have_text(
        ["Scanner devices", "Scan statistics", "Rentals"]
    )
    assert state() == before
