from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from app.cases import service as cases
from app.cases.router import QueueFilter, add_review_routes, case_out, cases_out, scores
from app.core.clock import business_date
from app.core.db import SessionDep
from app.core.errors import NotFound
from app.core.idempotency import AppRoute, IdempotencyDep, IdempotencyRequiredDep
from app.core.pagination import Page, PageParams, PageParamsDep
from app.core.principal import Principal
from app.deps import CurrentUser, OperatorDep, SettingsDep, require_scope
from app.evidence.router import file_response
from app.objections import schemas, service
from app.objections.models import Objection
from app.records import service as records_service

router = APIRouter(route_class=AppRoute, tags=["objections"])
ObjectionsReader = Annotated[Principal, Depends(require_scope("objections:read"))]
StatusFilter = Annotated[Literal["open", "upheld", "rejected"] | None, Query()]


def objections_out(session: Session, rows: list[Objection]) -> list[schemas.ObjectionOut]:
    return cases_out(service.KIND, schemas.ObjectionOut, session, rows)


def _source_record_id(session: Session, row: Objection) -> str | None:
    """The department's own id for the disputed record, or None once retention deleted it."""
    try:
        return records_service.get_record(session, row.record_id).source_record_id
    except NotFound:
        return None


def queue_filter(
    status: StatusFilter = None,
    overdue: Annotated[bool, Query(description="Only open objections past their 20 days.")] = False,
) -> QueueFilter:
    return QueueFilter(status, overdue)


@router.post("/v1/me/objections", status_code=201)
def file_objection(
    body: schemas.ObjectionIn,
    user: CurrentUser,
    idem: IdempotencyDep,
    session: SessionDep,
    settings: SettingsDep,
) -> schemas.ObjectionOut:
    """Object (异议) to one of your records, or to a record of an enterprise you administer, with a reason
    and evidence files. The record is shown as disputed at once, to everyone; the source department and
    the operators are told, and the answer is due within 20 days. Free of charge."""
    objection = service.file(
        session,
        settings,
        user,
        record_id=body.record_id,
        reason=body.reason,
        evidence_ids=body.evidence_ids,
        today=business_date(),
    )
    return objections_out(session, [objection])[0]


add_review_routes(router, service.KIND, objections_out, schemas.ObjectionOut, queue_filter)


@router.post("/v1/admin/objections/{objection_id}/answer")
def answer_objection(
    objection_id: str,
    body: schemas.AnswerIn,
    op: OperatorDep,
    idem: IdempotencyRequiredDep,
    session: SessionDep,
) -> schemas.AnswerOut:
    """Answer in writing. Upheld: the record is corrected (give `corrections`) or withdrawn, and the subject
    is rescored in this same request; rejected: the record counts as before."""
    outcome = service.answer(
        session,
        op,
        objection_id,
        decision=body.decision,
        answer_text=body.answer,
        resolution=body.resolution,
        changes=body.corrections.model_dump(exclude_unset=True) if body.corrections else None,
        today=business_date(),
    )
    return schemas.AnswerOut(objection=objections_out(session, [outcome.case])[0], **scores(outcome))


@router.get("/v1/partner/objections")
def source_objections(
    partner: ObjectionsReader, session: SessionDep, page: PageParamsDep, status: StatusFilter = None
) -> Page[schemas.SourceObjectionOut]:
    """Objections to the records you sent (data providers, `objections:read`), newest first. Each one
    listed is recorded in its subject's access log."""
    return source_objections_page(session, partner, page, status)


def source_objections_page(
    session: Session, partner: Principal, page: PageParams, status: str | None
) -> Page[schemas.SourceObjectionOut]:
    """As the provider's key and its members (app.members.consoles) list them: each one recorded in its
    subject's access log."""
    rows, has_more = service.list_for_source(session, partner, page, status=status)
    files = cases.evidence_of(session, rows)
    data = [
        case_out(
            service.KIND,
            schemas.SourceObjectionOut,
            session,
            row,
            files,
            source_record_id=_source_record_id(session, row),
        )
        for row in rows
    ]
    return Page(data=data, has_more=has_more)


@router.get("/v1/partner/objection-events")
def source_objection_events(
    partner: ObjectionsReader, session: SessionDep, page: PageParamsDep
) -> Page[schemas.ObjectionEventOut]:
    """Events about objections to your records (filed, answered, overdue), newest first."""
    rows, has_more = service.events_for(session, partner.id, page)
    return Page(
        data=[schemas.ObjectionEventOut.model_validate(row, from_attributes=True) for row in rows],
        has_more=has_more,
    )


@router.get(
    "/v1/partner/objections/{objection_id}/evidence/{evidence_id}/content", response_class=StreamingResponse
)
def source_evidence(
    objection_id: str, evidence_id: str, partner: ObjectionsReader, session: SessionDep, settings: SettingsDep
) -> StreamingResponse:
    """A file of an objection to one of your records (recorded in the subject's access log)."""
    return file_response(service.evidence_for_source(session, partner, objection_id, evidence_id), settings)
