"""Credit repair (信用修复): after the minimum publicity period of a 失信 record, its subject applies with
proof of correction and a signed credit commitment; a reviewer decides within 3 working days.

Approval ends the record's publicity and scoring (status ``repaired``) and rescores the subject in the same
transaction. A record that reaches its maximum publicity leaves by itself (``xinyi records expire``, the
worker's ``records.expire`` job); a pending application on it then lapses. Repair is free: nothing in this
flow asks for, records or mentions a fee. The review steps are the shared ones of ``app.cases``; this
module keeps a repair's own: who may apply when, the signed commitment, and what approval does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from app.cases import deadlines
from app.cases import service as cases
from app.cases.deadlines import decision_due_on
from app.cases.service import CaseKind, Decided
from app.core.clock import business_date, utcnow
from app.core.config import Settings
from app.core.errors import Conflict, InvalidInput
from app.core.principal import Principal
from app.records import service as records_service
from app.records.catalog import RecordStatus
from app.records.models import CreditRecord
from app.repairs import commitment as commitments
from app.repairs.models import RepairApplication, RepairStatus
from app.subjects.models import Subject

LEGAL_BASIS = "credit repair of public credit information (信用修复)"
KIND = CaseKind(
    model=RepairApplication,
    name="repair",
    label="repair application",
    open_status=RepairStatus.pending,
    closed_verb="decided",
    opened_elsewhere="A repair application for this record",
    legal_basis=LEGAL_BASIS,
    queue_purpose="review of credit repair applications",
    read_purpose="review of a credit repair application",
    due_field="decision_due_on",
    overdue_rule=lambda due_on, now: deadlines.decision_overdue(due_on, business_date(now)),
)


def _check_repairable(session: Session, record: CreditRecord, today: date) -> None:
    if record.severity is None or record.publicity_min_ends_on is None:
        raise Conflict(
            "Only a 失信 record can be repaired; this record is not one.",
            code="record_not_repairable",
            param="record_id",
        )
    if record.status == RecordStatus.disputed:
        raise Conflict(
            "An objection to this record is open; it is answered before a repair can be asked.",
            code="objection_open",
            param="record_id",
        )
    if record.status != RecordStatus.active:
        raise Conflict(
            f"A {record.status} record is no longer in publicity: there is nothing to repair.",
            code="record_not_repairable",
            param="record_id",
        )
    if cases.open_on(session, KIND, record.id) is not None:
        raise Conflict(
            "A repair application for this record is already waiting for its decision.",
            code="repair_already_pending",
            param="record_id",
        )
    earliest = record.publicity_min_ends_on
    if today < earliest:
        raise Conflict(
            f"Credit repair of this record may be asked from {earliest.isoformat()} "
            "(the end of its minimum publicity period).",
            code="repair_too_early",
            param="record_id",
            extra={"earliest_date": earliest.isoformat()},
        )


def _check_commitment(
    session: Session, record: CreditRecord, version: str, signed_name: str, accepted: bool
) -> commitments.Commitment:
    current = commitments.current()
    if not accepted:
        raise InvalidInput(
            "commitment.accepted: the credit commitment must be signed.",
            code="commitment_not_accepted",
            param="commitment.accepted",
        )
    if version != current.version:
        raise InvalidInput(
            f"commitment.version: sign the current text ({current.version}, GET /v1/repairs/commitment).",
            code="commitment_version_outdated",
            param="commitment.version",
            extra={"current_version": current.version},
        )
    subject = session.get(Subject, record.subject_id)
    if subject is not None and subject.name and signed_name.strip() != subject.name.strip():
        raise InvalidInput(
            "commitment.signed_name: sign with the subject's registered name.",
            code="commitment_name_mismatch",
            param="commitment.signed_name",
        )
    return current


def apply(
    session: Session,
    settings: Settings,
    actor: Principal,
    *,
    record_id: str,
    correction_statement: str,
    evidence_ids: list[str],
    commitment_version: str,
    signed_name: str,
    accepted: bool,
    today: date,
) -> RepairApplication:
    """Every check runs before anything is written: a refused application changes nothing."""
    record = cases.own_record(session, actor, record_id)
    _check_repairable(session, record, today)
    current = _check_commitment(session, record, commitment_version, signed_name, accepted)
    if not evidence_ids:
        raise InvalidInput(
            "evidence_ids: attach proof that the conduct was corrected.",
            code="proof_required",
            param="evidence_ids",
        )
    files = cases.take_evidence(session, settings, actor, KIND, evidence_ids)
    now = utcnow()
    application = RepairApplication(
        subject_id=record.subject_id,
        record_id=record.id,
        pending_record_id=record.id,
        applied_by=actor.id,
        correction_statement=correction_statement.strip(),
        commitment_version=current.version,
        commitment_text=current.text,
        commitment_sha256=current.sha256,
        commitment_signed_name=signed_name.strip(),
        commitment_signed_at=now,
        received_at=now,
        decision_due_on=decision_due_on(settings, now),
    )
    cases.insert(session, KIND, application)
    cases.opened(
        session, KIND, actor, application, files, action="repair.applied",
        purpose="credit repair application by the subject", details={"commitment_version": current.version},
    )  # fmt: skip
    return application


def _in_publicity(record: CreditRecord) -> bool:
    return record.status in (RecordStatus.active, RecordStatus.disputed)


def decide(
    session: Session, actor: Principal, repair_id: str, *, decision: str, reasons: str | None, today: date
) -> Decided[RepairApplication]:
    application = cases.get_open(session, KIND, repair_id)
    if decision == RepairStatus.rejected and not (reasons or "").strip():
        raise InvalidInput(
            "reasons: a rejection gives its reasons.", code="reasons_required", param="reasons"
        )
    before = cases.score_now(session, application.subject_id)
    record = records_service.get_record(session, application.record_id)
    if not _in_publicity(record):
        status = RepairStatus.lapsed  # it left publicity by itself meanwhile: nothing is left to decide
    elif decision == RepairStatus.approved:
        record = records_service.set_record_status(
            session,
            actor,
            record.id,
            RecordStatus.repaired,
            grounds=KIND.grounds("credit repair approved"),
            today=today,
        )
        status = RepairStatus.approved
    else:
        status = RepairStatus.rejected
    application.status = status
    application.decision_reasons = (reasons or "").strip() or None
    late = deadlines.decision_overdue(application.decision_due_on, business_date())
    return cases.close(
        session, KIND, actor, application, record, before, purpose=f"credit repair decision ({status})",
        details={"decision": str(status), "within_deadline": not late},
    )  # fmt: skip


# --- reading ------------------------------------------------------------------------------------------


def get(session: Session, repair_id: str) -> RepairApplication:
    return cases.get(session, KIND, repair_id)


def list_for_subject(session: Session, subject_id: str) -> list[RepairApplication]:
    return cases.list_for_subject(session, KIND, subject_id)


# --- deadline -----------------------------------------------------------------------------------------


@dataclass
class SweepOutcome:
    seen: int = 0
    lapsed: int = 0
    escalated: int = 0
    last_id: str | None = None


def sweep_pending(
    session: Session, today: date, now: datetime, *, after: str | None = None, limit: int = 500
) -> SweepOutcome:
    """Pending applications after ``after`` in id order: those whose record left publicity by itself
    lapse; those past their 3 working days are escalated once (an entry in the subject's log)."""
    statement = select(RepairApplication).where(RepairApplication.status == RepairStatus.pending)
    if after is not None:
        statement = statement.where(col(RepairApplication.id) > after)
    rows = session.exec(
        statement.order_by(col(RepairApplication.id)).limit(limit).with_for_update(skip_locked=True)
    ).all()
    outcome = SweepOutcome(seen=len(rows), last_id=rows[-1].id if rows else None)
    for application in rows:
        if not _in_publicity(records_service.get_record(session, application.record_id)):
            application.status = RepairStatus.lapsed
            application.close(None, now)
            session.add(application)
            outcome.lapsed += 1
            cases.audit(
                session, KIND, cases.WORKER, application, "repair.lapsed",
                "the record left publicity at the end of its maximum period",
            )  # fmt: skip
        elif (
            deadlines.decision_overdue(application.decision_due_on, today)
            and application.escalated_at is None
        ):
            outcome.escalated += 1
            cases.escalate(
                session, KIND, application, now, "credit repair not decided within 3 working days",
                decision_due_on=application.decision_due_on.isoformat(),
            )  # fmt: skip
    session.flush()
    return outcome


# --- retention ----------------------------------------------------------------------------------------


def delete_for_records(session: Session, record_ids: list[str]) -> list[str]:
    """Delete the repair applications of these records; returns their ids (the caller removes their
    evidence). Used only when the records themselves are deleted."""
    ids = cases.ids_for_records(session, KIND, record_ids)
    cases.delete_cases(session, KIND, ids)
    return ids
