"""Partner organisations and their API keys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, String
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id


class PartnerKind(StrEnum):
    merchant = "merchant"
    bank = "bank"
    government_counter = "government_counter"
    data_provider = "data_provider"


class PartnerStatus(StrEnum):
    active = "active"
    suspended = "suspended"


class Partner(SQLModel, table=True):
    __tablename__ = "partners"

    id: str = Field(default_factory=lambda: new_id("ptn"), primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    kind: PartnerKind = Field(sa_type=String(32))
    status: PartnerStatus = Field(default=PartnerStatus.active, sa_type=String(16))
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The public face, for residents ("where can I use it"): listed only once display_name is set
    display_name: str | None = Field(default=None, max_length=100)
    district: str | None = Field(default=None, max_length=50)
    address: str | None = Field(default=None, max_length=200)
    offered_scenarios: list[str] = Field(
        default_factory=list, sa_column_kwargs={"server_default": "[]"}, sa_type=JSON
    )


class ApiKey(SQLModel, table=True):
    """The secret is shown once; only its SHA-256 is kept. ``prefix`` is the visible part
    (``xyk_3F9K2M7Q``) that identifies the key in lists and logs."""

    __tablename__ = "api_keys"

    id: str = Field(default_factory=lambda: new_id("key"), primary_key=True, max_length=32)
    partner_id: str = Field(foreign_key="partners.id", index=True, max_length=32)
    name: str = Field(max_length=100)
    prefix: str = Field(unique=True, max_length=32)
    secret_hash: str = Field(max_length=64)
    scopes: list[str] = Field(default_factory=list, sa_type=JSON)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
