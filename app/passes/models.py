"""Offline codes: the pre-issued, single-use passes a phone may show without signal.

Online passes are not stored here: they live 90 seconds, in the key-value store, next to their single-use
claim (:mod:`app.passes.service`). An offline code lives up to 24 h and must be found again for the deny
list, for reconciliation and for revocation, so it has a row.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id


class OfflineCode(SQLModel, table=True):
    __tablename__ = "offline_codes"

    id: str = Field(default_factory=lambda: new_id("ofc"), primary_key=True, max_length=32)
    handle: str = Field(unique=True, max_length=16)
    subject_id: str = Field(foreign_key="subjects.id", index=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", max_length=32)
    scenario: str = Field(max_length=40)
    kid: str = Field(max_length=43)  # the key that signed it: the token can be signed again for display
    not_before: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # First use, online or reported from offline; a second use is flagged on its verification.
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
