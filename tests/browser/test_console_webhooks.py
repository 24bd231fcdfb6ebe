"""The operators' console: a failed webhook delivery replayed with its webhook-id."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.core.config import Settings
from app.core.principal import Principal
from app.core.security import Crypto
from app.core.sms import RecordingSender
from app.partners import service as partners_service
from app.webhooks import service
from app.webhooks.models import WebhookDelivery
from tests.browser.conftest import LiveServer
from tests.browser.console import sign_in_to_console, staff
from tests.passes.helpers import SETUP


def _failed_delivery(engine: Engine, settings: Settings) -> WebhookDelivery:
    """A bank's referral.created delivery that ran out of attempts (a committed bank, endpoint, event)."""
    with Session(engine, expire_on_commit=False) as session:
        bank = partners_service.create_partner(session, SETUP, f"测试银行 {uuid.uuid4().hex[:6]}", "bank")
        principal = Principal(type="partner", id=bank.id, partner_kind="bank")
        service.create_endpoint(
            session,
            Crypto(settings).cipher,
            settings,
            principal,
            url="http://127.0.0.1:9/down",
            description=None,
            event_types=None,
        )
        event = service.emit(session, bank.id, "referral.created", {"referral_id": "ref_console"})
        session.flush()
        found = session.exec(select(WebhookDelivery).where(WebhookDelivery.event_id == event.id)).one()
        found.status = "failed"
        found.last_error = "connection refused"
        session.add(found)
        session.commit()
    return found


def test_an_operator_replays_a_failed_delivery(
    page: Page, sms: RecordingSender, live_server: LiveServer, committed_engine: Engine, settings: Settings
) -> None:
    failed = _failed_delivery(committed_engine, settings)
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in_to_console(page, sms, staff(committed_engine, settings, "operator"))
    page.get_by_role("navigation", name="控制台菜单").get_by_role("link", name="Webhook 投递").click()
    page.get_by_label("状态").select_option("failed")

    row = page.get_by_role("row").filter(has_text=failed.event_id)
    expect(row).to_contain_text("referral.created")
    expect(row).to_contain_text("失败")
    expect(row).to_contain_text("connection refused")
    row.get_by_role("button", name="重新投递").click()

    expect(row.get_by_role("status")).to_have_text("已重新排队：等待投递")
    with Session(committed_engine) as session:
        again = session.get(WebhookDelivery, failed.id)
        assert again is not None
        assert (again.status, again.replays, again.event_id) == ("pending", 1, failed.event_id)
