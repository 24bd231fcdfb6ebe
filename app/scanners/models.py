"""Scanner devices: a phone or tablet at a partner's counter, enrolled once, revocable."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id


class ScannerDevice(SQLModel, table=True):
    """Issued by a partner as a one-time enrolment code; the device exchanges the code for its own API key
    (``api_key_id``), which can only verify passes (and open and return rentals, for rental partners).
    Only the code's SHA-256 is kept, and only until it is used or expires."""

    __tablename__ = "scanner_devices"

    id: str = Field(default_factory=lambda: new_id("scd"), primary_key=True, max_length=32)
    partner_id: str = Field(foreign_key="partners.id", index=True, max_length=32)
    name: str = Field(max_length=100)
    enrolment_hash: str | None = Field(default=None, unique=True, max_length=64)
    enrolment_expires_at: datetime = Field(sa_type=UTCDateTime)
    api_key_id: str | None = Field(default=None, foreign_key="api_keys.id", unique=True, max_length=32)
    # What the device's key may do: verifications:write, and rentals:counter when its issuer could rent.
    scopes: list[str] = Field(default_factory=list, sa_type=JSON)
    scenario: str | None = Field(default=None, max_length=40)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    enrolled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
