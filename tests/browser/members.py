"""Helpers for the partner members' console tests: a person who is a member of a partner with a role
(membership made in the database, as accepting an invitation makes it; the invitation flow has its own
tests), and the people who must be refused."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from app.accounts import service as accounts_service
from app.core.config import Settings
from app.core.security import Crypto
from app.members.models import MemberRole, PartnerMember
from tests.browser import helpers
from tests.browser.console import staff

DESKTOP = {"width": 1280, "height": 800}


def member(engine: Engine, settings: Settings, partner_id: str, role: str, phone: str | None = None) -> str:
    """A person (new, or the one with ``phone``) made a member of ``partner_id`` with ``role``: the phone."""
    phone = phone or staff(engine, settings)
    with helpers.session_on(engine) as session:
        user = accounts_service.get_or_create_user_by_phone(session, Crypto(settings), phone)
        session.add(
            PartnerMember(
                partner_id=partner_id, user_id=user.id, role=MemberRole(role), invited_by="test-setup"
            )
        )
        session.commit()
    return phone


def member_menu(page: Page) -> list[str]:
    """The links of the side menu, as shown."""
    return [
        text.strip()
        for text in page.get_by_role("navigation", name="控制台菜单").get_by_role("link").all_inner_texts()
    ]


def expect_refused(page: Page, text: str) -> None:
    expect(page.get_by_role("alert").first).to_contain_text(text)
