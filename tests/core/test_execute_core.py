"""``execute_core``: a prebuilt Core statement gives what ``Session.execute`` gives — bound values through
the column types (UTC datetimes, JSON), typed results, literal binds, named row access, errors wrapped as
SQLAlchemy's — on PostgreSQL through its compiled-once fast path, on SQLite through the normal path."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, insert, literal, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

from app.audit.models import AuditEntry
from app.core.db import execute_core
from app.core.ids import new_id

_ENTRIES = SQLModel.metadata.tables[str(AuditEntry.__tablename__)]
_COLUMNS = (
    "id", "chain", "seq", "actor_type", "actor_id", "subject_id", "action", "purpose", "legal_basis",
    "details", "created_at", "prev_hash", "entry_hash",
)  # fmt: skip
_INSERT = insert(_ENTRIES).values({name: bindparam(name) for name in _COLUMNS})
_READ = select(literal(7).label("seven"), _ENTRIES.c.seq, _ENTRIES.c.details, _ENTRIES.c.created_at).where(
    _ENTRIES.c.id == bindparam("id")
)
_CLAIM = text(
    "INSERT INTO audit_chain_heads (chain, last_seq, last_hash) VALUES (:chain, 1, :genesis) "
    "ON CONFLICT (chain) DO UPDATE SET last_seq = audit_chain_heads.last_seq + 1 "
    "RETURNING last_seq, last_hash"
)


def _entry(entry_id: str, created_at: datetime) -> dict[str, object]:
    return {
        "id": entry_id,
        "chain": f"test-core:{uuid.uuid4().hex}",
        "seq": 3,
        "actor_type": "system",
        "actor_id": "test",
        "subject_id": None,
        "action": "test.written",
        "purpose": "a test",
        "legal_basis": "a test",
        "details": {"nested": {"n": 1}, "text": "中文"},
        "created_at": created_at,
        "prev_hash": "0" * 64,
        "entry_hash": "1" * 64,
    }


def test_values_go_through_the_column_types_both_ways(db: Session) -> None:
    # Given an entry written with a non-UTC aware datetime and a JSON document
    entry_id = new_id("aud")
    written_at = datetime(2026, 11, 27, 12, 30, 15, 123456, tzinfo=UTC)
    local = written_at.astimezone(timezone(timedelta(hours=8)))  # Beijing time
    execute_core(db, _INSERT, _entry(entry_id, local))

    # When it is read back with a literal column beside the table's
    row = execute_core(db, _READ, {"id": entry_id}).one()

    # Then the values are typed as the columns say, by position and by name
    assert tuple(row) == (7, 3, {"nested": {"n": 1}, "text": "中文"}, written_at)
    assert row.created_at.tzinfo is UTC
    assert row.seven == 7 and row.seq == 3


def test_a_naive_datetime_is_refused_as_on_the_normal_path(db: Session) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        execute_core(db, _INSERT, _entry(new_id("aud"), datetime(2026, 11, 27)))


def test_text_statements_return_rows_and_missing_rows_are_none(db: Session) -> None:
    chain = f"test-core:{uuid.uuid4().hex}"
    first = execute_core(db, _CLAIM, {"chain": chain, "genesis": "g" * 64}).one()
    second = execute_core(db, _CLAIM, {"chain": chain, "genesis": "g" * 64}).one()
    assert (tuple(first), tuple(second)) == ((1, "g" * 64), (2, "g" * 64))
    assert second.last_seq == 2
    assert execute_core(db, _READ, {"id": "aud_missing"}).first() is None
    assert execute_core(db, _READ, {"id": "aud_missing"}).scalar() is None


def test_database_errors_are_wrapped_and_the_transaction_stays_usable_after_a_savepoint(db: Session) -> None:
    # Given a written entry
    entry_id = new_id("aud")
    execute_core(db, _INSERT, _entry(entry_id, datetime.now(UTC)))

    # When the same id is written again, inside a savepoint
    with pytest.raises(IntegrityError), db.begin_nested():
        execute_core(db, _INSERT, _entry(entry_id, datetime.now(UTC)))

    # Then the error is SQLAlchemy's, and the first entry is still there, once
    assert execute_core(db, _READ, {"id": entry_id}).one().seq == 3
