"""Checking the audit log: every chain, entry by entry, in sequence order.

An entry is intact when its stored hash matches its content (``service.hash_of``), it carries the hash of
the entry before it (the genesis hash for seq 1), its seq follows the previous one with no gap, and it sits
in its subject's chain. A chain is intact when, in addition, its head row names its last entry: the head is
what shows that entries were removed from the end.

The walk reads plain rows in keyset batches of ``(chain, seq)`` (the unique index), never ORM objects, so
memory stays flat however long the log is and a hand edit is seen even by a session that wrote the entry.
Each row comes joined with its chain's head from the same statement, so a writer appending while the walk
runs never makes an intact chain look broken.

Only the first problem of a chain is reported: everything after it in that chain is suspect anyway.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, Select, and_, exists, func, select, tuple_
from sqlmodel import Session

from app.audit import service
from app.audit.models import AuditChainHead, AuditEntry

BATCH_SIZE = 2000

_entries = AuditEntry.__table__  # type: ignore[attr-defined]  # SQLModel leaves __table__ untyped
_heads = AuditChainHead.__table__  # type: ignore[attr-defined]


class ProblemKind(StrEnum):
    altered = "altered"  # the stored hash does not match the entry's content
    broken_link = "broken_link"  # prev_hash is not the hash of the entry before it
    missing = "missing"  # a seq is absent: an entry was removed (in the middle, or at the end per the head)
    head_mismatch = "head_mismatch"  # the head row does not name the last entry (or there is no head)
    wrong_chain = "wrong_chain"  # the entry's subject_id does not belong to the chain it is in
    unknown_key = "unknown_key"  # keyed with an audit HMAC key id the settings do not hold
    unkeyed = "unkeyed"  # an unkeyed (plain SHA-256) entry after a keyed one: keys were stripped
    checkpoint_invalid = "checkpoint_invalid"  # a checkpoint's signature, claims or heads do not check out
    checkpoint_mismatch = "checkpoint_mismatch"  # an entry differs from the head a checkpoint signed
    checkpoint_missing = "checkpoint_missing"  # a checkpoint kept outside is not in the database as kept


@dataclass(frozen=True)
class Problem:
    """The first thing wrong with one chain.

    ``seq`` is where the chain stops verifying (for ``missing``: the first absent seq). ``entry_id`` is the
    stored entry at that point; for ``missing`` it is the first entry after the gap, or ``None`` when the
    removed entries were the last ones of the chain.
    """

    kind: ProblemKind
    chain: str
    seq: int
    entry_id: str | None
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "chain": self.chain,
            "seq": self.seq,
            "entry_id": self.entry_id,
            "detail": self.detail,
        }


@dataclass
class VerifyResult:
    chains: int = 0
    entries: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# A row the walk reads: one stored entry, with its chain's head as ``head_seq`` and ``head_hash`` (``None``
# when the chain has no head row).
_Row = Row[Any]
_ENTRY_COLUMNS = [_entries.c[f.name] for f in dataclasses.fields(service.RecordedEntry)]


@dataclass
class _Chain:
    name: str
    expected_seq: int = 1
    prev_hash: str = service.GENESIS_HASH
    keyed: bool = False
    last: _Row | None = None
    problem: Problem | None = None


def count_entries(session: Session, chain: str | None = None) -> int:
    """How many entries ``verify`` will read (for a progress bar)."""
    statement = select(func.count()).select_from(_entries)
    if chain is not None:
        statement = statement.where(_entries.c.chain == chain)
    return int(session.execute(statement).scalar_one())


def verify(
    session: Session,
    *,
    chain: str | None = None,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Walk every chain (or only ``chain``) and report the first problem of each broken one.

    ``on_progress`` is called with the number of entries read after each batch.
    """
    result = VerifyResult()
    current: _Chain | None = None
    for batch in _entry_batches(session, chain, batch_size):
        for row in batch:
            if current is None or row.chain != current.name:
                if current is not None:
                    _finish(current, result)
                current = _Chain(row.chain)
            result.entries += 1
            if current.problem is None:
                current.problem = _check_entry(current, row)
            current.last = row
        if on_progress is not None:
            on_progress(len(batch))
    if current is not None:
        _finish(current, result)
    for head in _heads_without_entries(session, chain, batch_size):
        problem = _check_empty_chain(head)
        if problem is not None:
            result.chains += 1
            result.problems.append(problem)
    return result


