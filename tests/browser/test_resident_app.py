"""The resident app (/app) in Chromium: what a person sees."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from app.core.clock import utcnow
from app.core.sms import RecordingSender
from app.partners import places
from app.scenarios.catalog import load_catalog
from tests.browser import helpers
from tests.browser.conftest import LiveServer
from tests.browser.resident import penalty, png, provider, push, sign_in_verified
from tests.helpers import make_uscc
from tests.loans import helpers as loans
from tests.passes import helpers as passes
from tests.passes.helpers import SETUP

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_resident_signs_in_sees_the_level_and_shows_the_pass(
    page: Page, sms: RecordingSender, live_server: LiveServer
) -> None:
    sign_in_verified(page, sms)
    expect(page.get_by_text(re.compile(r"信用分 \d+ / 1000"))).to_be_visible()
    page.get_by_role("link", name="出示信用码").first.click()
    qr = page.get_by_role("img", name="信用码")
    expect(qr).to_have_attribute("src", re.compile("^data:image/svg"))
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^\d+ 秒后失效，将自动刷新$"))

    # Signed in safely: a reload resumes the sign-in from the HttpOnly cookie, which scripts cannot read
    page.reload()
    expect(page.get_by_role("img", name="信用码")).to_be_visible()
    assert page.evaluate("document.cookie") == ""
    cookie = next(c for c in page.context.cookies() if c["name"] == "xinyi_refresh")
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/v1/auth")

    page.goto("/app#/more")
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("heading", name="登录信易+")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="登录信易+")).to_be_visible()


def test_a_scan_shows_live_while_the_pass_is_open_and_in_the_history(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine
) -> None:
    merchant = helpers.partner(committed_engine, "merchant")
    sign_in_verified(page, sms)
    with page.expect_response(lambda r: r.url.endswith("/v1/me/passes") and r.status == 201) as issued:
        page.get_by_role("link", name="出示信用码").first.click()
    token = issued.value.json()["token"]
    expect(page.get_by_role("img", name="信用码")).to_be_visible()

    with helpers.api_client(live_server.url) as http:
        verified = http.post(
            "/v1/verifications",
            json={"token": token, "scenario": "deposit_free_rental"},
            headers=merchant["headers"],
        )
    assert verified.status_code == 201, verified.text
    at = datetime.fromisoformat(verified.json()["created_at"]).astimezone(SHANGHAI).strftime("%H:%M")
    name = _partner_name(committed_engine, merchant["id"])
    sentence = f"{name} 于 {at} 核验了您的信用码（信易租）— 符合条件"
    expect(page.locator(".pass").get_by_role("status")).to_have_text(sentence)

    page.get_by_role("link", name="返回").click()
    page.get_by_role("link", name="核验记录").click()
    history = page.get_by_role("main")
    expect(history.get_by_text(sentence)).to_be_visible()
    expect(history.get_by_text(re.compile("免押金租用，最高 500 元"))).to_be_visible()

    page.get_by_role("button", name="English").click()
    expect(
        page.get_by_text(f"{name} checked your pass for Deposit-free rental at {at} — eligible")
    ).to_be_visible()


def _partner_name(engine: Engine, partner_id: str) -> str:
    from app.partners.models import Partner

    with helpers.session_on(engine) as session:
        found = session.get(Partner, partner_id)
        assert found is not None
        return found.name


def test_a_resident_objects_to_a_record_with_evidence(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine
) -> None:
    _, id_number = sign_in_verified(page, sms)
    department = provider(committed_engine)
    with helpers.api_client(live_server.url) as http:
        push(http, department, penalty(id_number, 40, "未按规定公示年度报告"))
    page.reload()

    # Home: the reason, linked to its record, with the department, the date and when it stops counting
    reason = page.get_by_role("link", name="未按规定公示年度报告")
    expect(reason).to_be_visible()
    department_name = _partner_name(committed_engine, department["id"])
    expect(
        page.get_by_text(re.compile(rf"^{department_name} · 决定日期 \d{{4}}-\d\d-\d\d · 停止计分"))
    ).to_be_visible()
    reason.click()

    expect(page.get_by_text("状态：有效")).to_be_visible()
    page.get_by_label("异议理由").fill("处罚决定已被行政复议撤销，附复议决定书。")
    page.get_by_label(re.compile("^证明材料")).set_input_files(
        [{"name": "复议决定书.png", "mimeType": "image/png", "buffer": png()}]
    )
    page.get_by_role("button", name="提交异议").click()

    expect(page.get_by_text("状态：处理中")).to_be_visible()
    expect(page.get_by_text("状态：异议处理中")).to_be_visible()
    expect(page.get_by_text("已上传证明材料 1 份")).to_be_visible()
    filed = utcnow().astimezone(SHANGHAI).date()
    expect(
        page.get_by_text(re.compile(rf"^{filed.isoformat()} 提交，须在 \d{{4}}-\d\d-\d\d 前答复（20 日）$"))
    ).to_be_visible()
    expect(page.get_by_role("button", name="提交异议")).to_have_count(0)  # one open objection per record


def test_a_black_listed_resident_sees_why(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine
) -> None:
    _, id_number = sign_in_verified(page, sms)
    with helpers.api_client(live_server.url) as http:
        helpers.black_list(http, committed_engine, {"id_number": id_number})
    page.reload()

    expect(page.get_by_label("信用等级 D")).to_have_text("D")
    expect(page.get_by_role("alert")).to_have_text(re.compile("严重失信主体名单"))
    expect(page.get_by_text("依据：《最高人民法院关于公布失信被执行人名单信息的若干规定》")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"^法院 \w+ · 自 \d{4}-\d\d-\d\d 起 · 至 移出名单前$"))
    ).to_be_visible()

    page.get_by_role("link", name="更多").click()
    page.get_by_role("link", name="哪里可以用").click()
    expect(page.get_by_text("暂不可用：主体当前受失信联合惩戒限制").first).to_be_visible()


def test_without_a_network_the_pass_falls_back_to_single_use_offline_codes(
    page: Page, sms: RecordingSender, live_server: LiveServer
) -> None:
    page.clock.install()
    sign_in_verified(page, sms)
    page.get_by_role("link", name="出示信用码").first.click()
    expect(page.get_by_role("img", name="信用码")).to_be_visible()
    # Online, the app keeps a few offline codes of each low-value scenario the resident qualifies for
    page.wait_for_function(
        """() => Object.keys(localStorage).some((key) => key.startsWith("xinyi.offline.")
             && JSON.parse(localStorage.getItem(key)).length >= 3)"""
    )
    online_src = page.get_by_role("img", name="信用码").get_attribute("src")

    page.context.set_offline(True)
    page.clock.fast_forward("01:40")  # past the pass's renewal time: the renewal fails without a network

    expect(page.get_by_text("离线码 · 单次有效 · 仅限信易租")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"^有效至 \d{4}-\d\d-\d\d \d\d:\d\d，还剩 \d+ 个离线码$"))
    ).to_be_visible()
    offline_src = page.get_by_role("img", name="信用码").get_attribute("src")
    assert offline_src and offline_src.startswith("data:image/svg") and offline_src != online_src
    expect(page.get_by_role("button", name="出示信易租离线码")).to_be_visible()

    page.context.set_offline(False)
    page.clock.fast_forward("00:06")
    expect(page.get_by_text("动态信用码，商户扫码核验")).to_be_visible()


def test_where_to_use_it_the_report_and_who_read_my_data(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine
) -> None:
    merchant = helpers.partner(committed_engine, "merchant")
    shop = f"天山充电宝 光明路店 {uuid.uuid4().hex[:4]}"
    with helpers.session_on(committed_engine) as session:
        face = {"display_name": shop, "district": "天山区", "address": "光明路 39 号"}
        places.set_profile(
            session,
            SETUP,
            merchant["id"],
            {**face, "offered_scenarios": ["deposit_free_rental"]},
            load_catalog(),
        )
        session.commit()
    sign_in_verified(page, sms)
    with page.expect_response(lambda r: r.url.endswith("/v1/me/passes") and r.status == 201) as issued:
        page.get_by_role("link", name="出示信用码").first.click()
    with helpers.api_client(live_server.url) as http:
        verified = http.post(
            "/v1/verifications",
            json={"token": issued.value.json()["token"], "scenario": "deposit_free_rental"},
            headers=merchant["headers"],
        )
    assert verified.status_code == 201, verified.text
    page.get_by_role("link", name="返回").click()

    page.get_by_role("link", name="更多").click()
    page.get_by_role("link", name="哪里可以用").click()
    rental = page.get_by_role("region", name="信易租")
    expect(rental.get_by_text("您的等级可享：免押金租用，最高 500 元")).to_be_visible()
    expect(rental.get_by_text(shop)).to_be_visible()
    expect(rental.get_by_text("天山区 · 光明路 39 号")).to_be_visible()
    expect(page.get_by_role("region", name="信易游").get_by_text(re.compile("^暂不可用："))).to_be_visible()

    page.get_by_role("link", name="返回").click()
    page.get_by_role("link", name="谁查看了我的信息").click()
    merchant_name = _partner_name(committed_engine, merchant["id"])
    expect(page.get_by_text(re.compile(rf"· {merchant_name}$"))).to_be_visible()
    expect(page.get_by_text(re.compile("^核验了您的信用码 · 用途："))).to_be_visible()

    page.get_by_role("link", name="返回").click()
    page.get_by_role("link", name="我的信用报告").click()
    expect(page.get_by_text("信用等级 B · 信用分 600")).to_be_visible()
    expect(page.get_by_text("核验记录 1 条")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="下载报告").click()
    saved = download.value.path()
    assert "信用报告 · Credit report" in Path(saved).read_text(encoding="utf-8")


def test_a_resident_applies_for_credit_repair_with_proof_and_the_signed_commitment(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine
) -> None:
    _, id_number = sign_in_verified(page, sms, name="陈静")
    with helpers.api_client(live_server.url) as http:
        push(http, provider(committed_engine), penalty(id_number, 200, "逾期未缴纳罚款"))
    page.reload()

    # Home says it can be repaired now and links to the record
    expect(page.get_by_text(re.compile("^「一般失信行政处罚」现在即可申请信用修复（免费）"))).to_be_visible()
    page.get_by_role("link", name="现在申请信用修复").click()
    repair = page.get_by_role("region", name="信用修复")
    expect(
        repair.get_by_text(re.compile("^现在即可申请信用修复（免费），修复后最多可提高 \\d+ 分。$"))
    ).to_be_visible()
    expect(repair.get_by_text(re.compile("信用承诺书（信用修复）"))).to_be_visible()

    repair.get_by_label("纠正失信行为的说明").fill("罚款已于上月全额缴纳，附缴款凭证。")
    repair.get_by_label("证明材料（如缴款凭证）").set_input_files(
        [{"name": "缴款凭证.png", "mimeType": "image/png", "buffer": png()}]
    )
    repair.get_by_label("签署人姓名（与身份证一致）").fill("陈静")
    repair.get_by_label("我已阅读并签署以上信用承诺书").check()
    repair.get_by_role("button", name="提交修复申请").click()

    expect(page.get_by_text("状态：审核中")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"^\d{4}-\d\d-\d\d 受理，\d{4}-\d\d-\d\d 前作出决定（3 个工作日）$"))
    ).to_be_visible()
    expect(page.get_by_role("button", name="提交修复申请")).to_have_count(0)


def test_an_enterprise_admin_applies_for_xinyidai_follows_the_bank_and_withdraws_the_consent(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine
) -> None:
    bank_name = f"天山示范银行 {uuid.uuid4().hex[:4]}"
    with helpers.session_on(committed_engine) as session:
        bank = passes.partner(session, "bank", name=bank_name)
    phone, _ = sign_in_verified(page, sms)
    firm_name = f"乌鲁木齐测试{uuid.uuid4().hex[:4]}有限公司"
    with helpers.api_client(live_server.url) as http:
        loans.product(http, bank)  # type: ignore[arg-type]
        founder = passes.resident(http, sms)  # type: ignore[arg-type]
        firm = http.post(
            "/v1/enterprises", json={"name": firm_name, "uscc": make_uscc()}, headers=founder["headers"]
        )
        assert firm.status_code == 201, firm.text
        added = http.post(
            f"/v1/enterprises/{firm.json()['id']}/admins", json={"phone": phone}, headers=founder["headers"]
        )
        assert added.status_code == 201, added.text

    page.get_by_role("link", name="更多").click()
    page.get_by_role("link", name="信易贷（企业）").click()
    expect(page.get_by_role("heading", name=firm_name)).to_be_visible()
    apply = page.get_by_role("region", name="申请信易贷")
    apply.get_by_label("贷款金额（元）").fill("500000")
    apply.get_by_label("期限（月）").fill("12")
    apply.get_by_label("贷款用途").fill("采购原材料（流动资金）")
    apply.get_by_label("所属行业").select_option("I")
    apply.get_by_label(bank_name).check()
    expect(apply.get_by_label("授权有效期")).to_have_value("90")
    apply.get_by_label(re.compile("^我同意所选银行")).check()
    apply.get_by_role("button", name="提交申请").click()

    application = page.get_by_role("region", name="500,000 元 · 12 个月")
    expect(application.get_by_text(re.compile("^已推荐给银行"))).to_be_visible()
    expect(application.get_by_text(f"{bank_name} · 已推送，等待银行审批")).to_be_visible()
    expect(application.get_by_text(re.compile(r"^授权有效至 \d{4}-\d\d-\d\d（有效）$"))).to_be_visible()

    with helpers.api_client(live_server.url) as http:
        referral = http.get("/v1/partner/referrals", headers=bank["headers"]).json()["data"][0]
        decided = http.post(
            f"/v1/partner/referrals/{referral['id']}/decision",
            json={
                "decision": "approved",
                "amount_fen": 400_000_00,
                "annual_rate_bps": 435,
                "term_months": 12,
            },
            headers={**bank["headers"], "Idempotency-Key": uuid.uuid4().hex},
        )
        assert decided.status_code == 200, decided.text
    page.reload()
    application = page.get_by_role("region", name="500,000 元 · 12 个月")
    expect(application.get_by_text(f"{bank_name} · 已批准")).to_be_visible()
    expect(application.get_by_text("批准 400,000 元，年利率 4.35%，12 个月")).to_be_visible()

    page.get_by_role("link", name="返回").click()
    page.get_by_role("link", name="我的授权").click()
    consent = page.get_by_role("listitem").filter(has_text=bank_name)
    expect(
        consent.get_by_text(re.compile(rf"^授权给 {bank_name}，有效至 \d{{4}}-\d\d-\d\d，有效$"))
    ).to_be_visible()
    consent.get_by_role("button", name="撤回授权").click()
    expect(
        page.get_by_text(re.compile(rf"^授权给 {bank_name}，有效至 \d{{4}}-\d\d-\d\d，已撤回$"))
    ).to_be_visible()
