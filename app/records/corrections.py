"""Correcting a record by decision of the platform: an upheld objection (异议) whose answer is "the record
is wrong in these fields". The corrected values go through the same row validation as an ingested row and
the publicity window is recomputed from them; the subject is rescored and the change audited (field
names only, never values) in the caller's transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from app.audit.service import Grounds
from app.core.errors import Conflict, InvalidInput
from app.core.principal import Principal
from app.records.catalog import RecordStatus, window
from app.records.ingest import RECORD_CONTENT, content_hash
from app.records.models import CreditRecord
from app.records.service import get_record, save_change
from app.records.validation import RowValidator, ValidRow

# What a reviewer may correct. The category and the subject are not corrections: a record about the wrong
# person or of the wrong kind is withdrawn, and the source sends the right one.
CORRECTABLE = ("severity", "outcome", "grade", "title", "legal_basis", "decision_date", "conduct_end_date")


def correct_record(
    session: Session,
    actor: Principal,
    record_id: str,
    changes: dict[str, Any],
    *,
    grounds: Grounds,
    today: date,
    param: str = "corrections",
) -> tuple[CreditRecord, list[str]]:
    """Apply ``changes`` (field -> new value, ``None`` clears a field) to a disputed record and make it
    count again with its corrected content. Returns the record and the names of the fields that changed."""
    unknown = sorted(set(changes) - set(CORRECTABLE))
    if unknown:
        raise InvalidInput(
            f"{param}: only {', '.join(CORRECTABLE)} can be corrected.",
            code="field_not_correctable",
            param=f"{param}.{unknown[0]}",
        )
    record = get_record(session, record_id)
    if record.status != RecordStatus.disputed:
        raise Conflict(
            f"Only a disputed record can be corrected; this one is {record.status}.",
            code="invalid_status_change",
            param="record_id",
        )
    row: dict[str, Any] = {
        "source_record_id": record.source_record_id,
        "category": record.category,
        "subject_id": record.subject_id,
        "severity": record.severity,
        "outcome": record.outcome,
        "grade": record.grade,
        "title": record.title,
        "legal_basis": record.legal_basis,
        "decision_date": record.decision_date.isoformat(),
        "conduct_end_date": record.conduct_end_date.isoformat() if record.conduct_end_date else None,
    }
    for name, value in changes.items():
        row[name] = value.isoformat() if isinstance(value, date) else value
    checked = RowValidator(today).validate(1, row)
    if not isinstance(checked, ValidRow):
        first = checked[0]
        raise InvalidInput(
            f"{param}.{first.field}: {first.message}", code=first.code, param=f"{param}.{first.field}"
        )
    assert checked.decision_date is not None
    span = window(checked.category, checked.decision_date, checked.conduct_end_date, checked.severity)
    new_values: dict[str, Any] = {
        "subject_id": record.subject_id,
        "category": record.category,
        "severity": checked.severity,
        "outcome": checked.outcome,
        "grade": checked.grade,
        "title": checked.title,
        "legal_basis": checked.legal_basis,
        "decision_date": checked.decision_date,
        "conduct_end_date": checked.conduct_end_date,
    }
    fields = sorted(name for name in CORRECTABLE if getattr(record, name) != new_values[name])
    if not fields:
        raise InvalidInput(
            f"{param}: the corrections change nothing; reject the objection or withdraw the record instead.",
            code="correction_changes_nothing",
            param=param,
        )
    for name in CORRECTABLE:
        setattr(record, name, new_values[name])
    record.publicity_starts_on = span.publicity_starts_on
    record.publicity_min_ends_on = span.publicity_min_ends_on
    record.publicity_ends_on = span.publicity_ends_on
    record.counts_until = span.counts_until
    record.content_hash = content_hash(new_values, RECORD_CONTENT)
    ended = span.counts_until is not None and span.counts_until <= today
    record.status = RecordStatus.expired if ended else RecordStatus.active
    save_change(
        session,
        actor,
        record,
        "record.corrected",
        {"id": record.id, "fields": fields, "status": str(record.status)},
        grounds=grounds,
        trigger="record_corrected",
        today=today,
    )
    return record, fields
