"""The routes every kind of case has, the same but for names: the subject's own cases
(``/v1/me/{kind}s``, one and all) and the operators' queue (``/v1/admin/{kind}s``, one and all).

No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations at run time, and
they name this kind's path parameter and its queue filters, which exist only inside ``add_review_routes``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel
from sqlmodel import Session

from app.cases import service as cases
from app.cases.service import C, CaseKind, Decided
from app.core.clock import utcnow
from app.core.db import SessionDep
from app.core.errors import NotFound
from app.core.pagination import Page, PageParamsDep
from app.deps import CurrentUser, OperatorDep
from app.enterprises import service as enterprises_service
from app.evidence.models import EvidenceFile
from app.evidence.router import evidence_refs
from app.records import service as records_service

Out = TypeVar("Out", bound=BaseModel)


@dataclass(frozen=True)
class QueueFilter:
    """The operators' queue filters; each kind declares its own statuses and words for them."""

    status: str | None
    overdue: bool


def record_status(session: Session, record_id: str) -> str | None:
    """The status of a case's record now, or None once retention deleted it."""
    try:
        return str(records_service.get_record(session, record_id).status)
    except NotFound:
        return None


def case_out(
    kind: CaseKind[C],
    out: type[Out],
    session: Session,
    row: C,
    files: dict[str, list[EvidenceFile]],
    **computed: Any,
) -> Out:
    """A case as the API shows it: the row's fields that the response names, its record's status now,
    its evidence, whether it is late, and what the kind computes besides."""
    fields = {name: getattr(row, name) for name in out.model_fields if hasattr(row, name)}
    return out.model_validate(
        {
            **fields,
            "record_status": record_status(session, row.record_id),
            "evidence": evidence_refs(files[row.id]),
            "overdue": kind.is_overdue(row, utcnow()),
            **computed,
        }
    )


def cases_out(
    kind: CaseKind[C],
    out: type[Out],
    session: Session,
    rows: list[C],
    computed: Callable[[C], dict[str, Any]] = lambda row: {},
) -> list[Out]:
    files = cases.evidence_of(session, rows)
    return [case_out(kind, out, session, row, files, **computed(row)) for row in rows]


def scores(outcome: Decided[Any]) -> dict[str, Any]:
    """The subject's score and level before and after a decision, rescored in the same request."""
    return {
        "score_before": outcome.score_before,
        "level_before": outcome.level_before,
        "score_after": outcome.score_after,
        "level_after": outcome.level_after,
    }


def add_review_routes(
    router: APIRouter,
    kind: CaseKind[C],
    present: Callable[[Session, list[C]], list[Out]],
    out: type[Out],
    queue_filter: Callable[..., QueueFilter],
) -> None:
    """Add the four routes to ``router``, named and described as they always were for this kind."""
    plural = f"{kind.name}s"
    CaseId = Annotated[str, Path(alias=kind.id_param)]
    Filters = Annotated[QueueFilter, Depends(queue_filter)]

    def mine(user: CurrentUser, session: SessionDep, page: PageParamsDep) -> Any:
        subject_ids = enterprises_service.subjects_acted_for(session, user)
        rows, has_more = cases.list_for_subjects(session, kind, subject_ids, page)
        return Page(data=present(session, rows), has_more=has_more)

    def mine_one(case_id: CaseId, user: CurrentUser, session: SessionDep) -> Any:
        return present(session, [cases.get_for_user(session, kind, user, case_id)])[0]

    def queue(op: OperatorDep, session: SessionDep, filters: Filters, page: PageParamsDep) -> Any:
        rows, has_more = cases.list_for_review(
            session, kind, op, page, status=filters.status, overdue=filters.overdue
        )
        return Page(data=present(session, rows), has_more=has_more)

    def queue_one(case_id: CaseId, op: OperatorDep, session: SessionDep) -> Any:
        return present(session, [cases.read_for_review(session, kind, op, case_id)])[0]

    one_path = f"{{{kind.id_param}}}"
    routes: list[tuple[str, Callable[..., Any], str, type[BaseModel], str | None]] = [
        (f"/v1/me/{plural}", mine, f"my_{plural}", Page[out],  # type: ignore[valid-type]
         f"Your {kind.label}s and those of the enterprises you administer, newest first."),
        (f"/v1/me/{plural}/{one_path}", mine_one, f"my_{kind.name}", out, None),
        (f"/v1/admin/{plural}", queue, f"review_{plural}", Page[out],  # type: ignore[valid-type]
         f"The {kind.label} queue (operators), newest first."),
        (f"/v1/admin/{plural}/{one_path}", queue_one, f"review_{kind.name}", out,
         f"One {kind.label} with its files (the read is recorded in the subject's access log)."),
    ]  # fmt: skip
    for path, endpoint, name, response_model, description in routes:
        router.add_api_route(
            path,
            endpoint,
            methods=["GET"],
            name=name,
            response_model=response_model,
            description=description,
        )
