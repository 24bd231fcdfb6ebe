from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlmodel import Session

from app.core.clock import business_date
from app.core.db import SessionDep
from app.core.errors import NotFound
from app.core.idempotency import AppRoute, IdempotencyDep, IdempotencyRequiredDep
from app.core.pagination import Page, PageParamsDep
from app.deps import CurrentUser, OperatorDep, SettingsDep
from app.enterprises import service as enterprises_service
from app.evidence.router import evidence_refs
from app.records import service as records_service
from app.repairs import commitment as commitments
from app.repairs import service
from app.repairs.models import RepairApplication, RepairStatus
from app.repairs.schemas import CommitmentOut, RepairDecisionIn, RepairDecisionOut, RepairIn, RepairOut

router = APIRouter(route_class=AppRoute, tags=["credit repair"])
StatusFilter = Annotated[Literal["pending", "approved", "rejected", "lapsed"] | None, Query()]


def _record_status(session: Session, record_id: str) -> str | None:
    try:
        return str(records_service.get_record(session, record_id).status)
    except NotFound:
        return None


def repairs_out(session: Session, rows: list[RepairApplication]) -> list[RepairOut]:
    files = service.evidence_of(session, rows)
    today = business_date()
    return [
        RepairOut(
            id=row.id,
            subject_id=row.subject_id,
            record_id=row.record_id,
            record_status=_record_status(session, row.record_id),
            status=row.status,
            correction_statement=row.correction_statement,
            evidence=evidence_refs(files[row.id]),
            commitment_version=row.commitment_version,
            commitment_sha256=row.commitment_sha256,
            commitment_signed_name=row.commitment_signed_name,
            commitment_signed_at=row.commitment_signed_at,
            received_at=row.received_at,
            decision_due_on=row.decision_due_on,
            overdue=row.status == RepairStatus.pending and today > row.decision_due_on,
            decided_at=row.decided_at,
            decided_within_deadline=(
                None if row.decided_at is None else business_date(row.decided_at) <= row.decision_due_on
            ),
            decision_reasons=row.decision_reasons,
        )
        for row in rows
    ]


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


@router.get("/v1/me/repairs")
def my_repairs(user: CurrentUser, session: SessionDep, page: PageParamsDep) -> Page[RepairOut]:
    """Your repair applications and those of the enterprises you administer, newest first."""
    rows, has_more = service.list_for_subjects(
        session, enterprises_service.subjects_acted_for(session, user), page
    )
    return Page(data=repairs_out(session, rows), has_more=has_more)


@router.get("/v1/me/repairs/{repair_id}")
def my_repair(repair_id: str, user: CurrentUser, session: SessionDep) -> RepairOut:
    return repairs_out(session, [service.get_for_user(session, user, repair_id)])[0]


@router.get("/v1/admin/repairs")
def review_repairs(
    op: OperatorDep,
    session: SessionDep,
    page: PageParamsDep,
    status: StatusFilter = None,
    overdue: Annotated[bool, Query(description="Only pending applications past 3 working days.")] = False,
) -> Page[RepairOut]:
    rows, has_more = service.list_for_review(session, op, page, status=status, overdue=overdue)
    return Page(data=repairs_out(session, rows), has_more=has_more)


@router.get("/v1/admin/repairs/{repair_id}")
def review_repair(repair_id: str, op: OperatorDep, session: SessionDep) -> RepairOut:
    return repairs_out(session, [service.read_for_review(session, op, repair_id)])[0]


@router.post("/v1/admin/repairs/{repair_id}/decision")
def decide_repair(
    repair_id: str, body: RepairDecisionIn, op: OperatorDep, idem: IdempotencyRequiredDep, session: SessionDep
) -> RepairDecisionOut:
    """Approve (the record leaves publicity and scoring; the subject is rescored in this request) or
    reject with reasons."""
    outcome = service.decide(
        session, op, repair_id, decision=body.decision, reasons=body.reasons, today=business_date()
    )
    return RepairDecisionOut(
        application=repairs_out(session, [outcome.application])[0],
        score_before=outcome.score_before,
        level_before=outcome.level_before,
        score_after=outcome.score_after,
        level_after=outcome.level_after,
    )
