"""Finding the 失信 records whose retention has ended (:mod:`app.retention.rules`) and deleting them
(rows, not a status). The caller (:mod:`app.retention.service`) removes what refers to them first and
writes the audit entry; see there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Date, delete, literal_column, select, text
from sqlmodel import Session, col

from app.records.catalog import factor_key
from app.records.models import CreditRecord
from app.retention import rules as retention_rules


@dataclass(frozen=True)
class Due:
    record_id: str
    subject_id: str
    factor_key: str


def due_for_deletion(session: Session, today: date, *, limit: int) -> list[Due]:
    """失信 records (those with a severity) whatever their status, past their retention end."""
    # As ix_credit_records_retained states them, so that this reads that index.
    ended = literal_column(retention_rules.RETAINED_RECORDS_FROM, Date)
    rows = session.execute(
        select(
            col(CreditRecord.id),
            col(CreditRecord.subject_id),
            col(CreditRecord.category),
            col(CreditRecord.outcome),
            col(CreditRecord.grade),
            col(CreditRecord.severity),
        )
        .where(
            text(retention_rules.RETAINED_RECORDS_WHERE), ended <= retention_rules.latest_deletable_end(today)
        )
        .order_by(ended, col(CreditRecord.id))
        .limit(limit)
    ).all()
    return [
        Due(rid, sid, factor_key(cat, outcome, grade, sev)) for rid, sid, cat, outcome, grade, sev in rows
    ]


def delete_records(session: Session, record_ids: list[str]) -> None:
    if record_ids:
        session.execute(delete(CreditRecord).where(col(CreditRecord.id).in_(record_ids)))


def factor_keys_of(session: Session, subject_id: str) -> set[str]:
    rows = session.execute(
        select(
            col(CreditRecord.category),
            col(CreditRecord.outcome),
            col(CreditRecord.grade),
            col(CreditRecord.severity),
        ).where(col(CreditRecord.subject_id) == subject_id)
    ).all()
    return {factor_key(*row) for row in rows}
