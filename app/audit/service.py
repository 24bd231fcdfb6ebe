"""Writing and reading the audit log. Verification lives in ``app.audit.verify``.

Every read or change of a subject's data by anyone other than the subject goes through :func:`record`,
inside the same transaction as the read or change it describes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Table, bindparam, insert, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import Session, SQLModel, col, select

from app.audit.models import AuditChainHead, AuditEntry
from app.core.clock import utcnow
from app.core.config import Settings, get_settings
from app.core.db import at_commit, defer_write, execute_core
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
    key_id: str | None,
) -> str:
    """HMAC-SHA256 under the key ``key_id`` of the entry's canonical JSON (which names the key);
    without a key id, the plain SHA-256 of entries written before the chain was keyed."""
    content = {
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
    }
    if key_id is not None:
        content["key_id"] = key_id
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    if key_id is None:
        return hashlib.sha256(canonical).hexdigest()
    return hmac.new(_key(key_id), canonical, hashlib.sha256).hexdigest()


class ChainedEntry(Protocol):
    """What the hash covers. A stored ``AuditEntry`` or a lighter row read by the verifier."""

    @property
    def id(self) -> str: ...
    @property
    def chain(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def actor_type(self) -> str: ...
    @property
    def actor_id(self) -> str: ...
    @property
    def subject_id(self) -> str | None: ...
    @property
    def action(self) -> str: ...
    @property
    def purpose(self) -> str: ...
    @property
    def legal_basis(self) -> str: ...
    @property
    def details(self) -> dict[str, Any]: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def key_id(self) -> str | None: ...


@dataclass(frozen=True)
class RecordedEntry:
    """What :func:`record` wrote (the stored row has the same fields). Not an ORM instance: the entry is
    never changed, and making one costs more than the rest of a hot path's audit write."""

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


@dataclass(frozen=True)
class EntryRef:
    """An entry :func:`record` will write as the transaction commits: its id and time are already fixed."""

    id: str
    created_at: datetime


def hash_of_fields(fields: dict[str, Any]) -> str:
    return entry_hash(entry_id=fields["id"], **{k: v for k, v in fields.items() if k != "id"})


def hash_of(entry: ChainedEntry) -> str:
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
        key_id=entry.key_id,
    )


_ENTRIES: Table = SQLModel.metadata.tables[str(AuditEntry.__tablename__)]
_HEADS: Table = SQLModel.metadata.tables[str(AuditChainHead.__tablename__)]
_ENTRY_COLUMNS = (
    "id", "chain", "seq", "actor_type", "actor_id", "subject_id", "action", "purpose", "legal_basis",
    "details", "created_at", "prev_hash", "entry_hash", "key_id",
)  # fmt: skip


def head_claim_columns() -> tuple[ColumnElement[int], ColumnElement[str]]:
    """PostgreSQL only: the claim of a chain head (the upsert of :func:`record`, as a data-modifying
    ``WITH``, run exactly once per statement) as two columns (the claimed seq, the previous hash) for a
    caller that reads other facts in the same statement and then passes them to :func:`record` as
    ``claimed``. The chain is bound by :func:`head_params`. Build the statement once."""
    upsert = pg_insert(_HEADS).values(
        chain=bindparam("audit_chain"), last_seq=1, last_hash=bindparam("audit_genesis")
    )
    claim = upsert.on_conflict_do_update(
        index_elements=[_HEADS.c.chain], set_={"last_seq": _HEADS.c.last_seq + 1}
    ).returning(_HEADS.c.last_seq, _HEADS.c.last_hash)
    head = claim.cte("claimed_head")
    return (
        select(head.c.last_seq).scalar_subquery().label("audit_seq"),
        select(head.c.last_hash).scalar_subquery().label("audit_prev_hash"),
    )


def head_params(subject_id: str | None) -> dict[str, str]:
    return {"audit_chain": chain_for(subject_id), "audit_genesis": GENESIS_HASH}


# The statements are built once: every verification writes an entry, and a prebuilt statement skips
# SQLAlchemy's construction and cache-key work.
_CLAIM_HEAD = text(
    "INSERT INTO audit_chain_heads (chain, last_seq, last_hash) VALUES (:chain, 1, :genesis) "
    "ON CONFLICT (chain) DO UPDATE SET last_seq = audit_chain_heads.last_seq + 1 "
    "RETURNING last_seq, last_hash"
)
_INSERT_ENTRY = insert(_ENTRIES).values({name: bindparam(f"e_{name}") for name in _ENTRY_COLUMNS})
_SET_HEAD_HASH = (
    update(_HEADS).where(_HEADS.c.chain == bindparam("e_chain")).values(last_hash=bindparam("e_entry_hash"))
)
# PostgreSQL: the entry and the head's new hash in one statement (a data-modifying WITH).
_APPEND_AND_SET_HEAD = _SET_HEAD_HASH.add_cte(_INSERT_ENTRY.cte("appended"))
# ... and, for a caller that writes one row with its entry, that row too (see ``with_row``), built once
# per table and set of columns.
_APPEND_WITH_ROW: dict[tuple[str, tuple[str, ...]], Any] = {}


