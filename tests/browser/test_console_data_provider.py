"""The data provider's console: a record file uploaded with its refused rows named, the batches, and the
objections to the provider's records with their status."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import col, select

from app.core.config import Settings
from app.core.sms import RecordingSender
from app.records.models import CreditRecord
from tests.browser import helpers
from tests.browser.conftest import LiveServer
from tests.browser.console import sign_in_to_console
from tests.browser.members import DESKTOP, member, member_menu
from tests.browser.resident import penalty, push
from tests.passes import helpers as passes
from tests.passes.helpers import unique_id_number
from tests.records.helpers import csv_text


def test_a_data_provider_uploads_a_file_and_sees_its_two_bad_rows_named(
    page: Page,
    live_server: LiveServer,
    committed_engine: Engine,
    settings: Settings,
    sms: RecordingSender,
    tmp_path: Path,
) -> None:
    provider = helpers.partner(
        committed_engine, "data_provider", ["records:write"], f"市场监管局 {uuid.uuid4().hex[:4]}"
    )
    good = penalty(unique_id_number(), 30, "未按规定公示年度报告")
    bad_severity = {**penalty(unique_id_number(), 30, "未按规定公示年度报告"), "severity": "huge"}
    bad_date = {**penalty(unique_id_number(), 30, "未按规定公示年度报告"), "decision_date": "2026-13-40"}
    upload = tmp_path / "amr-2026-11.csv"
    upload.write_text(csv_text(good, bad_severity, bad_date), encoding="utf-8")

    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, member(committed_engine, settings, provider["id"], "manager"))
    assert member_menu(page) == ["信用记录上报", "记录异议", "Webhook 端点", "API 密钥", "团队成员"]
    expect(page.get_by_role("heading", name="信用记录上报", level=1)).to_be_visible()
    expect(page.get_by_text("还没有批次。")).to_be_visible()

    page.get_by_label("记录文件（CSV 或 JSON Lines）").set_input_files(upload)
    page.get_by_role("button", name="上传", exact=True).click()

    result = page.get_by_role("region", name="上传结果")
    expect(result.get_by_role("status")).to_have_text(
        "amr-2026-11.csv：共 3 行，新增 1，更新 0，未变 0，拒绝 2。"
    )
    refused = result.get_by_role("row")
    expect(refused).to_have_count(3)
    expect(refused.nth(1).get_by_role("cell").nth(0)).to_have_text("2")
    expect(refused.nth(1).get_by_role("cell").nth(1)).to_have_text("severity")
    expect(refused.nth(1).get_by_role("cell").nth(2)).to_have_text(bad_severity["source_record_id"])
    expect(refused.nth(2).get_by_role("cell").nth(0)).to_have_text("3")
    expect(refused.nth(2).get_by_role("cell").nth(1)).to_have_text("decision_date")
    expect(refused.nth(2).get_by_role("cell").nth(2)).to_have_text(bad_date["source_record_id"])

    # the batch is listed with its counts
    batches = page.get_by_role("region", name="批次与文件导入")
    expect(batches.get_by_role("row").nth(1)).to_contain_text("amr-2026-11.csv")
    expect(batches.get_by_role("row").nth(1).get_by_role("cell").nth(3)).to_have_text("3")
    expect(batches.get_by_role("row").nth(1).get_by_role("cell").nth(7)).to_have_text("2")

    # the good row landed, the bad ones did not
    with helpers.session_on(committed_engine) as session:
        landed = session.exec(
            select(CreditRecord.source_record_id).where(
                col(CreditRecord.source_record_id).in_(
                    [r["source_record_id"] for r in (good, bad_severity, bad_date)]
                )
            )
        ).all()
    assert landed == [good["source_record_id"]]


def test_a_data_provider_follows_the_objections_to_its_records(
    page: Page, live_server: LiveServer, committed_engine: Engine, settings: Settings, sms: RecordingSender
) -> None:
    provider = helpers.partner(
        committed_engine, "data_provider", ["records:write"], f"市场监管局 {uuid.uuid4().hex[:4]}"
    )
    with helpers.api_client(live_server.url) as http:
        holder = passes.resident(http, sms)  # type: ignore[arg-type]
        record = penalty(holder["id_number"], 40, "未按规定办理排污许可")
        push(http, provider, record)
        mine = http.get("/v1/me/records", headers=holder["headers"]).json()["data"]
        objected = http.post(
            "/v1/me/objections",
            json={"record_id": mine[0]["id"], "reason": "该处罚已被行政复议撤销。", "evidence_ids": []},
            headers={**holder["headers"], "Idempotency-Key": uuid.uuid4().hex},
        )
        assert objected.status_code == 201, objected.text

    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, member(committed_engine, settings, provider["id"], "clerk"))
    # a clerk reads the batches but is told uploading takes a manager
    expect(page.get_by_text("上传记录文件需要负责人或经理角色；您可以查看批次。")).to_be_visible()
    expect(page.get_by_role("button", name="上传", exact=True)).to_have_count(0)

    page.get_by_role("link", name="记录异议").click()
    row = page.get_by_role("row").filter(has_text=objected.json()["id"])
    expect(row).to_contain_text(record["source_record_id"])
    expect(row).to_contain_text("待答复")
    expect(row).to_contain_text("该处罚已被行政复议撤销。")
    page.get_by_label("状态").select_option("upheld")
    expect(page.get_by_text("没有异议。")).to_be_visible()
