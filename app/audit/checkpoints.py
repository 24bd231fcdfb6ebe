"""Signed checkpoints of the audit log: what anchors the chains outside the database.

Keyed hashes (``service.entry_hash``) stop someone who can write to the database but does not hold the
audit key. Checkpoints stop the rest, and let anyone outside check: every hour the worker takes the
heads of the chains that moved since the last checkpoint, and signs their digest with the platform's
Ed25519 key (the one that signs passes, published at ``/.well-known/jwks.json``), together with the
hash of the previous checkpoint's token, so the checkpoints form a chain of their own. They are public
at ``GET /v1/audit/checkpoints``; auditors and partners keep copies. ``xinyi audit verify`` checks every
checkpoint (signature, claims, the digest of its heads, the link to the one before) and that each chain
still holds, at each signed seq, the entry whose hash was signed; with ``--checkpoints FILE`` (a kept
copy) also that none of the kept checkpoints was removed or replaced.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import jwt
from sqlalchemy import exists, insert, or_, select
from sqlmodel import Session, col

from app.audit import verify as audit_verify
from app.audit.models import AuditChainHead, AuditCheckpoint, AuditCheckpointHead, AuditEntry
from app.audit.verify import Problem, ProblemKind, VerifyResult
from app.core.clock import utcnow
from app.signing.keyring import Keyring, TokenSignatureError

TYP = "xinyi-audit-checkpoint"
GENESIS = "0" * 64

_entries = AuditEntry.__table__  # type: ignore[attr-defined]
_heads = AuditChainHead.__table__  # type: ignore[attr-defined]
_signed = AuditCheckpointHead.__table__  # type: ignore[attr-defined]


def heads_digest(heads: Iterable[tuple[str, int, str]]) -> str:
    """SHA-256 over ``chain TAB seq TAB hash LF`` for each head, in chain order."""
    digest = hashlib.sha256()
    for chain, seq, entry_hash in heads:
        digest.update(f"{chain}\t{seq}\t{entry_hash}\n".encode())
    return digest.hexdigest()


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _claims(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    return {
        "typ": TYP,
        "seq": checkpoint.seq,
        "iat": int(checkpoint.created_at.timestamp()),
        "chains": checkpoint.chains,
        "heads_sha256": checkpoint.heads_sha256,
        "prev_sha256": checkpoint.prev_sha256,
    }


def make(session: Session, keyring: Keyring, now: datetime | None = None) -> AuditCheckpoint | None:
    """Sign the heads of the chains that moved since the last checkpoint, in the caller's transaction;
    None when none moved. Two workers at once: the second one's insert of the same seq fails."""
    now = now or utcnow()
    moved = [
        (row.chain, row.last_seq, row.last_hash)
        for row in session.execute(
            select(_heads.c.chain, _heads.c.last_seq, _heads.c.last_hash)
            .where(
                _heads.c.last_seq > 0,
                ~exists().where(_signed.c.chain == _heads.c.chain, _signed.c.seq == _heads.c.last_seq),
            )
            .order_by(_heads.c.chain)
        )
    ]
    if not moved:
        return None
    previous = session.scalars(
        select(AuditCheckpoint).order_by(col(AuditCheckpoint.seq).desc()).limit(1)
    ).first()
    checkpoint = AuditCheckpoint(
        seq=1 if previous is None else previous.seq + 1,
        created_at=now.replace(microsecond=0),
        chains=len(moved),
        heads_sha256=heads_digest(moved),
        prev_sha256=GENESIS if previous is None else token_sha256(previous.token),
        token="",
    )
    checkpoint.token = keyring.sign(session, _claims(checkpoint), now)
    session.add(checkpoint)
    session.flush()
    session.execute(
        insert(_signed),
        [{"checkpoint_id": checkpoint.id, "chain": c, "seq": s, "entry_hash": h} for c, s, h in moved],
    )
    return checkpoint


