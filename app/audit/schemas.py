from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from app.audit.models import AuditEntry


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

    @classmethod
    def of(cls, entry: AuditEntry, partner_names: Mapping[str, str]) -> Self:
        """``entry`` as its subject sees it. A partner is named (from ``partner_names``); a staff member
        is not: the subject learns a role, not a colleague's account."""
        by_partner = entry.actor_type == "partner"
        return cls(
            id=entry.id,
            created_at=entry.created_at,
            actor_type=entry.actor_type,
            partner_id=entry.actor_id if by_partner else None,
            partner_name=partner_names.get(entry.actor_id) if by_partner else None,
            action=entry.action,
            purpose=entry.purpose,
            legal_basis=entry.legal_basis,
        )


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


class CheckpointOut(BaseModel):
    """A signed checkpoint of the audit log. Keep a copy: ``xinyi audit verify --checkpoints`` checks the
    log against it. ``token`` is a compact JWS (EdDSA, a key of ``/.well-known/jwks.json``) whose claims
    are the other fields, ``iat`` for ``created_at``."""

    id: str
    seq: int = Field(description="1, 2, 3, …: a gap means a checkpoint was removed.")
    created_at: datetime
    chains: int = Field(description="How many chain heads it signs (those that moved since the last).")
    heads_sha256: str = Field(description="SHA-256 of the signed heads (chain, seq, entry hash).")
    prev_sha256: str = Field(description="SHA-256 of the previous checkpoint's token (zeros for the first).")
    token: str


class AuditProblemOut(BaseModel):
    kind: str = Field(description="altered, missing, head_mismatch, checkpoint_invalid, …")
    chain: str
    seq: int = Field(description="Where the chain stops verifying.")
    entry_id: str | None = Field(description="The stored entry there; None when the last ones were removed.")
    detail: str


class AuditVerificationIn(BaseModel):
    chain: str | None = Field(
        default=None,
        max_length=64,
        description="Only this chain (subject:sub_… or system); none: the whole log.",
    )


class AuditVerificationOut(BaseModel):
    """A walk of the audit log by the worker. ``status``: queued, running (``entries_checked`` of
    ``entries_total`` so far), done (``ok`` true when nothing is wrong) or failed (the worker's log says
    why; ask again). Problems carry positions and hashes only, never an entry's contents."""

    object: Literal["audit_verification"] = "audit_verification"
    id: str
    status: Literal["queued", "running", "done", "failed"]
    chain: str | None = Field(description="The chain walked; null: the whole log.")
    requested_by_type: str = Field(description="auditor, operator, or system (the daily walk).")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    entries_total: int | None = Field(description="Entries in scope when the walk started.")
    entries_checked: int
    chains: int
    checkpoints: int = Field(description="Signed checkpoints checked.")
    ok: bool | None = Field(description="Set when done: true when every entry and checkpoint checks out.")
    problems_total: int
    problems: list[AuditProblemOut] = Field(
        description="The first problems found (up to 200), one per chain."
    )
