"""Helpers for the resident app's browser tests: sign in and bind an identity through the page."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import httpx
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from app.core.clock import business_date
from app.core.sms import RecordingSender
from tests.browser import helpers
from tests.helpers import make_phone
from tests.passes import helpers as passes
from tests.passes.helpers import unique_id_number


def sign_in(page: Page, sms: RecordingSender, phone: str | None = None) -> str:
    """Open /app and sign in with phone + SMS code, as a person would. Returns the phone."""
    phone = phone or make_phone()
    page.goto("/app")
    page.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("status")).to_contain_text("验证码已发送")
    page.get_by_label("短信验证码").fill(sms.codes[phone])
    page.get_by_role("button", name="登录", exact=True).click()
    return phone


def sign_in_verified(page: Page, sms: RecordingSender, name: str = "陈静") -> tuple[str, str]:
    """Sign in and bind a fresh ID number through the page; ends on the home screen. (phone, id number)"""
    phone = sign_in(page, sms)
    id_number = unique_id_number()
    page.get_by_label("姓名").fill(name)
    page.get_by_label("身份证号").fill(id_number)
    page.get_by_role("button", name="确认绑定").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("您好")
    return phone, id_number


def provider(engine: Engine, name: str | None = None) -> dict[str, Any]:
    """A department with a records:write key, committed (its name unique to the test unless given)."""
    name = name or f"乌鲁木齐市市场监督管理局 {uuid.uuid4().hex[:4]}"
    with helpers.session_on(engine) as session:
        return passes.partner(session, "data_provider", ["records:write"], name=name)


def push(http: httpx.Client, department: dict[str, Any], *rows: dict[str, Any]) -> None:
    response = http.post(
        "/v1/records/batches",
        json={"records": list(rows)},
        headers={**department["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201 and response.json()["rejected"] == 0, response.text


def penalty(id_number: str, days_ago: int, title: str) -> dict[str, Any]:
    return {
        "source_record_id": f"pen-{uuid.uuid4().hex[:12]}",
        "category": "administrative_penalty",
        "id_number": id_number,
        "severity": "general",
        "decision_date": (business_date() - timedelta(days=days_ago)).isoformat(),
        "title": title,
    }


def png() -> bytes:
    """A small real PNG (the evidence upload checks the content, not the name)."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()
