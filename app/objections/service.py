"""Objections (异议): a subject disputes one of its records; the record is disputed at once, the source
department and the operators are told, and an operator answers in writing within 20 days.

- upheld: the record is corrected (``app.records.corrections``) or withdrawn, and the subject is rescored
  in the same transaction;
- rejected: the record counts as before, and the answer gives the reasons.

How a disputed record counts meanwhile is the scoring model's ``disputed_record_weight``. Nothing here is
written to the audit log beyond ids and codes: the reason and the answer are the subject's and the
reviewer's words, kept in this table only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session, col, select

from app.audit import service as audit_service
from app.core.clock import utcnow
from app.core.config import Settings
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.pagination import PageParams, fetch_page
from app.core.principal import Principal
from app.enterprises import service as enterprises_service
from app.evidence import service as evidence_service
from app.evidence.models import EvidenceFile
from app.objections.models import Objection, ObjectionEvent, ObjectionStatus
from app.partners.models import Partner
from app.records import corrections
from app.records import service as records_service
from app.records.catalog import RecordStatus
from app.records.models import CreditRecord
from app.scoring import service as scoring_service
from app.webhooks import service as webhooks_service

ANSWER_WITHIN = timedelta(days=20)
ESCALATE_EVERY = timedelta(days=1)
OPERATORS = "operators"
LEGAL_BASIS = "the subject's right to object (异议权) to public credit information"
_ID = cast(InstrumentedAttribute[str], Objection.id)


def _record_of_subject(session: Session, actor: Principal, record_id: str) -> CreditRecord:
    try:
        record = records_service.get_record(session, record_id)
    except NotFound:
        record = None
    if record is None or not enterprises_service.acts_for(session, actor, record.subject_id):
        # Someone else's record answers like a missing one: ids reveal nothing.
        raise NotFound("No record with this id among yours.", code="record_not_found", param="record_id")
    return record


def _open_for(session: Session, record_id: str) -> Objection | None:
    return session.exec(select(Objection).where(Objection.open_record_id == record_id)).first()


def _source_partner(session: Session, source: str) -> str | None:
    partner = session.get(Partner, source)
    return partner.id if partner is not None and partner.kind == "data_provider" else None


def _events(session: Session, objection: Objection, event_type: str, payload: dict[str, Any]) -> None:
    """The department that sourced the record and the operators hear of it: a row in the objection feed
    (``GET /v1/partner/objection-events``, the operators' list) and, for the department, a signed webhook
    through the outbox, both in this transaction. Ids and codes only, never the reason or evidence."""
    recipients = [OPERATORS]
    partner_id = _source_partner(session, objection.source)
    if partner_id is not None:
        recipients.insert(0, partner_id)
    body = {"objection_id": objection.id, "record_id": objection.record_id, **payload}
    for recipient in recipients:
        session.add(
            ObjectionEvent(objection_id=objection.id, type=event_type, recipient=recipient, payload=body)
        )
    if partner_id is not None:
        webhooks_service.emit(session, partner_id, event_type, body)
    session.flush()


def file(
    session: Session,
    settings: Settings,
    actor: Principal,
    *,
    record_id: str,
    reason: str,
    evidence_ids: list[str],
    today: date,
) -> Objection:
    """File an objection on one's own record (or an administered enterprise's); every check runs before
    anything is written, so a refused objection changes nothing."""
    record = _record_of_subject(session, actor, record_id)
    if record.status == RecordStatus.disputed or _open_for(session, record.id) is not None:
        raise Conflict(
            "An objection to this record is already open; it will be answered before another can be filed.",
            code="objection_already_open",
            param="record_id",
        )
    if record.status != RecordStatus.active:
        raise Conflict(
            f"A {record.status} record no longer counts and cannot be objected to.",
            code="record_not_objectable",
            param="record_id",
        )
    files = evidence_service.take_for_case(
        session, actor, evidence_ids, "objection", settings.evidence_max_files, "evidence_ids"
    )
    now = utcnow()
    objection = Objection(
        subject_id=record.subject_id,
        record_id=record.id,
        open_record_id=record.id,
        source=record.source,
        filed_by=actor.id,
        reason=reason.strip(),
        filed_at=now,
        answer_due_at=now + ANSWER_WITHIN,
    )
    session.add(objection)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            "An objection to this record was filed at the same moment.",
            code="objection_already_open",
            param="record_id",
        ) from None
    records_service.set_record_status(
        session,
        actor,
        record.id,
        RecordStatus.disputed,
        purpose="objection filed by the subject",
        legal_basis=LEGAL_BASIS,
        today=today,
    )
    evidence_service.attach(session, files, objection.id, record.subject_id)
    audit_service.record(
        session,
        actor=actor,
        subject_id=record.subject_id,
        action="objection.filed",
        purpose="objection filed by the subject",
        legal_basis=LEGAL_BASIS,
        details={"objection_id": objection.id, "record_id": record.id, "evidence_files": len(files)},
    )
    _events(session, objection, "objection.filed", {"answer_due_at": objection.answer_due_at.isoformat()})
    return objection


@dataclass
class Answered:
    objection: Objection
    record: CreditRecord
    score_before: int
    level_before: str
    score_after: int
    level_after: str


def answer(
    session: Session,
    actor: Principal,
    objection_id: str,
    *,
    decision: str,
    answer_text: str,
    resolution: str | None,
    changes: dict[str, Any] | None,
    today: date,
) -> Answered:
    objection = get(session, objection_id)
    if objection.status != ObjectionStatus.open:
        raise Conflict(
            f"This objection was already answered ({objection.status}).",
            code="objection_already_answered",
            param="objection_id",
        )
    if decision == ObjectionStatus.upheld:
        if resolution not in ("corrected", "withdrawn"):
            raise InvalidInput(
                "resolution: an upheld objection corrects or withdraws the record.",
                code="resolution_required",
                param="resolution",
            )
        if resolution == "corrected" and not changes:
            raise InvalidInput(
                "corrections: say which fields are corrected, and to what.",
                code="corrections_required",
                param="corrections",
            )
        if resolution == "withdrawn" and changes:
            raise InvalidInput(
                "corrections: a withdrawn record is not corrected.",
                code="corrections_not_applicable",
                param="corrections",
            )
    elif resolution is not None or changes:
        raise InvalidInput(
            "A rejected objection leaves the record as it is: no resolution, no corrections.",
            code="resolution_not_applicable",
            param="resolution",
        )
    before = scoring_service.current_score(session, objection.subject_id).result
    record = records_service.get_record(session, objection.record_id)
    fields: list[str] = []
    purpose = f"answer to objection ({decision})"
    # The record may have left publicity (expiry) or been repaired meanwhile: then the answer is given
    # and stored, and the record stays as it now is.
    if record.status == RecordStatus.disputed:
        if decision == ObjectionStatus.rejected:
            record = records_service.set_record_status(
                session, actor, record.id, RecordStatus.active, purpose=purpose, legal_basis=LEGAL_BASIS,
                today=today,
            )  # fmt: skip
        elif resolution == "withdrawn":
            record = records_service.set_record_status(
                session, actor, record.id, RecordStatus.withdrawn, purpose=purpose, legal_basis=LEGAL_BASIS,
                today=today,
            )  # fmt: skip
        else:
            record, fields = corrections.correct_record(
                session,
                actor,
                record.id,
                changes or {},
                purpose=purpose,
                legal_basis=LEGAL_BASIS,
                today=today,
            )
    objection.status = ObjectionStatus(decision)
    objection.answer = answer_text.strip()
    objection.resolution = resolution
    objection.corrected_fields = fields
    objection.answered_at = utcnow()
    objection.answered_by = actor.id
    objection.open_record_id = None
    session.add(objection)
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        subject_id=objection.subject_id,
        action="objection.answered",
        purpose=purpose,
        legal_basis=LEGAL_BASIS,
        details={
            "objection_id": objection.id,
            "record_id": objection.record_id,
            "decision": decision,
            "resolution": resolution,
            "fields": fields,
        },
    )
    _events(
        session,
        objection,
        "objection.answered",
        {"decision": decision, "resolution": resolution, "fields": fields},
    )
    after = scoring_service.current_score(session, objection.subject_id).result
    return Answered(objection, record, before.score, before.level, after.score, after.level)


# --- reading ------------------------------------------------------------------------------------------


def get(session: Session, objection_id: str) -> Objection:
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise NotFound("No objection with this id.", code="objection_not_found", param="objection_id")
    return objection


def get_for_user(session: Session, actor: Principal, objection_id: str) -> Objection:
    objection = session.get(Objection, objection_id)
    if objection is None or not enterprises_service.acts_for(session, actor, objection.subject_id):
        raise NotFound("No objection with this id among yours.", code="objection_not_found")
    return objection


def list_for_subjects(
    session: Session, subject_ids: list[str], params: PageParams
) -> tuple[list[Objection], bool]:
    statement = select(Objection).where(col(Objection.subject_id).in_(subject_ids))
    return fetch_page(session, statement, _ID, params)


def list_for_subject(session: Session, subject_id: str) -> list[Objection]:
    statement = select(Objection).where(Objection.subject_id == subject_id).order_by(col(Objection.id).desc())
    return list(session.exec(statement).all())


def list_for_review(
    session: Session,
    reviewer: Principal,
    params: PageParams,
    *,
    status: str | None,
    overdue: bool,
    now: datetime | None = None,
) -> tuple[list[Objection], bool]:
    """Operators' queue; ``overdue``: open past their 20 days. The read is recorded on the system chain."""
    statement = select(Objection)
    if status is not None:
        statement = statement.where(Objection.status == status)
    if overdue:
        statement = statement.where(
            Objection.status == ObjectionStatus.open, col(Objection.answer_due_at) <= (now or utcnow())
        )
    rows, has_more = fetch_page(session, statement, _ID, params)
    audit_service.record(
        session,
        actor=reviewer,
        subject_id=None,
        action="objections.listed",
        purpose="review of objections",
        legal_basis="platform supervision by authorised staff",
        details={"status": status, "overdue": overdue, "returned": len(rows)},
    )
    return rows, has_more


