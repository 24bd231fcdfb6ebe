"""信易贷 over HTTP: public products and statistics, the enterprise's applications, the bank's referrals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlmodel import Session

from app.core.db import SessionDep
from app.core.idempotency import AppRoute, IdempotencyDep
from app.core.pagination import Page, PageParamsDep, page_of
from app.core.principal import Principal
from app.deps import CryptoDep, CurrentUser, OperatorDep, require_scope
from app.enterprises import service as enterprises_service
from app.enterprises.models import Enterprise
from app.loans import products, schemas, service, stats, views
from app.loans.models import ReferralStatus
from app.scenarios.catalog import CatalogDep

router = APIRouter(route_class=AppRoute, tags=["xinyidai"])
ProductManager = Annotated[Principal, Depends(require_scope("loan_products:write"))]
ReferralReader = Annotated[Principal, Depends(require_scope("referrals:read"))]
ReferralWriter = Annotated[Principal, Depends(require_scope("referrals:write"))]
ReportReader = Annotated[Principal, Depends(require_scope("reports:read"))]


# --- public ---------------------------------------------------------------------------------------------------


@router.get("/v1/loan-products")
def list_products(
    session: SessionDep,
    page: PageParamsDep,
    bank_id: Annotated[str | None, Query(max_length=32)] = None,
    amount_fen: Annotated[int | None, Query(gt=0, description="Only products lending this amount.")] = None,
    term_months: Annotated[int | None, Query(ge=1, le=360)] = None,
    industry: Annotated[str | None, Query(pattern=r"^[A-T]$")] = None,
) -> Page[schemas.ProductOut]:
    """Active loan products of partner banks, newest first. Public."""
    return page_of(
        products.list_public(
            session, page, bank_id=bank_id, amount_fen=amount_fen, term_months=term_months, industry=industry
        ),
        lambda p: views.product_out(session, p),
    )


@router.get("/v1/loan-products/{product_id}")
def get_product(product_id: str, session: SessionDep) -> schemas.ProductOut:
    return views.product_out(session, products.get_public(session, product_id))


def _stats_out(session: Session) -> schemas.StatisticsOut:
    return schemas.StatisticsOut.model_validate(stats.compute(session), from_attributes=True)


@router.get("/v1/stats/xinyidai")
def public_stats(session: SessionDep) -> schemas.StatisticsOut:
    """信易贷 in figures: subjects rated, reports generated, referrals, approvals, total approved amount;
    by bank and by month (China time). Aggregates only: nothing about any one enterprise."""
    return _stats_out(session)


@router.get("/v1/admin/stats/xinyidai")
def operator_stats(op: OperatorDep, session: SessionDep) -> schemas.StatisticsOut:
    """The same figures for operators (also printed by ``xinyi stats``)."""
    return _stats_out(session)


# --- banks: products ---------------------------------------------------------------------------------------


@router.post("/v1/partner/loan-products", status_code=201)
def create_product(
    body: schemas.ProductIn, bank: ProductManager, idem: IdempotencyDep, session: SessionDep
) -> schemas.ProductOut:
    """Publish a loan product (listed publicly while active)."""
    return views.product_out(session, products.create(session, bank, body.model_dump()))


@router.get("/v1/partner/loan-products")
def my_products(bank: ProductManager, session: SessionDep, page: PageParamsDep) -> Page[schemas.ProductOut]:
    return page_of(products.list_own(session, bank.id, page), lambda p: views.product_out(session, p))


@router.patch("/v1/partner/loan-products/{product_id}")
def update_product(
    product_id: str, body: schemas.ProductPatch, bank: ProductManager, session: SessionDep
) -> schemas.ProductOut:
    return views.product_out(session, products.update(session, bank, product_id, body.changes()))


# --- banks: referrals (the shapes and calls, shared with the members' routes: app.loans.views) -------


@router.get("/v1/partner/referrals")
def list_referrals(
    bank: ReferralReader, session: SessionDep, page: PageParamsDep, status: ReferralStatus | None = None
) -> Page[schemas.BankReferralOut]:
    """Your referrals, newest first (cursor pagination)."""
    return views.referrals_page(session, bank, page, status)


@router.get("/v1/partner/referrals/{referral_id}")
def get_referral(referral_id: str, bank: ReferralReader, session: SessionDep) -> schemas.BankReferralOut:
    return views.referral_view(session, bank, referral_id)


@router.get("/v1/partner/referrals/{referral_id}/report", responses=views.REPORT_REFUSALS)
def get_report(referral_id: str, bank: ReportReader, session: SessionDep) -> schemas.ReportOut:
    """The credit report of your referral, while the enterprise's consent is valid. Each fetch is recorded
    in the enterprise's audit log and shown on its application."""
    return views.report_view(session, bank, referral_id)


