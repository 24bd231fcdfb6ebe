"""People for the members tests: users with real access tokens, partners, members of a role."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.core.config import Settings
from app.core.principal import Principal
from app.core.security import Crypto, mask_phone
from app.members.models import MemberRole, PartnerMember
from app.partners import service as partners_service
from tests.helpers import make_phone

SETUP = Principal(type="system", id="test-setup")


def person(db: Session, settings: Settings, roles: list[str] | None = None) -> dict[str, Any]:
    """A user with a real access token (issued as sign-in issues it): ``{"id", "phone", "headers"}``."""
    phone = make_phone()
    user = User(
        phone_hash=Crypto(settings).phone_hash(phone), phone_masked=mask_phone(phone), roles=roles or []
    )
    db.add(user)
    db.flush()
    issued = accounts_service.issue_tokens(db, settings, user)
    db.commit()  # releases the test's savepoint only; the outer transaction is still rolled back
    return {"id": user.id, "phone": phone, "headers": {"Authorization": f"Bearer {issued.access_token}"}}


def partner(db: Session, kind: str = "merchant") -> str:
    organisation = partners_service.create_partner(db, SETUP, f"测试伙伴 {uuid.uuid4().hex[:6]}", kind)
    db.commit()
    return organisation.id


def make_member(db: Session, partner_id: str, user: dict[str, Any], role: str) -> str:
    """Membership straight in the table (the invitation flow has its own tests): the member id."""
    member = PartnerMember(
        partner_id=partner_id, user_id=user["id"], role=MemberRole(role), invited_by="test-setup"
    )
    db.add(member)
    db.commit()
    return member.id


def member(db: Session, settings: Settings, partner_id: str, role: str) -> dict[str, Any]:
    """A new person who is a member of ``partner_id`` with ``role``: ``{"id", "member_id", "headers", …}``."""
    who = person(db, settings)
    who["member_id"] = make_member(db, partner_id, who, role)
    return who


def idem() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}
