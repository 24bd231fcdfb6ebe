"""Platform-behaviour records (信易租 returns and defaults, 信易贷 repayments): written by the platform
itself about a subject it already knows, one at a time, with the rescore in the same transaction.

Departments' records arrive in batches (``app.records.ingest``); these arrive from the platform's own flows
(a bank's repayment report, a rental's return), so they are checked against the same catalogue and land in
the same table, keyed by (source, source_record_id) so that a retried report adds nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, select

from app.audit import service as audit_service
from app.core.clock import utcnow
from app.core.principal import Principal
from app.records import scoring_inputs
from app.records.catalogue import CATEGORIES, RecordStatus, Severity, window
from app.records.ingest import RECORD_CONTENT, content_hash
from app.records.models import CreditRecord
from app.scoring.engine import business_date


def add_platform_record(
    session: Session,
    actor: Principal,
    *,
    subject_id: str,
    category: str,
    outcome: str,
    severity: Severity | None,
    decision_date: date,
    source: str,
    source_record_id: str,
    title: str,
    legal_basis: str,
    purpose: str,
    today: date | None = None,
) -> CreditRecord:
    """Add one platform-behaviour record and rescore its subject. Sending the same (source,
    source_record_id) again returns the record already there."""
    kind = CATEGORIES[category]
    if kind.creates_subject or outcome not in kind.outcomes:
        raise ValueError(f"{category}.{outcome} is not a platform-behaviour record")
    if kind.outcomes[outcome] != (severity is not None):
        raise ValueError(f"{category}.{outcome}: a severity is needed exactly for 失信 outcomes")
    existing = session.exec(
        select(CreditRecord).where(
            CreditRecord.source == source, CreditRecord.source_record_id == source_record_id
        )
    ).first()
    if existing is not None:
        return existing
    today = today or business_date()
    span = window(kind, decision_date, decision_date, severity.value if severity else None)
    values: dict[str, Any] = {
        "subject_id": subject_id,
        "category": category,
        "severity": severity.value if severity else None,
        "outcome": outcome,
        "grade": None,
        "title": title,
        "legal_basis": legal_basis,
        "decision_date": decision_date,
        "conduct_end_date": decision_date,
    }
    status = (
        RecordStatus.expired
        if span.counts_until is not None and span.counts_until <= today
        else RecordStatus.active
    )
    now = utcnow()
    record = CreditRecord(
        **values,
        publicity_starts_on=span.publicity_starts_on,
        publicity_min_ends_on=span.publicity_min_ends_on,
        publicity_ends_on=span.publicity_ends_on,
        counts_until=span.counts_until,
        status=status,
        source=source,
        source_record_id=source_record_id,
        content_hash=content_hash(values, RECORD_CONTENT),
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        subject_id=subject_id,
        action="record.added",
        purpose=purpose,
        legal_basis=legal_basis,
        details={"id": record.id, "source": source, "category": category, "outcome": outcome},
    )
    scoring_inputs.recompute_subjects(session, [subject_id], trigger="platform_behaviour", today=today)
    return record
