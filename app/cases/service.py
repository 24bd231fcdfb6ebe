"""The review steps every case goes through, whatever its kind: open it on one's own record with evidence,
read it from the operators' queue, close it with a decision (rescoring the subject in the same
transaction), escalate it when late, delete it with its record. Each step writes its audit entry; the
request owns the transaction, so nothing here commits.

A :class:`CaseKind` carries the few words that differ between kinds (names, codes, legal basis); audit
actions, error codes and messages are built from them, as the API has always spelled them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import and_, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session, col, select

from app.audit import service as audit_service
from app.cases.models import CaseBase
from app.core.clock import utcnow
from app.core.config import Settings
from app.core.errors import Conflict, NotFound
from app.core.pagination import PageParams, fetch_page
from app.core.principal import Principal
from app.enterprises import service as enterprises_service
from app.evidence import service as evidence_service
from app.evidence.models import EvidenceFile
from app.records import service as records_service
from app.records.models import CreditRecord
from app.scoring import service as scoring_service

C = TypeVar("C", bound=CaseBase)
WORKER = Principal(type="system", id="worker")


@dataclass(frozen=True)
class CaseKind(Generic[C]):
    model: type[C]
    name: str  # objection | repair: audit actions, error codes, the evidence purpose, ``{name}_id``
    label: str  # what a reader calls one: "objection", "repair application"
    open_status: str  # open | pending
    closed_verb: str  # answered | decided
    opened_elsewhere: str  # the start of the "filed at the same moment" refusal
    legal_basis: str
    queue_purpose: str  # why an operator lists the queue
    read_purpose: str  # why an operator reads one case
    due_field: str  # the column holding the deadline: answer_due_at | decision_due_on
    # The kind's deadline rule, (due, now) -> late. Applied to the column it gives the queue's SQL filter,
    # so the flag on a case and the ``overdue`` queue always agree.
    overdue_rule: Callable[[Any, datetime], Any]

    @property
    def id_param(self) -> str:
        return f"{self.name}_id"

    @property
    def id_column(self) -> InstrumentedAttribute[str]:
        return cast(InstrumentedAttribute[str], self.model.id)

    def grounds(self, purpose: str) -> audit_service.Grounds:
        """The grounds of a case's entries: ``purpose`` on the kind's legal basis."""
        return audit_service.Grounds(purpose, self.legal_basis)

    def is_overdue(self, case: C, now: datetime) -> bool:
        return case.status == self.open_status and bool(self.overdue_rule(getattr(case, self.due_field), now))

    def overdue_clause(self, now: datetime) -> Any:
        return and_(
            col(self.model.status) == self.open_status,
            self.overdue_rule(getattr(self.model, self.due_field), now),
        )


@dataclass
class Decided(Generic[C]):
    """A closed case, its record as it now is, and the subject's score before and after the decision."""

    case: C
    record: CreditRecord
    score_before: int
    level_before: str
    score_after: int
    level_after: str


# --- opening ------------------------------------------------------------------------------------------


def own_record(session: Session, actor: Principal, record_id: str) -> CreditRecord:
    """A record of the actor's own subject (or an enterprise it administers)."""
    try:
        record = records_service.get_record(session, record_id)
    except NotFound:
        record = None
    if record is None or not enterprises_service.acts_for(session, actor, record.subject_id):
        # Someone else's record answers like a missing one: ids reveal nothing.
        raise NotFound("No record with this id among yours.", code="record_not_found", param="record_id")
    return record


def open_on(session: Session, kind: CaseKind[C], record_id: str) -> C | None:
    statement = select(kind.model).where(
        kind.model.record_id == record_id, kind.model.status == kind.open_status
    )
    return session.exec(statement).first()


def take_evidence(
    session: Session, settings: Settings, actor: Principal, kind: CaseKind[C], evidence_ids: list[str]
) -> list[EvidenceFile]:
    return evidence_service.take_for_case(
        session, actor, evidence_ids, kind.name, settings.evidence_max_files, "evidence_ids"
    )


def insert(session: Session, kind: CaseKind[C], case: C) -> C:
    """Write a new case; its unique open-record column refuses a second one filed at the same moment."""
    session.add(case)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            f"{kind.opened_elsewhere} was filed at the same moment.",
            code=f"{kind.name}_already_{kind.open_status}",
            param="record_id",
        ) from None
    return case


def opened(
    session: Session,
    kind: CaseKind[C],
    actor: Principal,
    case: C,
    files: list[EvidenceFile],
    *,
    action: str,
    purpose: str,
    details: dict[str, Any],
) -> None:
    """Attach the case's evidence and record the filing in the subject's log."""
    evidence_service.attach(session, files, case.id, case.subject_id)
    audit(session, kind, actor, case, action, purpose, {**details, "evidence_files": len(files)})


# --- closing ------------------------------------------------------------------------------------------


