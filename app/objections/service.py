"""Objections (异议): a subject disputes one of its records; the record is disputed at once, the source
department and the operators are told, and an operator answers in writing within 20 days.

- upheld: the record is corrected (``app.records.corrections``) or withdrawn, and the subject is rescored
  in the same transaction;
- rejected: the record counts as before, and the answer gives the reasons.

The review steps (queue, deadline, audit entries, evidence) are the shared ones of ``app.cases``; this
module keeps what is an objection's own: the record disputed at once, the source department told, and
what an answer does to the record. How a disputed record counts meanwhile is the scoring model's
``disputed_record_weight``. Nothing here is written to the audit log beyond ids and codes: the reason and
the answer are the subject's and the reviewer's words, kept in this table only.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session, col, select

from app.cases import deadlines
from app.cases import service as cases
from app.cases.service import CaseKind, Decided
from app.core.clock import utcnow
from app.core.config import Settings
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.pagination import PageParams, fetch_page
from app.core.principal import Principal
from app.evidence import service as evidence_service
from app.evidence.models import EvidenceFile
from app.objections.models import Objection, ObjectionEvent, ObjectionStatus
from app.partners.models import Partner
from app.records import corrections
from app.records import service as records_service
from app.records.catalog import RecordStatus
from app.webhooks import service as webhooks_service

ESCALATE_EVERY = timedelta(days=1)
OPERATORS = "operators"
LEGAL_BASIS = "the subject's right to object (异议权) to public credit information"
SOURCE_CHECK = "verification of the disputed record by its source department"
KIND = CaseKind(
    model=Objection,
    name="objection",
    label="objection",
    open_status=ObjectionStatus.open,
    closed_verb="answered",
    opened_elsewhere="An objection to this record",
    legal_basis=LEGAL_BASIS,
    queue_purpose="review of objections",
    read_purpose="review of an objection",
    due_field="answer_due_at",
    overdue_rule=deadlines.answer_overdue,
)
Answered = Decided[Objection]


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
    record = cases.own_record(session, actor, record_id)
    if record.status == RecordStatus.disputed or cases.open_on(session, KIND, record.id) is not None:
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
    files = cases.take_evidence(session, settings, actor, KIND, evidence_ids)
    now = utcnow()
    objection = Objection(
        subject_id=record.subject_id,
        record_id=record.id,
        open_record_id=record.id,
        source=record.source,
        filed_by=actor.id,
        reason=reason.strip(),
        filed_at=now,
        answer_due_at=deadlines.answer_due_at(now),
    )
    purpose = "objection filed by the subject"
    cases.insert(session, KIND, objection)
    records_service.set_record_status(
        session, actor, record.id, RecordStatus.disputed, grounds=KIND.grounds(purpose), today=today
    )
    cases.opened(
        session, KIND, actor, objection, files, action="objection.filed", purpose=purpose, details={}
    )
    _events(session, objection, "objection.filed", {"answer_due_at": objection.answer_due_at.isoformat()})
    return objection


def _check_answer(decision: str, resolution: str | None, changes: dict[str, Any] | None) -> None:
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
    objection = cases.get_open(session, KIND, objection_id)
    _check_answer(decision, resolution, changes)
    before = cases.score_now(session, objection.subject_id)
    record = records_service.get_record(session, objection.record_id)
    fields: list[str] = []
    purpose = f"answer to objection ({decision})"
    # The record may have left publicity (expiry) or been repaired meanwhile: then the answer is given
    # and stored, and the record stays as it now is.
    if record.status == RecordStatus.disputed:
        if decision == ObjectionStatus.upheld and resolution == "corrected":
            record, fields = corrections.correct_record(
                session, actor, record.id, changes or {}, grounds=KIND.grounds(purpose), today=today
            )
        else:
            status = RecordStatus.withdrawn if decision == ObjectionStatus.upheld else RecordStatus.active
            record = records_service.set_record_status(
                session, actor, record.id, status, grounds=KIND.grounds(purpose), today=today
            )
    objection.status = ObjectionStatus(decision)
    objection.answer = answer_text.strip()
    objection.resolution = resolution
    objection.corrected_fields = fields
    said = {"decision": decision, "resolution": resolution, "fields": fields}
    outcome = cases.close(session, KIND, actor, objection, record, before, purpose=purpose, details=said)
    _events(session, objection, "objection.answered", said)
    return outcome


# --- reading ------------------------------------------------------------------------------------------


def get(session: Session, objection_id: str) -> Objection:
    return cases.get(session, KIND, objection_id)


def list_for_subject(session: Session, subject_id: str) -> list[Objection]:
    return cases.list_for_subject(session, KIND, subject_id)


def list_for_source(
    session: Session, partner: Principal, params: PageParams, *, status: str | None
) -> tuple[list[Objection], bool]:
    """The objections to a data provider's own records. Each one disclosed is recorded on the subject's
    chain: the department learns of the objection and its reason."""
    statement = select(Objection).where(Objection.source == partner.id)
    if status is not None:
        statement = statement.where(Objection.status == status)
    rows, has_more = fetch_page(session, statement, KIND.id_column, params)
    for row in rows:
        cases.audit(session, KIND, partner, row, "objection.disclosed_to_source", SOURCE_CHECK)
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
    evidence_service.disclose(session, partner, evidence, purpose=SOURCE_CHECK)
    return evidence


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
        objection.escalations += 1
        _events(
            session,
            objection,
            "objection.overdue",
            {"answer_due_at": objection.answer_due_at.isoformat(), "escalations": objection.escalations},
        )
        cases.escalate(
            session, KIND, objection, now, "objection not answered within 20 days",
            overdue_days=(now - objection.answer_due_at).days, escalations=objection.escalations,
        )  # fmt: skip
    return len(due)


# --- retention ----------------------------------------------------------------------------------------


def delete_for_records(session: Session, record_ids: list[str]) -> list[str]:
    """Delete the objections to these records (and their events); returns their ids so that the caller
    removes their evidence too. Used only when the records themselves are deleted."""
    ids = cases.ids_for_records(session, KIND, record_ids)
    if ids:
        session.execute(delete(ObjectionEvent).where(col(ObjectionEvent.objection_id).in_(ids)))
        cases.delete_cases(session, KIND, ids)
    return ids
