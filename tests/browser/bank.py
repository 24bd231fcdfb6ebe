"""Helpers for the bank officers' console tests: a bank with a member of a role (made in the database, as
accepting an invitation makes it), an enterprise referred to it through the API, and what a refused
visitor must not change."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Engine

from app.accounts import service as accounts_service
from app.core.config import Settings
from app.core.security import Crypto
from app.core.sms import RecordingSender
from app.members.models import MemberRole, PartnerMember
from tests.browser import helpers
from tests.helpers import make_phone
from tests.loans import helpers as loans


def bank(engine: Engine) -> dict[str, Any]:
    """A bank and its API key: ``{"id", "name", "headers"}``."""
    return helpers.partner(engine, "bank", name=f"天山农商银行{uuid.uuid4().hex[:4]}")


def member(engine: Engine, settings: Settings, partner_id: str, role: str) -> str:
    """A person who is a member of ``partner_id`` with ``role``, committed; not yet signed in. The phone."""
    phone = make_phone()
    with helpers.session_on(engine) as session:
        user = accounts_service.get_or_create_user_by_phone(session, Crypto(settings), phone)
        session.add(
            PartnerMember(
                partner_id=partner_id, user_id=user.id, role=MemberRole(role), invited_by="test-setup"
            )
        )
        session.commit()
    return phone


def product(http: httpx.Client, bank: dict[str, Any]) -> dict[str, Any]:
    """The bank's product, published with its key."""
    response = http.post(
        "/v1/partner/loan-products", json=loans.PRODUCT, headers={**bank["headers"], **loans.idem()}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def referred_enterprise(http: httpx.Client, sms: RecordingSender, bank_id: str) -> dict[str, Any]:
    """An enterprise that applied for ¥500,000 over 12 months, consenting for 30 days, and was referred to
    the bank: the enterprise (its admin's headers) and its application."""
    firm = loans.enterprise(http, sms)  # type: ignore[arg-type]  # httpx.Client, the same calls
    applied = loans.apply(http, firm, [bank_id])  # type: ignore[arg-type]
    assert applied.status_code == 201, applied.text
    assert applied.json()["status"] == "referred", applied.text
    return {**firm, "application": applied.json(), "referral_id": applied.json()["referrals"][0]["id"]}


def application(http: httpx.Client, firm: dict[str, Any]) -> dict[str, Any]:
    """The application as the enterprise sees it now."""
    seen = http.get(
        f"/v1/enterprises/{firm['id']}/loan-applications/{firm['application']['id']}", headers=firm["headers"]
    )
    assert seen.status_code == 200, seen.text
    return dict(seen.json())


def shown(iso: str) -> str:
    """An instant as the console shows it: minutes, China Standard Time."""
    return datetime.fromisoformat(iso).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
