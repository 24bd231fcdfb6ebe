"""Audit entries are written as their transaction commits: in the order recorded, and never for work
that was rolled back (the whole transaction, or the savepoint the entry was recorded in)."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session, col, select

from app.audit import service
from app.audit.models import AuditEntry
from app.audit.verify import verify
from tests.audit.helpers import new_subject_id, record_scan


def _stored(session: Session, subject_id: str) -> list[tuple[int, str, str]]:
    rows = session.exec(
        select(AuditEntry)
        .where(AuditEntry.chain == service.chain_for(subject_id))
        .order_by(col(AuditEntry.seq))
    )
    return [(row.seq, row.id, row.details["verification_id"]) for row in rows]


def _head(session: Session, subject_id: str) -> tuple[int, str] | None:
    row = session.execute(
        text("SELECT last_seq, last_hash FROM audit_chain_heads WHERE chain = :chain"),
        {"chain": service.chain_for(subject_id)},
    ).first()
    return None if row is None else (row[0], row[1])


def test_entries_are_written_at_commit_in_the_order_recorded(db: Session) -> None:
    subject = new_subject_id()
    refs = [record_scan(db, subject, n) for n in range(3)]

    # nothing is written (nor is the chain's head claimed) before the commit
    assert _stored(db, subject) == []
    assert _head(db, subject) is None

    db.commit()

    assert _stored(db, subject) == [
        (1, refs[0].id, "ver_0"),
        (2, refs[1].id, "ver_1"),
        (3, refs[2].id, "ver_2"),
    ]
    assert verify(db, chain=service.chain_for(subject)).ok


def test_a_rolled_back_transaction_writes_no_entry_then_or_later(db: Session) -> None:
    subject = new_subject_id()
    record_scan(db, subject, 0)

    db.rollback()
    db.commit()  # the next transaction of the same session has nothing left over to write

    assert _stored(db, subject) == []
    assert _head(db, subject) is None


def test_a_rolled_back_savepoint_takes_back_its_entries_and_keeps_the_earlier_ones(db: Session) -> None:
    subject = new_subject_id()
    kept = record_scan(db, subject, 0)
    savepoint = db.begin_nested()
    record_scan(db, subject, 1)
    record_scan(db, subject, 2)
    savepoint.rollback()
    after = record_scan(db, subject, 3)

    db.commit()

    assert _stored(db, subject) == [(1, kept.id, "ver_0"), (2, after.id, "ver_3")]


def test_a_released_savepoint_keeps_its_entries_for_the_commit(db: Session) -> None:
    subject = new_subject_id()
    with db.begin_nested():
        inside = record_scan(db, subject, 0)
    assert _stored(db, subject) == []  # a savepoint's release is not the commit

    db.commit()

    assert _stored(db, subject) == [(1, inside.id, "ver_0")]
