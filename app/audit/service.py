"""Writing to the audit log. Reading and verification live in ``app.audit.verify``.

Every read or change of a subject's data by anyone other than the subject goes through :func:`record`,
inside the same transaction as the read or change it describes.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from app.audit.models import AuditEntry
from app.core.clock import utcnow
from app.core.ids import new_id
from app.core.principal import Principal

GENESIS_HASH = "0" * 64
SYSTEM_CHAIN = "system"


def chain_for(subject_id: str | None) -> str:
    return f"subject:{subject_id}" if subject_id else SYSTEM_CHAIN


def entry_hash(
    *,
    entry_id: str,
    chain: str,
    seq: int,
    actor_type: str,
    actor_id: str,
    subject_id: str | None,
    action: str,
    purpose: str,
    legal_basis: str,
    details: dict[str, Any],
    created_at: datetime,
    prev_hash: str,
) -> str:
    canonical = json.dumps(
        {
            "id": entry_id,
            "chain": chain,
            "seq": seq,
            "actor_type": actor_type,
            "actor_id": actor_id,
            "subject_id": subject_id,
            "action": action,
            "purpose": purpose,
            "legal_basis": legal_basis,
            "details": details,
            "created_at": created_at.isoformat(timespec="microseconds"),
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def hash_of(entry: AuditEntry) -> str:
    return entry_hash(
        entry_id=entry.id,
        chain=entry.chain,
        seq=entry.seq,
        actor_type=entry.actor_type,
        actor_id=entry.actor_id,
        subject_id=entry.subject_id,
        action=entry.action,
        purpose=entry.purpose,
        legal_basis=entry.legal_basis,
        details=entry.details,
        created_at=entry.created_at,
        prev_hash=entry.prev_hash,
    )


def record(
    session: Session,
    *,
    actor: Principal,
    subject_id: str | None,
    action: str,
    purpose: str,
    legal_basis: str,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the subject's chain. ``details`` must hold ids and codes only, never personal
    data: the log outlives the records it describes.

    Concurrency: the chain head is claimed with ``UPDATE … RETURNING`` before anything is read, so the
    row lock (PostgreSQL) or the write lock (SQLite) serialises writers of one chain until commit, and a
    writer always sees the hash its predecessor committed.
    """
    chain = chain_for(subject_id)
    session.flush()
    session.execute(
        text(
            "INSERT INTO audit_chain_heads (chain, last_seq, last_hash) VALUES (:chain, 0, :genesis) "
            "ON CONFLICT (chain) DO NOTHING"
        ),
        {"chain": chain, "genesis": GENESIS_HASH},
    )
    seq, prev_hash = session.execute(
        text(
            "UPDATE audit_chain_heads SET last_seq = last_seq + 1 WHERE chain = :chain "
            "RETURNING last_seq, last_hash"
        ),
        {"chain": chain},
    ).one()
    created_at = utcnow()
    entry = AuditEntry(
        id=new_id("aud"),
        chain=chain,
        seq=seq,
        actor_type=actor.actor_type,
        actor_id=actor.id,
        subject_id=subject_id,
        action=action,
        purpose=purpose,
        legal_basis=legal_basis,
        details=details or {},
        created_at=created_at,
        prev_hash=prev_hash,
        entry_hash="",
    )
    entry.entry_hash = hash_of(entry)
    session.add(entry)
    session.execute(
        text("UPDATE audit_chain_heads SET last_hash = :hash WHERE chain = :chain"),
        {"hash": entry.entry_hash, "chain": chain},
    )
    session.flush()
    return entry
