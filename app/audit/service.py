"""Writing and reading the audit log. Verification lives in ``app.audit.verify``.

Every read or change of a subject's data by anyone other than the subject goes through :func:`record`
(by way of the :class:`Grounds` it is made on), inside the same transaction as the read or change it
describes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import operator
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, text, update
from sqlmodel import Session, SQLModel, col, select

from app.audit.models import AuditChainHead, AuditEntry
from app.core.clock import utcnow
from app.core.config import Settings, get_settings
from app.core.db import at_commit
from app.core.ids import new_id
from app.core.pagination import InvalidCursor, PageParams, fetch_page
from app.core.principal import Principal

GENESIS_HASH = "0" * 64
SYSTEM_CHAIN = "system"


# --- the keys of the chain ------------------------------------------------------------------------
#
# An entry's hash is an HMAC under a key from the settings (never in the database): someone who can
# write to the database can change an entry but cannot compute the hash that would make it fit. The key
# id is stored with the entry, so keys rotate: the active one keys new entries, older ones stay listed
# to verify. A process knows every key it was configured with (start-up: ``configure``; a command
# without an app: the environment's settings).

_keys: dict[str, bytes] = {}
_active: list[str] = []  # [the active key id], once configured
_keys_lock = threading.Lock()


def configure(settings: Settings) -> None:
    with _keys_lock:
        _keys.update({kid: key.encode() for kid, key in settings.audit_hmac_keys.items()})
        _active[:] = [settings.audit_hmac_active_kid]


def active_key_id() -> str:
    if not _active:
        configure(get_settings())
    return _active[0]


def _key(key_id: str) -> bytes:
    if not _active:
        configure(get_settings())
    return _keys[key_id]  # KeyError: a key this process does not know (the verifier names it)


def chain_for(subject_id: str | None) -> str:
    return f"subject:{subject_id}" if subject_id else SYSTEM_CHAIN


@dataclass(frozen=True)
class RecordedEntry:
    """What :func:`record` wrote (the stored row has the same fields), written past the unit of work:
    an entry is never changed."""

    id: str
    chain: str
    seq: int
    actor_type: str
    actor_id: str
    subject_id: str | None
    action: str
    purpose: str
    legal_basis: str
    details: dict[str, Any]
    created_at: datetime
    prev_hash: str
    entry_hash: str
    key_id: str | None


# What an entry's hash covers: every field but the hash itself.
HASHED_FIELDS = tuple(f.name for f in dataclasses.fields(RecordedEntry) if f.name != "entry_hash")


_hashed_values = operator.attrgetter(*HASHED_FIELDS)


def hash_of(entry: Any) -> str:
    """The hash of an entry: a ``RecordedEntry``, a stored ``AuditEntry`` or a row read by the verifier,
    anything with the :data:`HASHED_FIELDS` as attributes."""
    return _hash(dict(zip(HASHED_FIELDS, _hashed_values(entry), strict=True)))


def hash_of_fields(fields: dict[str, Any]) -> str:
    return _hash({name: fields[name] for name in HASHED_FIELDS})


def _hash(content: dict[str, Any]) -> str:
    """HMAC-SHA256 under the key ``key_id`` of the entry's canonical JSON (which names the key);
    without a key id, the plain SHA-256 of entries written before the chain was keyed."""
    content["created_at"] = content["created_at"].isoformat(timespec="microseconds")
    key_id = content["key_id"]
    if key_id is None:
        del content["key_id"]
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    if key_id is None:
        return hashlib.sha256(canonical).hexdigest()
    return hmac.new(_key(key_id), canonical, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class EntryRef:
    """An entry :func:`record` will write as the transaction commits: its id and time are already fixed."""

    id: str
    created_at: datetime


# At commit, per entry: claim the chain's head (its row lock is held until the commit), then append.
_CLAIM_HEAD = text(
    "INSERT INTO audit_chain_heads (chain, last_seq, last_hash) VALUES (:chain, 1, :genesis) "
    "ON CONFLICT (chain) DO UPDATE SET last_seq = audit_chain_heads.last_seq + 1 "
    "RETURNING last_seq, last_hash"
)
# Built once: every verification runs them (app.core.db). The table's own INSERT: the mapped class's
# would take the ORM's bulk path, at twice the CPU, for a row that is never loaded back.
_APPEND_ENTRY = insert(SQLModel.metadata.tables[str(AuditEntry.__tablename__)])
_MOVE_HEAD = (
    update(AuditChainHead)
    .where(col(AuditChainHead.chain) == bindparam("head_chain"))
    .values(last_hash=bindparam("head_hash"))
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
) -> EntryRef:
    """Append one entry to the subject's chain, in this transaction. ``details`` must hold ids and codes
    only, never personal data: the log outlives the records it describes.

    The entry is written as the transaction commits (:func:`app.core.db.at_commit`), with the other
    entries of the transaction in the order they were recorded, and not written if it rolls back (or
    the savepoint it was recorded in does). Claiming a chain's head takes its row lock until commit
    (PostgreSQL; SQLite's write lock is taken at BEGIN), and the ``system`` chain is shared by every
    operator read: claimed at commit, the lock is held only for the commit's own round trips. A reader
    in the same transaction does not see the entry; its id and time are fixed now and returned, for a
    row that names the entry.
    """
    fields: dict[str, Any] = {
        "id": new_id("aud"),
        "chain": chain_for(subject_id),
        "actor_type": actor.actor_type,
        "actor_id": actor.actor_id,
        "subject_id": subject_id,
        "action": action,
        "purpose": purpose,
        "legal_basis": legal_basis,
        "details": details or {},
        "created_at": utcnow(),
        "key_id": active_key_id(),
    }
    at_commit(session, "audit", _append_all).append(fields)
    return EntryRef(id=fields["id"], created_at=fields["created_at"])


@dataclass(frozen=True)
class Grounds:
    """Why an entry is written: the purpose and legal basis it names. Each part of the platform states
    its grounds once where it is defined; where the purpose is the caller's (an operator's stated reason,
    a consent's purpose, a scenario), the grounds are made for the entry. Every entry the app writes goes
    through :meth:`record`."""

    purpose: str
    legal_basis: str

    def record(
        self,
        session: Session,
        actor: Principal,
        action: str,
        details: dict[str, Any],
        *,
        subject_id: str | None = None,
    ) -> EntryRef:
        """:func:`record` on these grounds; without ``subject_id``, on the platform's own chain."""
        return record(
            session,
            actor=actor,
            subject_id=subject_id,
            action=action,
            purpose=self.purpose,
            legal_basis=self.legal_basis,
            details=details,
        )


# Staff reading the platform's records to oversee it: the log itself, the case queues, flagged scans.
SUPERVISION = "platform supervision by authorised staff"


def _append_all(session: Session, entries: list[dict[str, Any]]) -> None:
    """At commit: each entry recorded in the transaction claims its chain's head and is appended. The
    entry is written past the unit of work: it is never changed afterwards."""
    for fields in entries:
        seq, prev_hash = session.execute(
            _CLAIM_HEAD, {"chain": fields["chain"], "genesis": GENESIS_HASH}
        ).one()
        chained = {**fields, "seq": seq, "prev_hash": prev_hash}
        entry = RecordedEntry(**chained, entry_hash=hash_of_fields(chained))
        session.execute(_APPEND_ENTRY, dataclasses.asdict(entry))
        session.execute(_MOVE_HEAD, {"head_chain": entry.chain, "head_hash": entry.entry_hash})


def list_entries(
    session: Session, params: PageParams, *, subject_id: str | None = None, action: str | None = None
) -> tuple[list[AuditEntry], bool]:
    """One page of entries, newest first, optionally only one subject's and/or one action's."""
    if subject_id is None:
        statement = select(AuditEntry)
        if action is not None:
            statement = statement.where(AuditEntry.action == action)
        return fetch_page(session, statement, AuditEntry.id, params)
    # One subject's entries are one chain, and its seq is the exact order they were written in (ids made
    # within the same millisecond are not ordered among themselves); (chain, seq) is also the index.
    chain = chain_for(subject_id)
    seq_column = col(AuditEntry.seq)
    statement = select(AuditEntry).where(AuditEntry.chain == chain)
    if action is not None:
        statement = statement.where(AuditEntry.action == action)
    if params.starting_after:
        cursor_seq = session.exec(
            select(AuditEntry.seq).where(AuditEntry.chain == chain, AuditEntry.id == params.starting_after)
        ).first()
        if cursor_seq is None:
            raise InvalidCursor()
        statement = statement.where(seq_column < cursor_seq)
    rows = list(session.exec(statement.order_by(seq_column.desc()).limit(params.limit + 1)).all())
    return rows[: params.limit], len(rows) > params.limit


REVIEW_ACTION = "audit.entries_listed"
_REVIEW = Grounds("audit log review", SUPERVISION)


def review_entries(
    session: Session,
    reviewer: Principal,
    params: PageParams,
    *,
    subject_id: str | None = None,
    action: str | None = None,
) -> tuple[list[AuditEntry], bool]:
    """An auditor or operator reads the log. The read is itself recorded, on the system chain only:
    recording it on each subject's chain would make every review show up as a new access to the
    subjects it happened to list (and a review of those entries would add more)."""
    rows, has_more = list_entries(session, params, subject_id=subject_id, action=action)
    filters = {"subject_id": subject_id, "action": action, "starting_after": params.starting_after}
    _REVIEW.record(session, reviewer, REVIEW_ACTION, {"filter": filters, "returned": len(rows)})
    return rows, has_more
