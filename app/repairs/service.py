"""Credit repair (信用修复): after the minimum publicity period of a 失信 record, its subject applies with
proof of correction and a signed credit commitment; a reviewer decides within 3 working days.

Approval ends the record's publicity and scoring (status ``repaired``) and rescores the subject in the same
transaction. A record that reaches its maximum publicity leaves by itself (``xinyi records expire``, the
worker's ``records.expire`` job); a pending application on it then lapses. Repair is free: nothing in this
flow asks for, records or mentions a fee.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session, col, select

from app.audit import service as audit_service
from app.core.clock import business_date, utcnow
from app.core.config import Settings
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.pagination import PageParams, fetch_page
from app.core.principal import Principal
from app.enterprises import service as enterprises_service
from app.evidence import service as evidence_service
from app.evidence.models import EvidenceFile
from app.records import service as records_service
from app.records.catalog import RecordStatus
from app.records.models import CreditRecord
from app.repairs import commitment as commitments
from app.repairs.models import RepairApplication, RepairStatus
from app.repairs.workdays import add_working_days
from app.scoring import service as scoring_service
from app.subjects.models import Subject

DECISION_WORKING_DAYS = 3
LEGAL_BASIS = "credit repair of public credit information (信用修复)"
_ID = cast(InstrumentedAttribute[str], RepairApplication.id)


def _own_record(session: Session, actor: Principal, record_id: str) -> CreditRecord:
    try:
        record = records_service.get_record(session, record_id)
    except NotFound:
        record = None
    if record is None or not enterprises_service.acts_for(session, actor, record.subject_id):
        raise NotFound("No record with this id among yours.", code="record_not_found", param="record_id")
    return record


def decision_due_on(settings: Settings, received_at: datetime) -> date:
    return add_working_days(
        business_date(received_at),
        DECISION_WORKING_DAYS,
        frozenset(settings.public_holidays),
        frozenset(settings.makeup_workdays),
    )


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
    record = _own_record(session, actor, record_id)
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
    pending = session.exec(
        select(RepairApplication).where(RepairApplication.pending_record_id == record.id)
    ).first()
    if pending is not None:
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
    current = commitments.current()
    if not accepted:
        raise InvalidInput(
            "commitment.accepted: the credit commitment must be signed.",
            code="commitment_not_accepted",
            param="commitment.accepted",
        )
    if commitment_version != current.version:
        raise InvalidInput(
            f"commitment.version: sign the current text ({current.version}, GET /v1/repairs/commitment).",
            code="commitment_version_outdated",
            param="commitment.version",
            extra={"current_version": current.version},
        )
    subject = session.get(Subject, record.subject_id)
    name = signed_name.strip()
    if subject is not None and subject.name and name != subject.name.strip():
        raise InvalidInput(
            "commitment.signed_name: sign with the subject's registered name.",
            code="commitment_name_mismatch",
            param="commitment.signed_name",
        )
    if not evidence_ids:
        raise InvalidInput(
            "evidence_ids: attach proof that the conduct was corrected.",
            code="proof_required",
            param="evidence_ids",
        )
    files = evidence_service.take_for_case(
        session, actor, evidence_ids, "repair", settings.evidence_max_files, "evidence_ids"
    )
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
        commitment_signed_name=name,
        commitment_signed_at=now,
        received_at=now,
        decision_due_on=decision_due_on(settings, now),
    )
    session.add(application)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            "A repair application for this record was filed at the same moment.",
            code="repair_already_pending",
            param="record_id",
        ) from None
    evidence_service.attach(session, files, application.id, record.subject_id)
    audit_service.record(
        session,
        actor=actor,
        subject_id=record.subject_id,
        action="repair.applied",
        purpose="credit repair application by the subject",
        legal_basis=LEGAL_BASIS,
        details={
            "repair_id": application.id,
            "record_id": record.id,
            "commitment_version": current.version,
            "evidence_files": len(files),
        },
    )
    return application


@dataclass
class Decided:
    application: RepairApplication
    record: CreditRecord
    score_before: int
    level_before: str
    score_after: int
    level_after: str


def decide(
    session: Session, actor: Principal, repair_id: str, *, decision: str, reasons: str | None, today: date
) -> Decided:
    application = get(session, repair_id)
    if application.status != RepairStatus.pending:
        raise Conflict(
            f"This application was already decided ({application.status}).",
            code="repair_already_decided",
            param="repair_id",
        )
    if decision == RepairStatus.rejected and not (reasons or "").strip():
        raise InvalidInput(
            "reasons: a rejection gives its reasons.", code="reasons_required", param="reasons"
        )
    before = scoring_service.current_score(session, application.subject_id).result
    record = records_service.get_record(session, application.record_id)
    if record.status not in (RecordStatus.active, RecordStatus.disputed):
        status = RepairStatus.lapsed  # it left publicity by itself meanwhile: nothing is left to decide
    elif decision == RepairStatus.approved:
        record = records_service.set_record_status(
            session,
            actor,
            record.id,
            RecordStatus.repaired,
            purpose="credit repair approved",
            legal_basis=LEGAL_BASIS,
            today=today,
        )
        status = RepairStatus.approved
    else:
        status = RepairStatus.rejected
    now = utcnow()
    application.status = status
    application.decided_at = now
    application.decided_by = actor.id
    application.decision_reasons = (reasons or "").strip() or None
    application.pending_record_id = None
    session.add(application)
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        subject_id=application.subject_id,
        action="repair.decided",
        purpose=f"credit repair decision ({status})",
        legal_basis=LEGAL_BASIS,
        details={
            "repair_id": application.id,
            "record_id": application.record_id,
            "decision": str(status),
            "within_deadline": business_date(now) <= application.decision_due_on,
        },
    )
    after = scoring_service.current_score(session, application.subject_id).result
    return Decided(application, record, before.score, before.level, after.score, after.level)


# --- reading ------------------------------------------------------------------------------------------


def get(session: Session, repair_id: str) -> RepairApplication:
    application = session.get(RepairApplication, repair_id)
    if application is None:
        raise NotFound("No repair application with this id.", code="repair_not_found", param="repair_id")
    return application


def get_for_user(session: Session, actor: Principal, repair_id: str) -> RepairApplication:
    application = session.get(RepairApplication, repair_id)
    if application is None or not enterprises_service.acts_for(session, actor, application.subject_id):
        raise NotFound("No repair application with this id among yours.", code="repair_not_found")
    return application


def list_for_subjects(
    session: Session, subject_ids: list[str], params: PageParams
) -> tuple[list[RepairApplication], bool]:
    statement = select(RepairApplication).where(col(RepairApplication.subject_id).in_(subject_ids))
    return fetch_page(session, statement, _ID, params)


def list_for_subject(session: Session, subject_id: str) -> list[RepairApplication]:
    statement = (
        select(RepairApplication)
        .where(RepairApplication.subject_id == subject_id)
        .order_by(col(RepairApplication.id).desc())
    )
    return list(session.exec(statement).all())


def list_for_review(
    session: Session,
    reviewer: Principal,
    params: PageParams,
    *,
    status: str | None,
    overdue: bool,
    today: date | None = None,
) -> tuple[list[RepairApplication], bool]:
    statement = select(RepairApplication)
    if status is not None:
        statement = statement.where(RepairApplication.status == status)
    if overdue:
        statement = statement.where(
            RepairApplication.status == RepairStatus.pending,
            col(RepairApplication.decision_due_on) < (today or business_date()),
        )
    rows, has_more = fetch_page(session, statement, _ID, params)
    audit_service.record(
        session,
        actor=reviewer,
        subject_id=None,
        action="repairs.listed",
        purpose="review of credit repair applications",
        legal_basis="platform supervision by authorised staff",
        details={"status": status, "overdue": overdue, "returned": len(rows)},
    )
    return rows, has_more


def read_for_review(session: Session, reviewer: Principal, repair_id: str) -> RepairApplication:
    application = get(session, repair_id)
    audit_service.record(
        session,
        actor=reviewer,
        subject_id=application.subject_id,
        action="repair.read",
        purpose="review of a credit repair application",
        legal_basis=LEGAL_BASIS,
        details={"repair_id": application.id, "record_id": application.record_id},
    )
    return application


def evidence_of(session: Session, rows: list[RepairApplication]) -> dict[str, list[EvidenceFile]]:
    return evidence_service.for_cases(session, [row.id for row in rows])


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
    lapsed = escalated = 0
    worker = Principal(type="system", id="worker")
    for application in rows:
        record = records_service.get_record(session, application.record_id)
        if record.status not in (RecordStatus.active, RecordStatus.disputed):
            application.status = RepairStatus.lapsed
            application.decided_at = now
            application.pending_record_id = None
            session.add(application)
            lapsed += 1
            audit_service.record(
                session,
                actor=worker,
                subject_id=application.subject_id,
                action="repair.lapsed",
                purpose="the record left publicity at the end of its maximum period",
                legal_basis=LEGAL_BASIS,
                details={"repair_id": application.id, "record_id": application.record_id},
            )
        elif application.decision_due_on < today and application.escalated_at is None:
            application.escalated_at = now
            session.add(application)
            escalated += 1
            audit_service.record(
                session,
                actor=worker,
                subject_id=application.subject_id,
                action="repair.escalated",
                purpose="credit repair not decided within 3 working days",
                legal_basis=LEGAL_BASIS,
                details={
                    "repair_id": application.id,
                    "decision_due_on": application.decision_due_on.isoformat(),
                },
            )
    session.flush()
    return SweepOutcome(len(rows), lapsed, escalated, rows[-1].id if rows else None)


# --- retention ----------------------------------------------------------------------------------------


def delete_for_records(session: Session, record_ids: list[str]) -> list[str]:
    """Delete the repair applications of these records; returns their ids (the caller removes their
    evidence). Used only when the records themselves are deleted."""
    if not record_ids:
        return []
    ids = list(
        session.exec(
            select(RepairApplication.id).where(col(RepairApplication.record_id).in_(record_ids))
        ).all()
    )
    if ids:
        session.execute(delete(RepairApplication).where(col(RepairApplication.id).in_(ids)))
    return ids
