from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlmodel import Session

from app.cases import deadlines
from app.cases.router import QueueFilter, add_review_routes, cases_out, scores
from app.core.clock import business_date
from app.core.db import SessionDep
from app.core.idempotency import AppRoute, IdempotencyDep, IdempotencyRequiredDep
from app.deps import CurrentUser, OperatorDep, SettingsDep
from app.repairs import commitment as commitments
from app.repairs import service
from app.repairs.models import RepairApplication
from app.repairs.schemas import CommitmentOut, RepairDecisionIn, RepairDecisionOut, RepairIn, RepairOut

router = APIRouter(route_class=AppRoute, tags=["credit repair"])


def repairs_out(session: Session, rows: list[RepairApplication]) -> list[RepairOut]:
    return cases_out(service.KIND, RepairOut, session, rows, _decided_within_deadline)


def _decided_within_deadline(row: RepairApplication) -> dict[str, bool | None]:
    """Decided before the deadline rule made it late; None while it waits."""
    if row.decided_at is None:
        return {"decided_within_deadline": None}
    late = deadlines.decision_overdue(row.decision_due_on, business_date(row.decided_at))
    return {"decided_within_deadline": not late}


def queue_filter(
    status: Annotated[Literal["pending", "approved", "rejected", "lapsed"] | None, Query()] = None,
    overdue: Annotated[bool, Query(description="Only pending applications past 3 working days.")] = False,
) -> QueueFilter:
    return QueueFilter(status, overdue)


@router.get("/v1/repairs/commitment")
def current_commitment() -> CommitmentOut:
    """The credit commitment (信用承诺书) an applicant signs: read it, then sign its `version`."""
    current = commitments.current()
    return CommitmentOut(version=current.version, sha256=current.sha256, text=current.text)


@router.post("/v1/me/repairs", status_code=201)
def apply_for_repair(
    body: RepairIn, user: CurrentUser, idem: IdempotencyDep, session: SessionDep, settings: SettingsDep
) -> RepairOut:
    """Apply for credit repair (信用修复) of one of your 失信 records after its minimum publicity period,
    with proof of correction and the signed credit commitment. Free of charge. Asked too early, it is
    refused with `repair_too_early` and the `earliest_date`. Decided within 3 working days."""
    application = service.apply(
        session,
        settings,
        user,
        record_id=body.record_id,
        correction_statement=body.correction_statement,
        evidence_ids=body.evidence_ids,
        commitment_version=body.commitment.version,
        signed_name=body.commitment.signed_name,
        accepted=body.commitment.accepted,
        today=business_date(),
    )
    return repairs_out(session, [application])[0]


add_review_routes(router, service.KIND, repairs_out, RepairOut, queue_filter)


@router.post("/v1/admin/repairs/{repair_id}/decision")
def decide_repair(
    repair_id: str, body: RepairDecisionIn, op: OperatorDep, idem: IdempotencyRequiredDep, session: SessionDep
) -> RepairDecisionOut:
    """Approve (the record leaves publicity and scoring; the subject is rescored in this request) or
    reject with reasons."""
    outcome = service.decide(
        session, op, repair_id, decision=body.decision, reasons=body.reasons, today=business_date()
    )
    return RepairDecisionOut(application=repairs_out(session, [outcome.case])[0], **scores(outcome))
