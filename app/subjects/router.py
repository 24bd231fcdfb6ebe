from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.core.db import SessionDep
from app.core.idempotency import AppRoute
from app.deps import OperatorDep
from app.subjects import service
from app.subjects.schemas import SubjectOut

router = APIRouter(route_class=AppRoute, tags=["admin"])

Purpose = Annotated[str, Query(min_length=4, max_length=200, description="Why you are looking (recorded).")]
LegalBasis = Annotated[
    str, Query(min_length=4, max_length=200, description="The rule that allows it (recorded).")
]


@router.get("/v1/admin/subjects/{subject_id}")
def read_subject(
    subject_id: str,
    operator: OperatorDep,
    session: SessionDep,
    purpose: Purpose,
    legal_basis: LegalBasis = "platform operating rules: handling a subject's request",
) -> SubjectOut:
    """An operator looks a subject up. The read is written to the subject's audit chain, which the subject
    sees in their own access log."""
    subject = service.read_for_operator(session, operator, subject_id, purpose, legal_basis)
    return SubjectOut(
        id=subject.id,
        kind=subject.kind,
        name=subject.name,
        id_number=subject.id_number_masked,
        uscc=subject.uscc,
        created_at=subject.created_at,
    )