def get_open(session: Session, kind: CaseKind[C], case_id: str) -> C:
    case = get(session, kind, case_id)
    if case.status != kind.open_status:
        raise Conflict(
            # "This objection…", "This application…": the label's last word
            f"This {kind.label.split()[-1]} was already {kind.closed_verb} ({case.status}).",
            code=f"{kind.name}_already_{kind.closed_verb}",
            param=kind.id_param,
        )
    return case


def score_now(session: Session, subject_id: str) -> tuple[int, str]:
    result = scoring_service.current_score(session, subject_id).result
    return result.score, result.level


def close(
    session: Session,
    kind: CaseKind[C],
    actor: Principal,
    case: C,
    record: CreditRecord,
    before: tuple[int, str],
    *,
    purpose: str,
    details: dict[str, Any],
) -> Decided[C]:
    """Close a decided case (its fields already set by its kind), record the decision and read the score
    the decision left."""
    case.close(actor.id, utcnow())
    session.add(case)
    session.flush()
    audit(session, kind, actor, case, f"{kind.name}.{kind.closed_verb}", purpose, details)
    after = score_now(session, case.subject_id)
    return Decided(case, record, *before, *after)


def escalate(
    session: Session, kind: CaseKind[C], case: C, now: datetime, purpose: str, **details: Any
) -> None:
    """A late case: marked, and an entry in the subject's log written by the worker."""
    case.escalated_at = now
    session.add(case)
    audit(session, kind, WORKER, case, f"{kind.name}.escalated", purpose, details, with_record=False)


def audit(
    session: Session,
    kind: CaseKind[C],
    actor: Principal,
    case: C,
    action: str,
    purpose: str,
    details: dict[str, Any] | None = None,
    *,
    with_record: bool = True,
) -> None:
    """An entry in the subject's log: ids and codes only, never the subject's or reviewer's words."""
    ids = {kind.id_param: case.id, **({"record_id": case.record_id} if with_record else {})}
    kind.grounds(purpose).record(
        session, actor, action, {**ids, **(details or {})}, subject_id=case.subject_id
    )


# --- reading ------------------------------------------------------------------------------------------


def get(session: Session, kind: CaseKind[C], case_id: str) -> C:
    case = session.get(kind.model, case_id)
    if case is None:
        raise NotFound(f"No {kind.label} with this id.", code=f"{kind.name}_not_found", param=kind.id_param)
    return case


def get_for_user(session: Session, kind: CaseKind[C], actor: Principal, case_id: str) -> C:
    case = session.get(kind.model, case_id)
    if case is None or not enterprises_service.acts_for(session, actor, case.subject_id):
        raise NotFound(f"No {kind.label} with this id among yours.", code=f"{kind.name}_not_found")
    return case


def list_for_subjects(
    session: Session, kind: CaseKind[C], subject_ids: list[str], params: PageParams
) -> tuple[list[C], bool]:
    statement = select(kind.model).where(col(kind.model.subject_id).in_(subject_ids))
    return fetch_page(session, statement, kind.id_column, params)


def list_for_subject(session: Session, kind: CaseKind[C], subject_id: str) -> list[C]:
    statement = (
        select(kind.model).where(kind.model.subject_id == subject_id).order_by(col(kind.id_column).desc())
    )
    return list(session.exec(statement).all())


def list_for_review(
    session: Session,
    kind: CaseKind[C],
    reviewer: Principal,
    params: PageParams,
    *,
    status: str | None,
    overdue: bool,
) -> tuple[list[C], bool]:
    """The operators' queue; ``overdue``: only open cases past their deadline. The read is recorded on
    the system chain."""
    statement = select(kind.model)
    if status is not None:
        statement = statement.where(kind.model.status == status)
    if overdue:
        statement = statement.where(kind.overdue_clause(utcnow()))
    rows, has_more = fetch_page(session, statement, kind.id_column, params)
    details = {"status": status, "overdue": overdue, "returned": len(rows)}
    queue = audit_service.Grounds(kind.queue_purpose, audit_service.SUPERVISION)
    queue.record(session, reviewer, f"{kind.name}s.listed", details)
    return rows, has_more


def read_for_review(session: Session, kind: CaseKind[C], reviewer: Principal, case_id: str) -> C:
    case = get(session, kind, case_id)
    audit(session, kind, reviewer, case, f"{kind.name}.read", kind.read_purpose)
    return case


def evidence_of(session: Session, cases: Iterable[CaseBase]) -> dict[str, list[EvidenceFile]]:
    return evidence_service.for_cases(session, [case.id for case in cases])


# --- retention ----------------------------------------------------------------------------------------


def ids_for_records(session: Session, kind: CaseKind[C], record_ids: list[str]) -> list[str]:
    if not record_ids:
        return []
    statement = select(kind.id_column).where(col(kind.model.record_id).in_(record_ids))
    return list(session.exec(statement).all())


def delete_cases(session: Session, kind: CaseKind[C], case_ids: list[str]) -> None:
    """Used only when the records themselves are deleted; the caller removes the cases' evidence."""
    if case_ids:
        session.execute(delete(kind.model).where(col(kind.id_column).in_(case_ids)))
