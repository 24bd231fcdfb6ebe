"""A bank's officer in /console: publishes a loan product, finds the enterprise's referral, reads its report
while the consent is valid, approves it (the enterprise sees the decision), reports a repayment, and is
refused the report once the enterprise withdraws its consent."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Dialog, Page, expect
from sqlalchemy import Engine

from app.core.clock import business_date
from app.core.config import Settings
from app.core.sms import RecordingSender
from tests.browser import bank as banks
from tests.browser import helpers
from tests.browser.axe import serious_violations
from tests.browser.conftest import LiveServer
from tests.browser.console import sign_in_to_console

DESKTOP = {"width": 1280, "height": 800}


def test_a_bank_officer_approves_a_referral_and_the_enterprise_sees_it(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine, settings: Settings
) -> None:
    bank = banks.bank(committed_engine)
    officer = banks.member(committed_engine, settings, bank["id"], "manager")
    asked: list[str] = []

    def confirm(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", confirm)
    page.set_viewport_size({"width": 1280, "height": 800})

    # The officer signs in: the one member menu names the bank and offers its sections, opening on its
    # referrals
    sign_in_to_console(page, sms, officer)
    nav = page.get_by_role("navigation", name="控制台菜单")
    expect(nav).to_contain_text(f"{bank['name']}（经理）")
    expect(nav.get_by_role("link")).to_have_text(
        ["信易贷转介", "贷款产品", "Webhook 端点", "API 密钥", "团队成员"]
    )
    expect(page.get_by_role("heading", name="信易贷转介", level=1)).to_be_visible()
    expect(page.get_by_text(f"{bank['name']} · 经理")).to_be_visible()
    expect(page.get_by_text("没有符合条件的转介。")).to_be_visible()

    # and publishes a product in the editor
    nav.get_by_role("link", name="贷款产品").click()
    publish = page.get_by_role("region", name="发布新产品")
    publish.get_by_label("产品名称").fill("小微信用贷")
    publish.get_by_label("最低信用等级").select_option("B")
    publish.get_by_label("最低额度（元）").fill("10000")
    publish.get_by_label("最高额度（元）").fill("3000000")
    publish.get_by_label("最短期限（月）").fill("6")
    publish.get_by_label("最长期限（月）").fill("36")
    publish.get_by_label("最低年利率（%）").fill("3.85")
    publish.get_by_label("最高年利率（%）").fill("6")
    publish.get_by_role("button", name="发布").click()
    expect(page.get_by_role("status").filter(has_text="已发布")).to_have_text("已发布 小微信用贷。")
    expect(page.get_by_role("region", name="贷款产品").get_by_role("row").nth(1)).to_have_text(
        "小微信用贷B¥10,000.00 – ¥3,000,000.006 – 36 个月3.85% – 6.00%不限不限是修改"
    )

    # changes it: a field left empty or out of range is named and nothing is saved; then a higher top rate
    page.get_by_role("button", name="修改 小微信用贷").click()
    edit = page.get_by_role("region", name="修改产品：小微信用贷")
    edit.get_by_label("最高年利率（%）").fill("")
    edit.get_by_role("button", name="保存修改").click()
    expect(edit.get_by_role("alert")).to_have_text("请填写最高年利率（%）。")
    edit.get_by_label("最高年利率（%）").fill("30")
    edit.get_by_role("button", name="保存修改").click()
    expect(edit.get_by_role("alert")).to_contain_text("max_rate_bps")
    with helpers.api_client(live_server.url) as http:
        kept = http.get("/v1/partner/loan-products", headers=bank["headers"]).json()["data"]
    assert [(p["name"], p["max_rate_bps"]) for p in kept] == [("小微信用贷", 600)]
    edit.get_by_label("最高年利率（%）").fill("6.5")
    edit.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("status").filter(has_text="已保存")).to_have_text("已保存 小微信用贷。")
    expect(page.get_by_role("region", name="贷款产品").get_by_role("row").nth(1)).to_contain_text(
        "3.85% – 6.50%"
    )

    # An enterprise applies and is referred to the bank
    with helpers.api_client(live_server.url) as http:
        firm = banks.referred_enterprise(http, sms, bank["id"])
    referral_id = firm["referral_id"]
    consent = firm["application"]["consent"]

    # The officer finds it among the referrals awaiting a decision
    nav.get_by_role("link", name="信易贷转介").click()
    page.get_by_label("状态").select_option("referred")
    row = page.get_by_role("row").filter(has_text=referral_id)
    expect(row).to_contain_text(firm["uscc"])
    expect(row).to_contain_text("¥500,000.00")
    expect(row).to_contain_text("待决定")
    expect(row).to_contain_text(f"有效，至 {banks.shown(consent['expires_at'])}")
    row.get_by_role("link", name=f"查看 {referral_id}").click()

    # reads the report while the consent is valid, with its expiry
    report = page.get_by_role("region", name="企业信用报告")
    report.get_by_role("button", name="获取信用报告").click()
    expect(report.get_by_role("status")).to_have_text(
        f"企业授权有效至 {banks.shown(consent['expires_at'])}，到期或撤回后不能再次获取。"
    )
    expect(report).to_contain_text("（等级 B，")

    # approves ¥400,000 at 3.95 % over 12 months
    decision = page.get_by_role("region", name="审批决定")
    decision.get_by_label("批准金额（元）").fill("400000")
    decision.get_by_label("年利率（%）").fill("3.95")
    decision.get_by_role("button", name="提交决定").click()
    expect(decision).to_contain_text("已批准：¥400,000.00，年利率 3.95%，12 个月")
    assert asked == [f"提交后不能更改。确定批准转介 {referral_id}？"]

    # and the enterprise sees the decision
    with helpers.api_client(live_server.url) as http:
        seen = banks.application(http, firm)["referrals"][0]
    assert (seen["status"], seen["decision"]["approved_amount_fen"], seen["decision"]["annual_rate_bps"]) == (
        "approved",
        400_000_00,
        395,
    )
    assert [a["partner_id"] for a in seen["report_accesses"]] == [bank["id"]]

    # The officer reports a repayment on time; the enterprise sees it too
    outcomes = page.get_by_role("region", name="还款情况")
    outcomes.get_by_label("发生日期").fill(business_date().isoformat())
    outcomes.get_by_label("贵行编号").fill("R-0001")
    outcomes.get_by_role("button", name="报告还款情况").click()
    expect(page.get_by_role("status").filter(has_text="已报告")).to_have_text("已报告。")
    expect(page.get_by_role("region", name="还款情况").get_by_role("row").nth(1)).to_contain_text(
        f"按时还款{business_date().isoformat()}—R-0001"
    )
    with helpers.api_client(live_server.url) as http:
        seen = banks.application(http, firm)["referrals"][0]
        assert [(o["kind"], o["reference"]) for o in seen["outcomes"]] == [("on_time", "R-0001")]

        # The enterprise withdraws its consent: the next fetch is refused, with the reason, and discloses nothing
        withdrawn = http.post(f"/v1/me/consents/{consent['id']}/withdraw", headers=firm["headers"])
        assert withdrawn.status_code == 200, withdrawn.text
    page.reload()
    report = page.get_by_role("region", name="企业信用报告")
    expect(report).to_contain_text(f"已于 {banks.shown(withdrawn.json()['withdrawn_at'])} 撤回")
    report.get_by_role("button", name="获取信用报告").click()
    expect(report.get_by_role("alert")).to_have_text(
        f"无法获取报告：企业已撤回授权（{banks.shown(withdrawn.json()['withdrawn_at'])}）。报告内容未披露。"
    )
    expect(report.get_by_text("信用分")).to_have_count(0)
    with helpers.api_client(live_server.url) as http:
        assert len(banks.application(http, firm)["referrals"][0]["report_accesses"]) == 1


def test_a_bank_officer_declines_with_a_documented_reason_and_pages_through_referrals(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine, settings: Settings
) -> None:
    bank = banks.bank(committed_engine)
    officer = banks.member(committed_engine, settings, bank["id"], "owner")
    with helpers.api_client(live_server.url) as http:
        banks.product(http, bank)
        firms = [banks.referred_enterprise(http, sms, bank["id"]) for _ in range(21)]
    page.on("dialog", lambda dialog: dialog.accept())
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in_to_console(page, sms, officer)

    # Twenty at a time, newest first; the rest on "load more"
    rows = page.get_by_role("table", name="信易贷转介").get_by_role("row")
    expect(rows).to_have_count(21)  # the heading row and twenty
    expect(rows.nth(1)).to_contain_text(firms[-1]["referral_id"])
    page.get_by_role("button", name="加载更多").click()
    expect(rows).to_have_count(22)
    expect(rows.nth(21)).to_contain_text(firms[0]["referral_id"])
    expect(page.get_by_role("button", name="加载更多")).to_be_hidden()

    # The decline reasons offered are exactly the documented ones
    rows.nth(21).get_by_role("link").click()
    decision = page.get_by_role("region", name="审批决定")
    decision.get_by_label("拒绝", exact=True).check()
    reason = decision.get_by_label("拒绝原因")
    expect(reason.locator("option")).to_have_text([
        "还款能力不足", "信用记录不符合要求", "不符合银行风险偏好", "资料不完整",
        "需提供担保或抵押", "无法联系申请企业", "申请企业放弃", "其他原因",
    ])  # fmt: skip
    reason.select_option("collateral_required")
    decision.get_by_role("button", name="提交决定").click()
    expect(decision).to_contain_text("已拒绝：需提供担保或抵押")
    expect(page.get_by_role("region", name="还款情况")).to_contain_text("批准后才能报告还款情况。")

    # The declined filter lists just that one; the enterprise sees the reason
    page.goto(f"/console#/p/{bank['id']}/referrals?status=declined")
    expect(page.get_by_role("table", name="信易贷转介").get_by_role("row")).to_have_count(2)
    expect(page.get_by_role("table", name="信易贷转介").get_by_role("row").nth(1)).to_contain_text("已拒绝")
    with helpers.api_client(live_server.url) as http:
        seen = banks.application(http, firms[0])["referrals"][0]
    assert (seen["status"], seen["decision"]["decline_reason"]["code"]) == ("declined", "collateral_required")

    # In English, the menu and the decision read in English too
    page.get_by_role("row").filter(has_text=firms[0]["referral_id"]).get_by_role("link").click()
    expect(page.get_by_role("region", name="审批决定")).to_contain_text("已拒绝：需提供担保或抵押")
    page.get_by_role("button", name="English").click()
    nav = page.get_by_role("navigation", name="Console menu")
    expect(nav.get_by_role("link")).to_have_text(
        ["Loan referrals", "Loan products", "Webhook endpoints", "API keys", "Team"]
    )
    expect(page.get_by_role("region", name="Decision")).to_contain_text(
        "Declined: Guarantee or collateral required"
    )


def test_the_bank_views_have_no_serious_violation_and_keep_to_the_policy(
    browser: Browser,
    sms: RecordingSender,
    live_server: LiveServer,
    committed_engine: Engine,
    settings: Settings,
) -> None:
    bank = banks.bank(committed_engine)
    with helpers.api_client(live_server.url) as http:
        banks.product(http, bank)
        firm = banks.referred_enterprise(http, sms, bank["id"])
    # axe is injected as a script, which the policy refuses: the audited profile bypasses it; the other
    # keeps the policy and listens for any violation of it
    audited = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="zh-CN", bypass_csp=True)
    strict = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="zh-CN")
    seen: dict[str, list[dict[str, Any]]] = {}
    violations: list[str] = []
    try:
        for context in (audited, strict):
            page = context.new_page()
            page.on(
                "console",
                lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
            )
            sign_in_to_console(page, sms, banks.member(committed_engine, settings, bank["id"], "manager"))
            expect(page.get_by_role("link", name=f"查看 {firm['referral_id']}")).to_be_visible()
            if context is audited:
                seen["referrals"] = serious_violations(page)
            page.get_by_role("link", name=f"查看 {firm['referral_id']}").click()
            page.get_by_role("button", name="获取信用报告").click()
            expect(page.get_by_text("企业授权有效至")).to_be_visible()
            if context is audited:
                seen["referral"] = serious_violations(page)
            page.goto(f"/console#/p/{bank['id']}/products")
            page.get_by_role("button", name="修改 小微信用贷").click()
            expect(page.get_by_role("region", name="修改产品：小微信用贷")).to_be_visible()
            if context is audited:
                seen["products"] = serious_violations(page)
    finally:
        audited.close()
        strict.close()
    assert seen == {"referrals": [], "referral": [], "products": []}
    assert violations == []
