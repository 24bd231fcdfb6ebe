"""信易贷 applications: the enterprise's consent, the report snapshot, matching and referral, and the
enterprise's view of them. The bank's side (report fetch, decision, outcomes): :mod:`app.loans.referrals`.

One application, in one transaction: the enterprise's narrow consent (this purpose, the banks it names,
≤ 90 days) → a credit report snapshot → the ``xinyidai`` scenario's decision → matching the named banks'
products → for each bank with a match, a referral, its ``referral.created`` event in the outbox, and an
audit entry naming the consent. The worker sends the events after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from app.audit import service as audit_service
from app.consents import service as consents_service
from app.consents.models import Consent
from app.core.clock import utcnow
from app.core.errors import InvalidInput, NotFound
from app.core.ids import new_id
from app.core.pagination import PageParams, fetch_page
from app.core.principal import Principal
from app.enterprises.models import Enterprise
from app.loans import products as products_service
from app.loans import reports
from app.loans.catalog import INDUSTRIES
from app.loans.models import (
    ApplicationStatus,
    CreditReport,
    LoanApplication,
    LoanOutcome,
    LoanProduct,
    LoanReferral,
    ReportAccess,
)
from app.partners.models import Partner, PartnerKind, PartnerStatus
from app.scenarios import service as scenarios_service
from app.scenarios.catalog import Catalog
from app.scenarios.schemas import LEVEL_RANK
from app.webhooks import service as webhooks_service

SCENARIO = "xinyidai"
CONSENT_PURPOSE = "xinyidai_loan_application"
REPORT_SCOPE = "credit_report"
MAX_BANKS = 10
MAX_RATE_BPS = 2400  # 24 % a year: the upper bound of lawful private lending rates
MAX_TERM_MONTHS = 360
# An application is the subject's own request; the referral's decision is the bank's.
APPLICATION_GROUNDS = audit_service.Grounds(consents_service.PURPOSES[CONSENT_PURPOSE].zh, "信息主体申请")
DECISION_GROUNDS = audit_service.Grounds(consents_service.PURPOSES[CONSENT_PURPOSE].zh, "合作银行授信决定")


@dataclass(frozen=True)
class LoanRequest:
    amount_fen: int
    term_months: int
    purpose: str
    industry: str
    banks: list[str]
    consent_expires_at: datetime | None
    consent_agreed: bool


def region_of(uscc: str) -> str:
    """Characters 3-8 of a 统一社会信用代码: the registering authority's 行政区划 code."""
    return uscc[2:8]


def _named_banks(session: Session, bank_ids: list[str]) -> list[Partner]:
    unique = list(dict.fromkeys(bank_ids))
    if not unique:
        raise InvalidInput(
            "consent.banks: name at least one bank.", code="no_bank_named", param="consent.banks"
        )
    if len(unique) > MAX_BANKS:
        raise InvalidInput(
            f"consent.banks: at most {MAX_BANKS}.", code="too_many_banks", param="consent.banks"
        )
    found = []
    for bank_id in unique:
        partner = session.get(Partner, bank_id)
        if partner is None or partner.kind != PartnerKind.bank or partner.status != PartnerStatus.active:
            raise InvalidInput(
                "consent.banks: each must be an active partner bank (see GET /v1/loan-products).",
                code="unknown_bank",
                param="consent.banks",
            )
        found.append(partner)
    return found


def _product_refusal(product: LoanProduct, level: str, request: LoanRequest, region: str) -> str | None:
    if LEVEL_RANK.get(level, -1) < LEVEL_RANK[product.min_level]:
        return "level_below_product_minimum"
    if not product.min_amount_fen <= request.amount_fen <= product.max_amount_fen:
        return "amount_out_of_range"
    if not product.min_term_months <= request.term_months <= product.max_term_months:
        return "term_out_of_range"
    if product.industries and request.industry not in product.industries:
        return "industry_not_served"
    if product.regions and not any(region.startswith(prefix) for prefix in product.regions):
        return "region_not_served"
    return None


