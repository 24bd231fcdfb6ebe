"""Partner members and the invitations that make them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id


class MemberRole(StrEnum):
    owner = "owner"
    manager = "manager"
    clerk = "clerk"


class InvitationStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    revoked = "revoked"
    expired = "expired"  # shown, never stored: a pending invitation past its expires_at


class PartnerMember(SQLModel, table=True):
    """A person (a user, signed in by phone + code) who acts for a partner with a role. A person may be a
    member of several partners, of each once. Removing a member deletes the row; the audit log keeps
    the history."""

    __tablename__ = "partner_members"
    __table_args__ = (UniqueConstraint("partner_id", "user_id"),)

    id: str = Field(default_factory=lambda: new_id("mbr"), primary_key=True, max_length=32)
    partner_id: str = Field(foreign_key="partners.id", index=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32)
    role: MemberRole = Field(sa_type=String(16))
    invited_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PartnerInvitation(SQLModel, table=True):
    """An invitation to a phone number (kept as its keyed hash and masked, never in the clear), accepted
    by whoever signs in with that number before ``expires_at``."""

    __tablename__ = "partner_invitations"

    id: str = Field(default_factory=lambda: new_id("inv"), primary_key=True, max_length=32)
    partner_id: str = Field(foreign_key="partners.id", index=True, max_length=32)
    phone_hash: str = Field(index=True, max_length=64)
    phone_masked: str = Field(max_length=16)
    role: MemberRole = Field(sa_type=String(16))
    status: InvitationStatus = Field(default=InvitationStatus.pending, sa_type=String(16))
    invited_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    member_id: str | None = Field(default=None, max_length=32)
