"""Negative information is kept at most 5 years from the end of the conduct (DESIGN.md): which 失信
records are past that, and deleting them (rows, not a status). The caller (``app.retention``) removes what
refers to them first and writes the audit entry; see there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Date, delete, literal_column, select, text
from sqlmodel import Session, col

from app.records.catalogue import RETENTION_MONTHS, add_months, factor_key
from app.records.models import RECORD_RETAINED_UNTIL, RECORD_RETAINED_WHERE, CreditRecord


def retention_ends_on(conduct_end_date: date | None, decision_date: date) -> date:
    """The day a 失信 record must be gone: 5 years after its conduct ended (the decision date when the
    source gave no conduct end)."""
    return add_months(conduct_end_date or decision_date, RETENTION_MONTHS)


def latest_deletable_end(today: date) -> date:
    """The latest conduct end whose retention has ended by ``today`` (month-end clamping makes the inverse
    of add_months a few days wide, so step forward to the last one that still qualifies)."""
    end = add_months(today, -RETENTION_MONTHS)
    while add_months(end + timedelta(days=1), RETENTION_MONTHS) <= today:
        end += timedelta(days=1)
    return end


@dataclass(frozen=True)
class Due:
    record_id: str
    subject_id: str
    factor_key: str


def due_for_deletion(session: Session, today: date, *, limit: int) -> list[Due]:
    """失信 records (those with a severity) whatever their status, past their retention end."""
    ended = literal_column(RECORD_RETAINED_UNTIL, Date)  # as in ix_credit_records_retained, which this reads
    rows = session.execute(
        select(
            col(CreditRecord.id),
            col(CreditRecord.subject_id),
            col(CreditRecord.category),
            col(CreditRecord.outcome),
            col(CreditRecord.grade),
            col(CreditRecord.severity),
        )
        .where(text(RECORD_RETAINED_WHERE), ended <= latest_deletable_end(today))
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
