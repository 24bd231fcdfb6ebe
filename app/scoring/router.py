from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from app.core.clock import business_date
from app.core.db import SessionDep
from app.core.errors import NotFound
from app.core.idempotency import AppRoute
from app.core.pagination import Page, PageParamsDep
from app.deps import CurrentUser, OperatorDep
from app.scoring import explain, service
from app.scoring.schemas import ScoreHistoryItem, ScoreOut
from app.scoring.scoring_model import ScoringModel, active_model

router = APIRouter(route_class=AppRoute, tags=["scoring"])

AcceptLanguage = Annotated[
    str | None, Header(description="zh (default) or en: the language of `label` and `message` fields.")
]


def _subject_of(user: CurrentUser) -> str:
    if user.subject_id is None:
        raise NotFound(
            "Bind your 身份证号 first (PUT /v1/me/identity): a score belongs to a credit subject.",
            code="identity_not_bound",
        )
    return user.subject_id


def _render(found: service.StoredScore, accept_language: str | None, response: Response) -> ScoreOut:
    lang = explain.language_from(accept_language)
    response.headers["Content-Language"] = "zh-CN" if lang == "zh" else "en"
    return explain.render(found, lang, business_date())


@router.get("/v1/me/score")
def my_score(
    user: CurrentUser, session: SessionDep, response: Response, accept_language: AcceptLanguage = None
) -> ScoreOut:
    """Your score, level, the breakdown by dimension, the top reasons and what would raise it.

    Every label and message comes in both languages (`labels`, `messages`); `label` and `message` are in
    the one asked for with Accept-Language."""
    return _render(service.current_score(session, _subject_of(user)), accept_language, response)


@router.get("/v1/me/score/history")
def my_score_history(user: CurrentUser, session: SessionDep, page: PageParamsDep) -> Page[ScoreHistoryItem]:
    """Every change of your score, level or model version, newest first."""
    rows, has_more = service.history(session, _subject_of(user), page)
    return Page(
        data=[ScoreHistoryItem.model_validate(row, from_attributes=True) for row in rows], has_more=has_more
    )


@router.get("/v1/scoring/model", response_model=ScoringModel)
def published_model() -> ScoringModel:
    """The active scoring model, exactly as it scores: bands, dimensions, weights, caps, points per record
    kind with their reason codes and labels, and the rule for disputed records."""
    return active_model()


@router.get("/v1/admin/subjects/{subject_id}/score")
def subject_score(
    subject_id: str,
    operator: OperatorDep,
    session: SessionDep,
    response: Response,
    purpose: Annotated[str, Query(min_length=4, max_length=200, description="Why you are reading it.")],
    legal_basis: Annotated[
        str, Query(min_length=2, max_length=200, description="The legal basis of the read.")
    ] = "platform supervision (平台运营监管)",
    accept_language: AcceptLanguage = None,
) -> ScoreOut:
    """Any subject's score, for operators. Each read is written to the subject's audit log."""
    found = service.read_for_operator(
        session, operator, subject_id, purpose=purpose.strip(), legal_basis=legal_basis.strip()
    )
    return _render(found, accept_language, response)
