"""Verifications: every scan of a pass by a partner, online or reported from offline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, text
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id

ONLINE_PASS_UNIQUE = "uq_verifications_online_pass"  # noqa: S105 (an index name)


class Verification(SQLModel, table=True):
    __tablename__ = "verifications"
    __table_args__ = (
        Index("ix_verifications_subject_id_id", "subject_id", "id"),
        Index("ix_verifications_flagged_id", "flagged", "id"),
        # Single use held by the database too: a lost ``pass:<handle>`` key in the store (eviction, a
        # failover to a lagging replica) cannot let a second scan of an online pass be accepted.
        Index(
            ONLINE_PASS_UNIQUE,
            "pass_id",
            unique=True,
            postgresql_where=text("mode = 'online'"),
            sqlite_where=text("mode = 'online'"),
        ),
    )

    id: str = Field(default_factory=lambda: new_id("ver"), primary_key=True, max_length=32)
    mode: str = Field(sa_type=String(8))  # online | offline
    partner_id: str = Field(foreign_key="partners.id", index=True, max_length=32)
    subject_id: str = Field(foreign_key="subjects.id", max_length=32)
    pass_id: str = Field(index=True, max_length=32)  # pas_… (online pass) or ofc_… (offline code)
    scenario: str = Field(max_length=40)
    decision: str = Field(sa_type=String(16))  # eligible | not_eligible
    reason: str = Field(max_length=32)
    benefit: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)  # how long the decision may be acted on
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # offline: when the code was used
    flagged: bool = False  # offline: the code was used more than once