def _check_entry(walk: _Chain, row: _Row) -> Problem | None:
    if row.seq > walk.expected_seq:
        return Problem(
            ProblemKind.missing,
            row.chain,
            walk.expected_seq,
            row.id,
            f"seq {walk.expected_seq}..{row.seq - 1} absent: entries were removed before {row.id}",
        )
    if row.seq < walk.expected_seq:  # only a seq below 1 can sort first; record() never writes one
        return Problem(ProblemKind.altered, row.chain, row.seq, row.id, f"seq {row.seq} is out of range")
    if row.key_id is None and walk.keyed:
        return Problem(
            ProblemKind.unkeyed,
            row.chain,
            row.seq,
            row.id,
            "an unkeyed entry after keyed ones: its key was stripped to recompute it without the key",
        )
    try:
        expected = service.hash_of(row)
    except KeyError:
        return Problem(
            ProblemKind.unknown_key,
            row.chain,
            row.seq,
            row.id,
            f"keyed with audit key {row.key_id!r}, which XINYI_AUDIT_HMAC_KEYS does not hold",
        )
    if expected != row.entry_hash:
        return Problem(
            ProblemKind.altered,
            row.chain,
            row.seq,
            row.id,
            "the stored hash does not match the entry's content",
        )
    if row.prev_hash != walk.prev_hash:
        before = f"entry seq {row.seq - 1}" if row.seq > 1 else "the chain's start"
        return Problem(
            ProblemKind.broken_link,
            row.chain,
            row.seq,
            row.id,
            f"prev_hash does not match the hash of {before}: the entry before it was replaced",
        )
    if row.chain != service.chain_for(row.subject_id):
        return Problem(
            ProblemKind.wrong_chain,
            row.chain,
            row.seq,
            row.id,
            f"the entry is about subject {row.subject_id or '(none)'} but sits in chain {row.chain}",
        )
    walk.expected_seq = row.seq + 1
    walk.prev_hash = row.entry_hash
    walk.keyed = walk.keyed or row.key_id is not None
    return None


def _finish(walk: _Chain, result: VerifyResult) -> None:
    result.chains += 1
    problem = walk.problem or _check_head(walk)
    if problem is not None:
        result.problems.append(problem)


def _check_head(walk: _Chain) -> Problem | None:
    last = walk.last
    assert last is not None
    if last.head_seq is None or last.head_hash is None:
        return Problem(ProblemKind.head_mismatch, last.chain, last.seq, last.id, "the chain has no head row")
    if last.head_seq > last.seq:
        return Problem(
            ProblemKind.missing,
            last.chain,
            last.seq + 1,
            None,
            f"the head records {last.head_seq} entries but the chain ends at seq {last.seq} "
            f"({last.id}): the last entries were removed",
        )
    if last.head_seq < last.seq:
        return Problem(
            ProblemKind.head_mismatch,
            last.chain,
            last.seq,
            last.id,
            f"the head records {last.head_seq} entries but the chain goes on to seq {last.seq}",
        )
    if last.head_hash != last.entry_hash:
        return Problem(
            ProblemKind.head_mismatch,
            last.chain,
            last.seq,
            last.id,
            "the head's hash is not the hash of the last entry",
        )
    return None


def _check_empty_chain(head: Row[Any]) -> Problem | None:
    if head.last_seq > 0:
        return Problem(
            ProblemKind.missing,
            head.chain,
            1,
            None,
            f"the head records {head.last_seq} entries but none are left",
        )
    if head.last_hash != service.GENESIS_HASH:
        return Problem(ProblemKind.head_mismatch, head.chain, 0, None, "an empty chain's head has a hash")
    return None


def _entry_batches(session: Session, chain: str | None, batch_size: int) -> Iterator[list[_Row]]:
    after: tuple[str, int] | None = None
    while True:
        # The repeated bound on the head's chain changes nothing in the result; it lets PostgreSQL's
        # merge join start the heads index at this batch instead of at the first chain every time.
        on_head = _heads.c.chain == _entries.c.chain
        if after is not None:
            on_head = and_(on_head, _heads.c.chain >= after[0])
        statement: Select[Any] = (
            select(
                *_ENTRY_COLUMNS, _heads.c.last_seq.label("head_seq"), _heads.c.last_hash.label("head_hash")
            )
            .select_from(_entries.outerjoin(_heads, on_head))
            .order_by(_entries.c.chain, _entries.c.seq)
            .limit(batch_size)
        )
        if chain is not None:
            statement = statement.where(_entries.c.chain == chain)
        if after is not None:
            statement = statement.where(tuple_(_entries.c.chain, _entries.c.seq) > tuple_(*after))
        batch = list(session.execute(statement))
        if not batch:
            return
        yield batch
        after = (batch[-1].chain, batch[-1].seq)


def _heads_without_entries(session: Session, chain: str | None, batch_size: int) -> Iterator[Row[Any]]:
    """Heads whose chain has no entry left at all (every entry of it removed)."""
    statement: Select[Any] = (
        select(_heads.c.chain, _heads.c.last_seq, _heads.c.last_hash)
        .where(~exists().where(_entries.c.chain == _heads.c.chain))
        .order_by(_heads.c.chain)
        .limit(batch_size)
    )
    if chain is not None:
        statement = statement.where(_heads.c.chain == chain)
    after: str | None = None
    while True:
        page = statement if after is None else statement.where(_heads.c.chain > after)
        batch = list(session.execute(page))
        if not batch:
            return
        yield from batch
        after = batch[-1].chain
