"""Platform-behaviour records (信易租 returns and defaults, 信易贷 repayments): written by the platform
itself through the same path as a department's batch (validation, landing, audit, rescore), so the
subject's score changes in the caller's transaction and the record reads like any other.

The source is the platform (``PLATFORM_SOURCE``) and the source record id is the caller's own stable id
(``rnt_….returned``): writing the same record again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from app.core.clock import business_date
from app.core.principal import Principal
from app.core.security import Crypto
from app.records import service
from app.records.models import CreditRecord
from app.records.validation import RowValidator

PLATFORM_SOURCE = "xinyi-platform"


@dataclass(frozen=True)
class PlatformRecord:
    source_record_id: str
    subject_id: str
    category: str  # platform_rental | platform_loan
    outcome: str
    title: str
    severity: str | None = None  # for the 失信 outcomes (defaulted, overdue)
    legal_basis: str | None = None
    decision_date: date | None = None  # default: today (China time)
    # Who reported it: the platform itself, or e.g. ``xinyidai:<bank id>`` for a bank's repayment report.
    source: str = PLATFORM_SOURCE


class PlatformRecordRefused(RuntimeError):
    """The platform's own record did not validate: a programming error, not a caller's mistake."""


def write(
    session: Session, crypto: Crypto, actor: Principal, record: PlatformRecord, today: date | None = None
) -> CreditRecord:
    """Land ``record`` and rescore its subject in the caller's transaction; returns the stored record."""
    today = today or business_date()
    row = {
        "source_record_id": record.source_record_id,
        "category": record.category,
        "subject_id": record.subject_id,
        "outcome": record.outcome,
        "severity": record.severity,
        "decision_date": (record.decision_date or today).isoformat(),
        "title": record.title,
        "legal_basis": record.legal_basis,
    }
    batch = service.start_batch(session, source=record.source, channel="platform", actor=actor)
    outcome = service.ingest_chunk(
        session, crypto, batch, actor, [(1, row)], validator=RowValidator(today), seen=set()
    )
    if outcome.errors:
        raise PlatformRecordRefused(
            f"{record.source_record_id}: {[(e.field, e.code) for e in outcome.errors]}"
        )
    service.finish_batch(session, batch, actor)
    stored = session.exec(
        select(CreditRecord)
        .where(CreditRecord.source == record.source, CreditRecord.source_record_id == record.source_record_id)
        .execution_options(populate_existing=True)
    ).one()
    return stored
