"""Accounts: everyone who signs in with a phone number (residents, enterprise admins, operators, auditors)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id


class Role(StrEnum):
    operator = "operator"
    auditor = "auditor"


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: str = Field(default_factory=lambda: new_id("usr"), primary_key=True, max_length=32)
    phone_hash: str = Field(unique=True, max_length=64)
    phone_masked: str = Field(max_length=16)
    roles: list[str] = Field(default_factory=list, sa_type=JSON)
    subject_id: str | None = Field(default=None, foreign_key="subjects.id", unique=True, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RefreshToken(SQLModel, table=True):
    """One row per issued refresh token. Tokens of one sign-in form a family: presenting a token that was
    already used (a stolen copy) revokes the whole family."""

    __tablename__ = "refresh_tokens"

    id: str = Field(default_factory=lambda: new_id("rtk"), primary_key=True, max_length=32)
    family_id: str = Field(index=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32)
    token_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