def match(
    session: Session, banks: list[Partner], level: str, request: LoanRequest, region: str
) -> list[dict[str, Any]]:
    """Per bank: the products that fit (best first: lowest minimum rate, then largest amount) or the
    reasons none did."""
    by_bank: dict[str, list[LoanProduct]] = {}
    for product in products_service.active_of_banks(session, [b.id for b in banks]):
        by_bank.setdefault(product.partner_id, []).append(product)
    results = []
    for bank in banks:
        offered = by_bank.get(bank.id, [])
        fitting = [p for p in offered if _product_refusal(p, level, request, region) is None]
        fitting.sort(key=lambda p: (p.min_rate_bps, -p.max_amount_fen, p.id))
        reasons = sorted({r for p in offered if (r := _product_refusal(p, level, request, region))})
        results.append(
            {
                "partner_id": bank.id,
                "matched": bool(fitting),
                "product_ids": [p.id for p in fitting],
                "reasons": [] if fitting else (reasons or ["no_active_product"]),
            }
        )
    return results


def apply(
    session: Session, catalog: Catalog, actor: Principal, enterprise: Enterprise, request: LoanRequest
) -> LoanApplication:
    """The whole application in the caller's transaction (see the module's docstring)."""
    scenario = catalog[SCENARIO]
    limit = scenario.benefit.max_amount_fen
    if limit is not None and request.amount_fen > limit:
        raise InvalidInput(
            f"amount_fen: 信易贷 referrals go up to {limit} fen.",
            code="amount_above_scenario_limit",
            param="amount_fen",
        )
    if request.industry not in INDUSTRIES:
        raise InvalidInput(
            "industry: a GB/T 4754 section letter A-T.", code="unknown_industry", param="industry"
        )
    if not request.consent_agreed:
        raise InvalidInput(
            "consent.agreed: the report is shared only with your explicit consent.",
            code="consent_not_given",
            param="consent.agreed",
        )
    banks = _named_banks(session, request.banks)
    now = utcnow()
    application_id = new_id("lap")
    consent = consents_service.grant(
        session,
        actor,
        subject_id=enterprise.subject_id,
        purpose=CONSENT_PURPOSE,
        grantees=[b.id for b in banks],
        scope=[REPORT_SCOPE],
        expires_at=request.consent_expires_at,
        reference=application_id,
        now=now,
    )
    report = reports.snapshot(session, enterprise.subject_id, application_id, now)
    evaluation = scenarios_service.evaluate(
        scenario, scenarios_service.subject_standing(session, enterprise.subject_id)
    )
    region = region_of(enterprise.uscc)
    matches = match(session, banks, report.level, request, region) if evaluation.eligible else []
    if not evaluation.eligible:
        status, reason = ApplicationStatus.not_eligible, evaluation.reason
    elif not any(m["matched"] for m in matches):
        status, reason = ApplicationStatus.no_match, "no_matching_product"
    else:
        status, reason = ApplicationStatus.referred, evaluation.reason
    application = LoanApplication(
        id=application_id,
        enterprise_id=enterprise.id,
        subject_id=enterprise.subject_id,
        applicant_user_id=actor.id,
        amount_fen=request.amount_fen,
        term_months=request.term_months,
        purpose=request.purpose,
        industry=request.industry,
        region=region,
        consent_id=consent.id,
        report_id=report.id,
        status=status,
        reason=reason,
        matches=matches,
        created_at=now,
    )
    session.add(application)
    session.flush()
    APPLICATION_GROUNDS.record(
        session,
        actor,
        "loan.application_submitted",
        {"application_id": application.id, "status": status.value, "reason": reason, "report_id": report.id},
        subject_id=enterprise.subject_id,
    )
    for found in matches:
        if found["matched"]:
            _refer(session, actor, application, consent, found, now)
    return application


