"""Who may use the bank officers' part of /console. Each of its views (referrals, a referral with its report
and decision, loan products) opened by each kind of visitor: owners and managers get every form; a clerk
reads but is told the report and the decisions need a manager; anyone who is not the bank's member sees the
refusal. The API decides each call; nothing changes for anyone refused."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import select

from app.core.config import Settings
from app.core.principal import Principal
from app.core.sms import RecordingSender
from app.loans.models import LoanProduct
from app.partners import service as partners_service
from tests.browser import bank as banks
from tests.browser import helpers
from tests.browser.conftest import LiveServer
from tests.browser.console import sign_in_to_console, staff
from tests.helpers import make_phone


@pytest.fixture
def world(live_server: LiveServer, committed_engine: Engine, sms: RecordingSender) -> dict[str, Any]:
    """A bank with a product and one referral awaiting its decision."""
    bank = banks.bank(committed_engine)
    with helpers.api_client(live_server.url) as http:
        banks.product(http, bank)
        firm = banks.referred_enterprise(http, sms, bank["id"])
    return {"bank": bank, "firm": firm}


def _state(http: httpx.Client, engine: Engine, world: dict[str, Any]) -> tuple[Any, ...]:
    """What a refused visitor must not change: the referral's status and the report fetches (as the
    enterprise sees them), and the bank's products (from the table: a suspended bank's key is refused)."""
    referral = banks.application(http, world["firm"])["referrals"][0]
    with helpers.session_on(engine) as session:
        products = session.exec(
            select(LoanProduct).where(LoanProduct.partner_id == world["bank"]["id"])
        ).all()
        kept = [(p.name, p.max_rate_bps, p.active, p.updated_at) for p in products]
    return referral["status"], len(referral["report_accesses"]), kept


def _views(world: dict[str, Any]) -> dict[str, str]:
    bank_id, referral_id = world["bank"]["id"], world["firm"]["referral_id"]
    return {
        "referrals": f"/console#/p/{bank_id}/referrals",
        "referral": f"/console#/p/{bank_id}/referrals/{referral_id}",
        "products": f"/console#/p/{bank_id}/products",
    }


def _visitor(who: str, engine: Engine, settings: Settings, world: dict[str, Any]) -> str:
    if who in ("owner", "manager", "clerk"):
        return banks.member(engine, settings, world["bank"]["id"], who)
    if who == "other_bank_owner":
        return banks.member(engine, settings, banks.bank(engine)["id"], "owner")
    if who == "operator":
        return staff(engine, settings, "operator")
    if who == "owner_of_suspended_bank":
        owner = banks.member(engine, settings, world["bank"]["id"], "owner")
        with helpers.session_on(engine) as session:
            partners_service.suspend_partner(
                session, Principal(type="system", id="test-setup"), world["bank"]["id"]
            )
            session.commit()
        return owner
    return make_phone()  # a resident


def _no_forms(page: Page) -> None:
    for button in ("获取信用报告", "提交决定", "报告还款情况", "发布", "修改"):
        expect(page.get_by_role("button", name=button)).to_have_count(0)


VISITORS = [
    "owner",
    "manager",
    "clerk",
    "other_bank_owner",
    "resident",
    "operator",
    "owner_of_suspended_bank",
]


@pytest.mark.parametrize("who", VISITORS)
def test_each_bank_view_as_each_visitor(
    who: str,
    page: Page,
    sms: RecordingSender,
    live_server: LiveServer,
    committed_engine: Engine,
    settings: Settings,
    world: dict[str, Any],
) -> None:
    with helpers.api_client(live_server.url) as http:
        before = _state(http, committed_engine, world)
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in_to_console(page, sms, _visitor(who, committed_engine, settings, world))
    nav = page.get_by_role("navigation", name="控制台菜单")
    views = _views(world)
    name = world["bank"]["name"]
    referral_id = world["firm"]["referral_id"]

    if who in ("owner", "manager", "clerk"):
        role = {"owner": "负责人", "manager": "经理", "clerk": "办事员"}[who]
        expect(nav).to_contain_text(f"{name}（{role}）")
        # the one member menu, as the role permits: a clerk has no team or API keys
        expect(nav.get_by_role("link")).to_have_text(
            ["信易贷转介", "贷款产品", "Webhook 端点"] + ([] if who == "clerk" else ["API 密钥", "团队成员"])
        )
        page.goto(views["referrals"])
        expect(page.get_by_text(f"{name} · {role}")).to_be_visible()
        expect(page.get_by_role("row").filter(has_text=referral_id)).to_contain_text("待决定")
        page.goto(views["referral"])
        expect(page.get_by_role("region", name="转介信息")).to_contain_text(world["firm"]["uscc"])
        page.goto(views["products"])
        expect(page.get_by_role("region", name="贷款产品")).to_contain_text("小微信用贷")
        if who == "clerk":
            page.goto(views["referral"])
            expect(page.get_by_role("region", name="企业信用报告")).to_contain_text(
                "获取信用报告需要负责人或经理角色；您的角色是办事员。"
            )
            expect(page.get_by_role("region", name="审批决定")).to_contain_text(
                "审批和报告还款情况需要负责人或经理角色；您的角色是办事员。"
            )
            _no_forms(page)
            page.goto(views["products"])
            expect(page.get_by_role("region", name="发布新产品")).to_contain_text(
                "发布或修改产品需要负责人或经理角色；您的角色是办事员。"
            )
            _no_forms(page)
        else:
            page.goto(views["referral"])
            expect(page.get_by_role("button", name="获取信用报告")).to_be_visible()
            expect(page.get_by_role("button", name="提交决定")).to_be_visible()
            page.goto(views["products"])
            expect(page.get_by_role("button", name="发布")).to_be_visible()
            expect(page.get_by_role("button", name="修改 小微信用贷")).to_be_visible()
    elif who == "owner_of_suspended_bank":
        # a suspended bank's members get no section of it, and each view says why
        expect(nav.get_by_role("link")).to_have_count(0)
        for view in views.values():
            page.goto(view)
            expect(page.get_by_role("alert")).to_have_text("该机构已被暂停，其成员暂时不能操作。")
            expect(page.get_by_text(world["firm"]["uscc"])).to_have_count(0)
            _no_forms(page)
    else:
        # not the bank's member: no link to it, and each view opened by address shows the refusal
        for link in nav.get_by_role("link").all():
            assert world["bank"]["id"] not in (link.get_attribute("href") or "")
        for view in views.values():
            page.goto(view)
            expect(page.get_by_role("alert")).to_have_text("无权访问：您不是该机构的成员。")
            expect(page.get_by_text(world["firm"]["uscc"])).to_have_count(0)
            _no_forms(page)

    # and nothing changed
    with helpers.api_client(live_server.url) as http:
        assert _state(http, committed_engine, world) == before
    assert before[:2] == ("referred", 0)


def test_an_anonymous_visitor_sees_only_the_sign_in(page: Page, world: dict[str, Any]) -> None:
    calls: list[str] = []
    page.on("request", lambda request: calls.append(request.url) if "/v1/partners" in request.url else None)
    for view in _views(world).values():
        page.goto(view)
        expect(page.get_by_role("heading", name="登录管理控制台")).to_be_visible()
    assert calls == []