def read_for_review(session: Session, reviewer: Principal, objection_id: str) -> Objection:
    objection = get(session, objection_id)
    audit_service.record(
        session,
        actor=reviewer,
        subject_id=objection.subject_id,
        action="objection.read",
        purpose="review of an objection",
        legal_basis=LEGAL_BASIS,
        details={"objection_id": objection.id, "record_id": objection.record_id},
    )
    return objection


def list_for_source(
    session: Session, partner: Principal, params: PageParams, *, status: str | None
) -> tuple[list[Objection], bool]:
    """The objections to a data provider's own records. Each one disclosed is recorded on the subject's
    chain: the department learns of the objection and its reason."""
    statement = select(Objection).where(Objection.source == partner.id)
    if status is not None:
        statement = statement.where(Objection.status == status)
    rows, has_more = fetch_page(session, statement, _ID, params)
    for row in rows:
        audit_service.record(
            session,
            actor=partner,
            subject_id=row.subject_id,
            action="objection.disclosed_to_source",
            purpose="verification of the disputed record by its source department",
            legal_basis=LEGAL_BASIS,
            details={"objection_id": row.id, "record_id": row.record_id},
        )
    return rows, has_more


def evidence_for_source(
    session: Session, partner: Principal, objection_id: str, evidence_id: str
) -> EvidenceFile:
    objection = session.get(Objection, objection_id)
    if objection is None or objection.source != partner.id:
        raise NotFound("No objection with this id to your records.", code="objection_not_found")
    evidence = session.get(EvidenceFile, evidence_id)
    if evidence is None or evidence.attached_to != objection.id:
        raise NotFound("No such file in this objection.", code="evidence_not_found", param="evidence_id")
    evidence_service.disclose(
        session, partner, evidence, purpose="verification of the disputed record by its source department"
    )
    return evidence


