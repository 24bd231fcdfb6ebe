from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AccessLogEntry(BaseModel):
    """One read or change of your data by someone else, as you see it."""

    id: str
    created_at: datetime = Field(description="When it happened (UTC).")
    actor_type: str = Field(
        description="Who: partner, operator, auditor, resident or system. Staff members are not named."
    )
    partner_id: str | None = Field(description="The partner, when the actor was one.")
    partner_name: str | None = Field(default=None, description="Its name.")
    action: str = Field(description="What was done, e.g. `pass.verified`.")
    purpose: str
    legal_basis: str


class AuditEntryOut(BaseModel):
    """A stored entry in full, for auditors."""

    id: str
    chain: str
    seq: int
    created_at: datetime
    actor_type: str
    actor_id: str
    subject_id: str | None
    action: str
    purpose: str
    legal_basis: str
    details: dict[str, Any]
    prev_hash: str
    entry_hash: str
