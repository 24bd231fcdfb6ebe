"""The append-only, hash-chained audit log.

Entries form one chain per subject (``subject:<id>``) and one for actions on no subject (``system``).
Each entry stores the hash of the previous entry of its chain; ``audit_chain_heads`` holds the last
sequence number and hash of each chain, which both serialises concurrent writers (the head row is updated
first, taking its row lock) and lets ``xinyi audit verify`` notice a removed last entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entries"
    __table_args__ = (UniqueConstraint("chain", "seq"),)

    id: str = Field(default_factory=lambda: new_id("aud"), primary_key=True, max_length=32)
    chain: str = Field(max_length=64)
    seq: int
    actor_type: str = Field(max_length=16)
    actor_id: str = Field(max_length=64)
    subject_id: str | None = Field(default=None, index=True, max_length=32)
    action: str = Field(max_length=64)
    purpose: str = Field(max_length=200)
    legal_basis: str = Field(max_length=200)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    prev_hash: str = Field(max_length=64)
    entry_hash: str = Field(max_length=64)
    # Which audit HMAC key keyed entry_hash (settings, never the database); None: an entry written
    # before the chain was keyed (plain SHA-256), allowed only before a chain's first keyed entry.
    key_id: str | None = Field(default=None, max_length=32)


class AuditChainHead(SQLModel, table=True):
    __tablename__ = "audit_chain_heads"

    chain: str = Field(primary_key=True, max_length=64)
    last_seq: int = 0
    last_hash: str = Field(max_length=64)


class AuditCheckpoint(SQLModel, table=True):
    """The heads of the chains that moved since the previous checkpoint, signed with the platform's
    Ed25519 key (``token``, a compact JWS whose claims carry the digest of those heads and the hash of
    the previous checkpoint's token). Published at ``GET /v1/audit/checkpoints`` for copies to be kept
    outside the platform: a chain rewritten after its head was signed no longer matches."""

    __tablename__ = "audit_checkpoints"

    id: str = Field(default_factory=lambda: new_id("ack"), primary_key=True, max_length=32)
    seq: int = Field(unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    chains: int
    heads_sha256: str = Field(max_length=64)
    prev_sha256: str = Field(max_length=64)
    token: str = Field(max_length=1000)


class AuditCheckpointHead(SQLModel, table=True):
    __tablename__ = "audit_checkpoint_heads"
    __table_args__ = (Index("ix_audit_checkpoint_heads_chain_seq", "chain", "seq"),)

    checkpoint_id: str = Field(foreign_key="audit_checkpoints.id", primary_key=True, max_length=32)
    chain: str = Field(primary_key=True, max_length=64)
    seq: int
    entry_hash: str = Field(max_length=64)


class AuditVerificationRun(SQLModel, table=True):
    """One walk of the audit log (or of one chain) asked for by an auditor or by the daily schedule, run by
    the worker (``app.audit.runs``): the whole log of a city is far too long to walk within an HTTP
    request. ``heartbeat_at`` moves with every batch read; a running walk whose heartbeat stopped (its
    worker died) is taken up again by the next worker."""

    __tablename__ = "audit_verification_runs"

    id: str = Field(default_factory=lambda: new_id("avr"), primary_key=True, max_length=32)
    chain: str | None = Field(default=None, max_length=64)
    status: str = Field(default="queued", index=True, max_length=16)
    requested_by_type: str = Field(max_length=16)
    requested_by_id: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    entries_total: int | None = None
    entries_checked: int = 0
    chains: int = 0
    checkpoints: int = 0
    ok: bool | None = None
    problems_total: int = 0
    # The first problems found (positions and hashes only, as the walk reports them), at most PROBLEMS_KEPT.
    problems: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
