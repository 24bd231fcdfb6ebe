"""Retention: a negative (失信) record is deleted — the row, not a status — when its retention ends
(:mod:`app.retention.rules`), whatever its status and whether or not its subject still has an account.

In one transaction per batch: the objections and repair applications about the record and their evidence
rows go with it (their text describes the record), score-history reason codes that only it explains are
dropped, the subject is rescored, and one audit entry per record says that it was deleted and why, with
its id only. Audit entries are never touched (they are append-only and hash-chained, so ``xinyi audit
verify`` still passes); they never held a record's content in the first place, only ids, codes and field
names. The evidence files are unlinked after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from app.core.principal import Principal
from app.evidence import service as evidence_service
from app.objections import service as objections_service
from app.records import deletion as records_deletion
from app.repairs import service as repairs_service
from app.retention import rules
from app.scoring import inputs as scoring_inputs
from app.scoring import service as scoring_service

ACTOR = Principal(type="system", id="retention")


@dataclass
class RetentionOutcome:
    records: int = 0
    objections: int = 0
    repairs: int = 0
    rescored: int = 0
    storage_names: list[str] = field(default_factory=list)  # evidence files to unlink after the commit


def delete_due(session: Session, today: date, limit: int = 500) -> RetentionOutcome:
    """Delete up to ``limit`` records past their retention end. Run until it deletes fewer than
    ``limit``; running it again changes nothing."""
    due = records_deletion.due_for_deletion(session, today, limit=limit)
    outcome = RetentionOutcome()
    if not due:
        return outcome
    subjects = sorted({item.subject_id for item in due})
    scoring_inputs.lock_subjects(session, subjects)
    for item in due:
        objection_ids = objections_service.delete_for_records(session, [item.record_id])
        repair_ids = repairs_service.delete_for_records(session, [item.record_id])
        outcome.storage_names += evidence_service.delete_for_cases(session, objection_ids + repair_ids)
        outcome.objections += len(objection_ids)
        outcome.repairs += len(repair_ids)
        details = {
            "record_id": item.record_id,
            "objections_deleted": len(objection_ids),
            "repairs_deleted": len(repair_ids),
        }
        rules.GROUNDS.record(session, ACTOR, "record.deleted", details, subject_id=item.subject_id)
    records_deletion.delete_records(session, [item.record_id for item in due])
    session.flush()
    for subject_id in subjects:
        gone = {item.factor_key for item in due if item.subject_id == subject_id}
        scoring_service.forget_reason_codes(
            session, subject_id, gone - records_deletion.factor_keys_of(session, subject_id)
        )
    outcome.records = len(due)
    outcome.rescored = scoring_inputs.recompute_subjects(session, subjects, trigger="retention", today=today)
    return outcome