@router.post("/v1/partner/referrals/{referral_id}/decision")
def post_decision(
    referral_id: str,
    body: schemas.LoanDecisionIn,
    bank: ReferralWriter,
    idem: IdempotencyDep,
    session: SessionDep,
) -> schemas.BankReferralOut:
    """Approve (amount_fen, annual_rate_bps, term_months) or decline (reason code), once."""
    return views.decision_view(session, bank, referral_id, body)


@router.post("/v1/partner/referrals/{referral_id}/outcomes", status_code=201)
def post_outcome(
    referral_id: str,
    body: schemas.OutcomeIn,
    bank: ReferralWriter,
    idem: IdempotencyDep,
    session: SessionDep,
    crypto: CryptoDep,
) -> schemas.OutcomeOut:
    """A repayment outcome of an approved loan: on_time, overdue (days_overdue) or settled. It becomes a
    platform-behaviour record and the enterprise's score moves at once."""
    return views.outcome_view(session, crypto, bank, referral_id, body)


# --- enterprises -------------------------------------------------------------------------------------------------


def _administered(session: Session, user: Principal, enterprise_id: str) -> Enterprise:
    return enterprises_service.get_administered(session, user, enterprise_id)


@router.post("/v1/enterprises/{enterprise_id}/loan-applications", status_code=201)
def apply(
    enterprise_id: str,
    body: schemas.ApplyIn,
    user: CurrentUser,
    idem: IdempotencyDep,
    session: SessionDep,
    catalog: CatalogDep,
) -> schemas.ApplicationOut:
    """Apply for a 信易贷 loan. Your consent is narrow: the credit report goes only to the banks you name,
    for this application, until ``consent.expires_at`` (at most 90 days; open-ended is refused). If the
    xinyidai scenario says no, the application is recorded as ``not_eligible`` with the reason code."""
    enterprise = _administered(session, user, enterprise_id)
    request = service.LoanRequest(
        amount_fen=body.amount_fen,
        term_months=body.term_months,
        purpose=body.purpose.strip(),
        industry=body.industry,
        banks=body.consent.banks,
        consent_expires_at=body.consent.expires_at,
        consent_agreed=body.consent.agreed,
    )
    return views.application_out(session, service.apply(session, catalog, user, enterprise, request))


@router.get("/v1/enterprises/{enterprise_id}/loan-applications")
def list_applications(
    enterprise_id: str, user: CurrentUser, session: SessionDep, page: PageParamsDep
) -> Page[schemas.ApplicationOut]:
    enterprise = _administered(session, user, enterprise_id)
    return page_of(
        service.list_applications(session, enterprise.id, page), lambda a: views.application_out(session, a)
    )


@router.get("/v1/enterprises/{enterprise_id}/loan-applications/{application_id}")
def get_application(
    enterprise_id: str, application_id: str, user: CurrentUser, session: SessionDep
) -> schemas.ApplicationOut:
    """Your application, each bank's status and decision, and every fetch of your report."""
    enterprise = _administered(session, user, enterprise_id)
    return views.application_out(session, service.get_application(session, enterprise.id, application_id))


@router.get("/v1/enterprises/{enterprise_id}/loan-applications/{application_id}/report")
def get_own_report(
    enterprise_id: str, application_id: str, user: CurrentUser, session: SessionDep
) -> schemas.ReportOut:
    """The report snapshot exactly as the banks receive it."""
    enterprise = _administered(session, user, enterprise_id)
    application = service.get_application(session, enterprise.id, application_id)
    report = service.report_of(session, application.report_id)
    return schemas.ReportOut(id=report.id, generated_at=report.generated_at, content=report.content)


@router.post("/v1/enterprises/{enterprise_id}/loan-applications/{application_id}/withdraw-consent")
def withdraw_consent(
    enterprise_id: str, application_id: str, user: CurrentUser, session: SessionDep
) -> schemas.ApplicationOut:
    """From this moment no bank can fetch the report (403 ``consent_withdrawn``). Decisions already made
    stay."""
    enterprise = _administered(session, user, enterprise_id)
    application = service.get_application(session, enterprise.id, application_id)
    service.withdraw_consent(session, user, application)
    return views.application_out(session, application)
