"""A person invited to a partner by phone answers in the console: they accept one invitation (its sections
join the menu at once) and decline another (nothing is made)."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import select

from app.core.config import Settings
from app.core.sms import RecordingSender
from app.members.models import PartnerInvitation, PartnerMember
from tests.browser import helpers
from tests.browser.conftest import LiveServer
from tests.browser.console import sign_in_to_console, staff
from tests.browser.members import DESKTOP, member_menu
from tests.helpers import make_phone, sign_in


def test_an_invited_person_accepts_one_invitation_and_declines_another(
    page: Page, live_server: LiveServer, committed_engine: Engine, settings: Settings, sms: RecordingSender
) -> None:
    merchant = helpers.partner(committed_engine, "merchant", ["verifications:write", "rentals:write"])
    bank = helpers.partner(committed_engine, "bank", name=f"天山银行 {uuid.uuid4().hex[:4]}")
    invited = make_phone()
    with helpers.api_client(live_server.url) as http:
        operator = sign_in(http, sms, staff(committed_engine, settings, "operator"))  # type: ignore[arg-type]
        for partner in (merchant, bank):
            sent = http.post(
                f"/v1/admin/partners/{partner['id']}/invitations",
                json={"phone": invited},
                headers={**operator["headers"], "Idempotency-Key": uuid.uuid4().hex},
            )
            assert sent.status_code == 201, sent.text

    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, invited)

    # the console opens on the invitations waiting for this number
    expect(page.get_by_role("heading", name="待接受的邀请", level=1)).to_be_visible()
    assert member_menu(page) == ["待接受的邀请（2）"]
    rows = page.get_by_role("row")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text=merchant["name"])).to_contain_text("商户负责人")

    # accepting one makes them its owner: its sections join the menu and the first one opens
    page.get_by_role("button", name=f"接受 {merchant['name']} 的邀请").click()
    expect(page.get_by_role("heading", name="扫码设备", level=1)).to_be_visible()
    expect(page.get_by_role("navigation", name="控制台菜单")).to_contain_text(f"{merchant['name']}（负责人）")
    owner_menu = ["扫码设备", "扫码统计", "租赁", "API 密钥", "团队成员"]
    assert member_menu(page) == [*owner_menu, "待接受的邀请（1）"]

    # declining the other leaves no invitation and makes no membership
    page.get_by_role("link", name="待接受的邀请（1）").click()
    page.get_by_role("button", name=f"谢绝 {bank['name']} 的邀请").click()
    expect(page.get_by_role("status").filter(has_text="已谢绝邀请。")).to_be_visible()
    expect(page.get_by_text("没有待接受的邀请。")).to_be_visible()
    assert member_menu(page) == owner_menu
    with helpers.session_on(committed_engine) as session:
        answered = session.exec(
            select(PartnerInvitation).where(PartnerInvitation.partner_id == bank["id"])
        ).one()
        joined = session.exec(select(PartnerMember).where(PartnerMember.partner_id == bank["id"])).all()
    assert (answered.status, joined) == ("declined", [])
