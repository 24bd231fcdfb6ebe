"""A resident's (or enterprise admin's) view of the consents given: ``/v1/me/consents``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session

from app.consents import service
from app.consents.models import Consent
from app.consents.schemas import ConsentOut, PurposeLabels
from app.core.db import SessionDep
from app.core.idempotency import AppRoute
from app.core.pagination import Page, PageParamsDep, page_of
from app.core.principal import Principal
from app.deps import CurrentUser
from app.enterprises import service as enterprises_service
from app.partners import service as partners_service

router = APIRouter(route_class=AppRoute, tags=["consents"])


def consent_out(session: Session, consent: Consent) -> ConsentOut:
    names = partners_service.names_of(session, list(consent.grantees))
    return ConsentOut(
        id=consent.id,
        subject_id=consent.subject_id,
        purpose=consent.purpose,
        purpose_labels=PurposeLabels(**service.purpose_labels(consent.purpose)),
        grantees=list(consent.grantees),
        grantee_names=[names.get(partner_id, partner_id) for partner_id in consent.grantees],
        scope=list(consent.scope),
        reference=consent.reference,
        status=service.status_of(consent),
        granted_at=consent.granted_at,
        expires_at=consent.expires_at,
        withdrawn_at=consent.withdrawn_at,
    )


def subjects_spoken_for(session: Session, user: Principal) -> list[str]:
    """The user's own credit subject and those of the enterprises they administer."""
    subjects = [e.subject_id for e in enterprises_service.list_for_user(session, user.id)]
    if user.subject_id is not None:
        subjects.append(user.subject_id)
    return subjects


@router.get("/v1/me/consents")
def my_consents(
    user: CurrentUser,
    session: SessionDep,
    page: PageParamsDep,
    subject_id: Annotated[
        str | None, Query(max_length=32, description="Only this subject's (yours or an enterprise's).")
    ] = None,
) -> Page[ConsentOut]:
    """Every consent you gave, for yourself or for an enterprise you administer. Newest first."""
    return page_of(
        service.list_for_subjects(session, subjects_spoken_for(session, user), page, subject_id=subject_id),
        lambda c: consent_out(session, c),
    )


@router.get("/v1/me/consents/{consent_id}")
def my_consent(consent_id: str, user: CurrentUser, session: SessionDep) -> ConsentOut:
    return consent_out(
        session, service.get_for_subjects(session, consent_id, subjects_spoken_for(session, user))
    )


@router.post("/v1/me/consents/{consent_id}/withdraw")
def withdraw_consent(consent_id: str, user: CurrentUser, session: SessionDep) -> ConsentOut:
    """Withdraw at once: from this moment no recipient can receive anything more under it. Withdrawing
    again changes nothing."""
    consent = service.get_for_subjects(session, consent_id, subjects_spoken_for(session, user))
    return consent_out(session, service.withdraw(session, user, consent))