def evidence_of(session: Session, objections: Iterable[Objection]) -> dict[str, list[EvidenceFile]]:
    return evidence_service.for_cases(session, [o.id for o in objections])


def events_for(session: Session, recipient: str, params: PageParams) -> tuple[list[ObjectionEvent], bool]:
    statement = select(ObjectionEvent).where(ObjectionEvent.recipient == recipient)
    return fetch_page(session, statement, cast(InstrumentedAttribute[str], ObjectionEvent.id), params)


# --- deadline -----------------------------------------------------------------------------------------


def escalate_overdue(session: Session, now: datetime, limit: int = 500) -> int:
    """Open objections past their 20 days: escalate each (event to operators and the source, entry in
    the subject's log), again every day while it stays unanswered. Returns how many were escalated."""
    due = session.exec(
        select(Objection)
        .where(
            Objection.status == ObjectionStatus.open,
            col(Objection.answer_due_at) <= now,
            (col(Objection.escalated_at).is_(None)) | (col(Objection.escalated_at) <= now - ESCALATE_EVERY),
        )
        .order_by(col(Objection.answer_due_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for objection in due:
        objection.escalated_at = now
        objection.escalations += 1
        session.add(objection)
        overdue_days = (now - objection.answer_due_at).days
        _events(
            session,
            objection,
            "objection.overdue",
            {"answer_due_at": objection.answer_due_at.isoformat(), "escalations": objection.escalations},
        )
        audit_service.record(
            session,
            actor=Principal(type="system", id="worker"),
            subject_id=objection.subject_id,
            action="objection.escalated",
            purpose="objection not answered within 20 days",
            legal_basis=LEGAL_BASIS,
            details={
                "objection_id": objection.id,
                "overdue_days": overdue_days,
                "escalations": objection.escalations,
            },
        )
    return len(due)


# --- retention ----------------------------------------------------------------------------------------


def delete_for_records(session: Session, record_ids: list[str]) -> list[str]:
    """Delete the objections to these records (and their events); returns their ids so that the caller
    removes their evidence too. Used only when the records themselves are deleted."""
    if not record_ids:
        return []
    ids = list(session.exec(select(Objection.id).where(col(Objection.record_id).in_(record_ids))).all())
    if ids:
        session.execute(delete(ObjectionEvent).where(col(ObjectionEvent.objection_id).in_(ids)))
        session.execute(delete(Objection).where(col(Objection.id).in_(ids)))
    return ids