def verify_all(
    session: Session, keyring: Keyring, kept: Iterable[str] = (), now: datetime | None = None
) -> tuple[int, list[Problem]]:
    """(checkpoints checked, the problems found). ``kept``: checkpoint tokens kept outside."""
    now = now or utcnow()
    problems: list[Problem] = []
    prev_sha256, count = GENESIS, 0
    stored_tokens: set[str] = set()
    for checkpoint in session.scalars(select(AuditCheckpoint).order_by(col(AuditCheckpoint.seq))):
        count += 1
        stored_tokens.add(checkpoint.token)
        problem = _check_checkpoint(session, keyring, checkpoint, count, prev_sha256, now)
        if problem is not None:
            problems.append(problem)
        else:
            problems.extend(_check_signed_heads(session, checkpoint))
        prev_sha256 = token_sha256(checkpoint.token)
    for token in kept:
        if token not in stored_tokens:
            problems.append(
                Problem(
                    ProblemKind.checkpoint_missing,
                    "checkpoints",
                    _seq_of(token),
                    None,
                    "a checkpoint kept outside is not in the database as it was published",
                )
            )
    return count, problems


def verify_log(
    session: Session,
    keyring: Keyring,
    *,
    chain: str | None = None,
    kept: Iterable[str] = (),
    batch_size: int = audit_verify.BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[VerifyResult, int]:
    """The whole check (``xinyi audit verify``, the worker's verification runs): every chain, or only
    ``chain``, entry by entry, then every checkpoint. Returns the result, its problems including the
    checkpoints' (for one chain: only its mismatches, but every checkpoint's own problems), and how many
    checkpoints were checked."""
    result = audit_verify.verify(session, chain=chain, batch_size=batch_size, on_progress=on_progress)
    checked, problems = verify_all(session, keyring, kept)
    if chain is not None:
        problems = [p for p in problems if p.chain in (chain, "checkpoints")]
    result.problems.extend(problems)
    return result, checked


def _seq_of(token: str) -> int:
    try:
        return int(jwt.decode(token, options={"verify_signature": False}).get("seq", 0))
    except (jwt.PyJWTError, TypeError, ValueError):
        return 0


def _check_checkpoint(
    session: Session,
    keyring: Keyring,
    checkpoint: AuditCheckpoint,
    expected_seq: int,
    prev_sha256: str,
    now: datetime,
) -> Problem | None:
    def invalid(detail: str) -> Problem:
        return Problem(ProblemKind.checkpoint_invalid, "checkpoints", checkpoint.seq, checkpoint.id, detail)

    if checkpoint.seq != expected_seq:
        return invalid(f"checkpoint seq {checkpoint.seq} where {expected_seq} was expected: one was removed")
    try:
        claims = keyring.verify(session, checkpoint.token, now, published_only=False)
    except TokenSignatureError:
        return invalid("its signature does not verify with the platform's keys")
    if claims != _claims(checkpoint) or checkpoint.prev_sha256 != prev_sha256:
        return invalid("its row or its link to the checkpoint before does not match what was signed")
    heads = session.execute(
        select(_signed.c.chain, _signed.c.seq, _signed.c.entry_hash)
        .where(_signed.c.checkpoint_id == checkpoint.id)
        .order_by(_signed.c.chain)
    ).all()
    if len(heads) != checkpoint.chains or heads_digest(heads) != checkpoint.heads_sha256:
        return invalid("its heads do not match the signed digest")
    return None


def _check_signed_heads(session: Session, checkpoint: AuditCheckpoint) -> list[Problem]:
    """Each chain must still hold, at the signed seq, the entry whose hash was signed."""
    found = session.execute(
        select(_signed.c.chain, _signed.c.seq, _entries.c.id)
        .select_from(
            _signed.outerjoin(
                _entries, (_entries.c.chain == _signed.c.chain) & (_entries.c.seq == _signed.c.seq)
            )
        )
        .where(
            _signed.c.checkpoint_id == checkpoint.id,
            or_(_entries.c.entry_hash.is_(None), _entries.c.entry_hash != _signed.c.entry_hash),
        )
        .order_by(_signed.c.chain)
    ).all()
    return [
        Problem(
            ProblemKind.checkpoint_mismatch,
            row.chain,
            row.seq,
            row.id,
            f"checkpoint {checkpoint.seq} signed another entry at this seq: the chain was rewritten",
        )
        for row in found
    ]