_ROW_INSERTS: dict[tuple[str, tuple[str, ...]], Any] = {}


def _row_insert(table: Table, columns: tuple[str, ...]) -> Any:
    statement = _ROW_INSERTS.get((table.name, columns))
    if statement is None:
        statement = insert(table).values({name: bindparam(f"r_{name}") for name in columns})
        _ROW_INSERTS[(table.name, columns)] = statement
    return statement


def _append_with_row(table: Table, columns: tuple[str, ...]) -> Any:
    statement = _APPEND_WITH_ROW.get((table.name, columns))
    if statement is None:
        statement = _APPEND_AND_SET_HEAD.add_cte(_row_insert(table, columns).cte("written"))
        _APPEND_WITH_ROW[(table.name, columns)] = statement
    return statement


def record(
    session: Session,
    *,
    actor: Principal,
    subject_id: str | None,
    action: str,
    purpose: str,
    legal_basis: str,
    details: dict[str, Any] | None = None,
    with_row: tuple[Table, dict[str, Any]] | None = None,
    claimed: tuple[int, str] | None = None,
) -> EntryRef:
    """Append one entry to the subject's chain, in this transaction. ``details`` must hold ids and codes
    only, never personal data: the log outlives the records it describes.

    The entry is written as the transaction commits (:func:`app.core.db.at_commit`), with the other
    entries of the transaction in the order they were recorded, and not written if it rolls back (or
    the savepoint it was recorded in does). Claiming a chain's head takes its row lock until commit
    (PostgreSQL; SQLite's write lock is taken at BEGIN), and the ``system`` chain is shared by every
    operator read: claimed at commit, the lock is held only for the commit's own round trips, never
    while the request waits for a worker thread (response validation, the commit), which with more
    waiting requests than threads would hang the process. A reader in the same transaction does not see
    the entry; its id and time are fixed now and returned, for a row that names the entry.

    ``with_row`` = (table, values): a plain INSERT of one row that the entry describes (a row never
    changed afterwards, written past the unit of work), made now.

    ``claimed`` = (seq, previous hash) from :func:`head_claim_columns`, read in this transaction by a
    caller that needs the lock anyway and ends its transaction in the same thread (a verification):
    the entry, and ``with_row`` with it (on PostgreSQL in the same statement, one round trip fewer),
    are written now — or, with short trips, with the COMMIT.
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
    if claimed is None:
        if with_row is not None:
            row = with_row[1]
            execute_core(session, _row_insert(with_row[0], tuple(row)), {f"r_{k}": v for k, v in row.items()})
        at_commit(session, "audit", _append_all).append(fields)
    else:
        _append(session, fields, claimed, with_row)
    return EntryRef(id=fields["id"], created_at=fields["created_at"])


def _append_all(session: Session, entries: list[dict[str, Any]]) -> None:
    """At commit: each entry recorded in the transaction claims its chain's head and is appended."""
    for fields in entries:
        head: Any = execute_core(
            session, _CLAIM_HEAD, {"chain": fields["chain"], "genesis": GENESIS_HASH}
        ).one()
        _append(session, fields, (head[0], head[1]), None)


def _append(
    session: Session,
    fields: dict[str, Any],
    claimed: tuple[int, str],
    with_row: tuple[Table, dict[str, Any]] | None,
) -> RecordedEntry:
    seq, prev_hash = claimed
    chained = {**fields, "seq": seq, "prev_hash": prev_hash}
    entry = RecordedEntry(**chained, entry_hash=hash_of_fields(chained))
    # Written past the unit of work (the entry is never changed afterwards), with the head's new hash.
    params = {f"e_{name}": getattr(entry, name) for name in _ENTRY_COLUMNS}
    columns: tuple[str, ...] = ()
    if with_row is not None:
        columns = tuple(with_row[1])
        params.update({f"r_{name}": value for name, value in with_row[1].items()})
    if session.get_bind().dialect.name == "postgresql":
        statement = _APPEND_AND_SET_HEAD if with_row is None else _append_with_row(with_row[0], columns)
        # Nothing is read back: in a transaction with short trips it travels with the COMMIT.
        defer_write(session, statement, params)
    else:
        if with_row is not None:
            execute_core(session, _row_insert(with_row[0], columns), params)
        execute_core(session, _INSERT_ENTRY, params)
        execute_core(session, _SET_HEAD_HASH, params)
    return entry


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
    record(
        session,
        actor=reviewer,
        subject_id=None,
        action=REVIEW_ACTION,
        purpose="audit log review",
        legal_basis="platform supervision by authorised staff",
        details={
            "filter": {"subject_id": subject_id, "action": action, "starting_after": params.starting_after},
            "returned": len(rows),
        },
    )
    return rows, has_more
