"""Helpers for the resident app's browser tests: sign in and bind an identity through the page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from app.core.sms import RecordingSender
from tests.helpers import make_phone
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