def _refer(
    session: Session,
    actor: Principal,
    application: LoanApplication,
    consent: Consent,
    found: dict[str, Any],
    now: datetime,
) -> LoanReferral:
    referral = LoanReferral(
        application_id=application.id,
        partner_id=found["partner_id"],
        subject_id=application.subject_id,
        consent_id=consent.id,
        report_id=application.report_id,
        product_id=found["product_ids"][0],
        product_ids=found["product_ids"],
        event_id="",
        created_at=now,
    )
    event = webhooks_service.emit(
        session,
        referral.partner_id,
        "referral.created",
        {
            "referral_id": referral.id,
            "application_id": application.id,
            "product_id": referral.product_id,
            "product_ids": referral.product_ids,
            "amount_fen": application.amount_fen,
            "term_months": application.term_months,
            "industry": application.industry,
            "region": application.region,
            "consent_expires_at": consent.expires_at.isoformat(),
            "links": {
                "referral": f"/v1/partner/referrals/{referral.id}",
                "report": f"/v1/partner/referrals/{referral.id}/report",
                "decision": f"/v1/partner/referrals/{referral.id}/decision",
            },
        },
        now,
    )
    referral.event_id = event.id
    session.add(referral)
    session.flush()
    consents_service.record_disclosure(
        session,
        actor,
        consent,
        action="loan.referred",
        details={
            "referral_id": referral.id,
            "application_id": application.id,
            "partner_id": referral.partner_id,
        },
    )
    return referral


# --- the enterprise's view -----------------------------------------------------------------------------


def get_application(session: Session, enterprise_id: str, application_id: str) -> LoanApplication:
    application = session.get(LoanApplication, application_id)
    if application is None or application.enterprise_id != enterprise_id:
        raise NotFound("No loan application with this id.", code="loan_application_not_found")
    return application


def list_applications(
    session: Session, enterprise_id: str, params: PageParams
) -> tuple[list[LoanApplication], bool]:
    statement = select(LoanApplication).where(LoanApplication.enterprise_id == enterprise_id)
    return fetch_page(session, statement, LoanApplication.id, params)


def referrals_of(session: Session, application_id: str) -> list[LoanReferral]:
    statement = (
        select(LoanReferral)
        .where(LoanReferral.application_id == application_id)
        .order_by(col(LoanReferral.id))
        .execution_options(populate_existing=True)
    )
    return list(session.exec(statement).all())


_OfReferral = TypeVar("_OfReferral", ReportAccess, LoanOutcome)


def _rows_of(session: Session, model: type[_OfReferral], referral_ids: list[str]) -> list[_OfReferral]:
    """The rows of ``model`` that belong to these referrals, in id order."""
    if not referral_ids:
        return []
    statement = select(model).where(col(model.referral_id).in_(referral_ids)).order_by(col(model.id))
    return list(session.exec(statement).all())


def accesses_of(session: Session, referral_ids: list[str]) -> list[ReportAccess]:
    return _rows_of(session, ReportAccess, referral_ids)


def outcomes_of(session: Session, referral_ids: list[str]) -> list[LoanOutcome]:
    return _rows_of(session, LoanOutcome, referral_ids)


def report_of(session: Session, report_id: str) -> CreditReport:
    report = session.get(CreditReport, report_id)
    if report is None:
        raise NotFound("No credit report with this id.", code="credit_report_not_found")
    return report


def withdraw_consent(session: Session, actor: Principal, application: LoanApplication) -> Consent:
    return consents_service.withdraw(session, actor, consents_service.get(session, application.consent_id))


def consent_of(session: Session, consent_id: str) -> Consent:
    return consents_service.get(session, consent_id)


def enterprise_of(session: Session, application_id: str) -> tuple[LoanApplication, Enterprise]:
    application = session.get(LoanApplication, application_id)
    assert application is not None
    enterprise = session.get(Enterprise, application.enterprise_id)
    assert enterprise is not None
    return application, enterprise
