"""信易贷 responses, and the bank's calls as the partner's key (``/v1/partner/…``) and its members
(``/v1/partners/{id}/…``, app.members.consoles) both make them: one service call each."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.consents import service as consents_service
from app.consents.models import Consent
from app.core.pagination import Page, PageParams, page_of
from app.core.principal import Principal
from app.core.security import Crypto
from app.loans import referrals, service
from app.loans.catalog import APPLICATION_REASONS, DECLINE_REASONS, MATCH_REASONS, labels
from app.loans.models import LoanApplication, LoanProduct, LoanReferral, ReferralStatus
from app.loans.schemas import (
    ApplicationOut,
    BankMatchOut,
    BankRef,
    BankReferralOut,
    ConsentSummary,
    EnterpriseRef,
    EnterpriseReferralOut,
    Labels,
    LoanDecisionIn,
    LoanDecisionOut,
    LoanReasonOut,
    OutcomeIn,
    OutcomeOut,
    ProductOut,
    ReportAccessOut,
    ReportOut,
)
from app.partners import service as partners_service
from app.scenarios import service as scenarios_service

# What the enterprise asked for: shown to it with its application and to each bank it was referred to.
_TERMS_ASKED = {"amount_fen", "term_months", "purpose", "industry", "region"}


def _bank(session: Session, bank_id: str) -> BankRef:
    partner = partners_service.get_partner(session, bank_id)
    return BankRef(id=partner.id, name=partner.name)


def product_out(session: Session, product: LoanProduct) -> ProductOut:
    return ProductOut(bank=_bank(session, product.partner_id), **product.model_dump(exclude={"partner_id"}))


def _reason(code: str) -> LoanReasonOut:
    table = (
        MATCH_REASONS
        if code in MATCH_REASONS
        else APPLICATION_REASONS
        if code in APPLICATION_REASONS
        else DECLINE_REASONS
        if code in DECLINE_REASONS
        else None
    )
    found = labels(table, code) if table is not None else scenarios_service.reason_labels(code)
    return LoanReasonOut(code=code, labels=Labels(**found))


def _consent(consent: Consent) -> ConsentSummary:
    return ConsentSummary(
        id=consent.id,
        status=consents_service.status_of(consent),
        banks=list(consent.grantees),
        expires_at=consent.expires_at,
        withdrawn_at=consent.withdrawn_at,
    )


def _decision(referral: LoanReferral) -> LoanDecisionOut:
    return LoanDecisionOut(
        approved_amount_fen=referral.approved_amount_fen,
        annual_rate_bps=referral.approved_rate_bps,
        term_months=referral.approved_term_months,
        decline_reason=_reason(referral.decline_reason) if referral.decline_reason else None,
        decided_at=referral.decided_at,
    )


def _outcomes(session: Session, referral_ids: list[str]) -> dict[str, list[OutcomeOut]]:
    found: dict[str, list[OutcomeOut]] = {}
    for outcome in service.outcomes_of(session, referral_ids):
        found.setdefault(outcome.referral_id, []).append(
            OutcomeOut.model_validate(outcome, from_attributes=True)
        )
    return found


def application_out(session: Session, application: LoanApplication) -> ApplicationOut:
    referrals = service.referrals_of(session, application.id)
    ids = [r.id for r in referrals]
    accesses: dict[str, list[ReportAccessOut]] = {}
    for access in service.accesses_of(session, ids):
        accesses.setdefault(access.referral_id, []).append(
            ReportAccessOut(
                partner_id=access.partner_id, accessed_at=access.accessed_at, consent_id=access.consent_id
            )
        )
    outcomes = _outcomes(session, ids)
    report = service.report_of(session, application.report_id)
    return ApplicationOut(
        id=application.id,
        enterprise_id=application.enterprise_id,
        **application.model_dump(include=_TERMS_ASKED),
        status=application.status,
        reason=_reason(application.reason),
        report={
            "id": report.id,
            "score": report.score,
            "level": report.level,
            "generated_at": report.generated_at,
        },
        consent=_consent(service.consent_of(session, application.consent_id)),
        matches=[
            BankMatchOut(
                bank=_bank(session, m["partner_id"]),
                matched=m["matched"],
                product_ids=m["product_ids"],
                reasons=[_reason(code) for code in m["reasons"]],
            )
            for m in application.matches
        ],
        referrals=[
            EnterpriseReferralOut(
                id=r.id,
                bank=_bank(session, r.partner_id),
                product_id=r.product_id,
                status=r.status,
                decision=_decision(r),
                report_accesses=accesses.get(r.id, []),
                outcomes=outcomes.get(r.id, []),
                created_at=r.created_at,
            )
            for r in referrals
        ],
        created_at=application.created_at,
    )


def bank_referral_out(session: Session, referral: LoanReferral) -> BankReferralOut:
    application, enterprise = service.enterprise_of(session, referral.application_id)
    return BankReferralOut(
        id=referral.id,
        application_id=application.id,
        status=referral.status,
        enterprise=EnterpriseRef(name=enterprise.name, uscc=enterprise.uscc),
        **application.model_dump(include=_TERMS_ASKED),
        product_id=referral.product_id,
        product_ids=list(referral.product_ids),
        consent=_consent(service.consent_of(session, referral.consent_id)),
        decision=_decision(referral),
        outcomes=_outcomes(session, [referral.id]).get(referral.id, []),
        created_at=referral.created_at,
    )


# The bank's key (``/v1/partner/…``) and its members (``/v1/partners/{id}/…``, app.members.consoles) answer
# with these same functions: one service call each.


def referrals_page(
    session: Session, bank: Principal, page: PageParams, status: ReferralStatus | None
) -> Page[BankReferralOut]:
    return page_of(
        referrals.list_referrals(session, bank.id, page, status), lambda r: bank_referral_out(session, r)
    )


def referral_view(session: Session, bank: Principal, referral_id: str) -> BankReferralOut:
    return bank_referral_out(session, referrals.get_referral(session, bank.id, referral_id))


def report_view(session: Session, bank: Principal, referral_id: str) -> ReportOut:
    report, access = referrals.fetch_report(session, bank, referral_id)
    consent = service.consent_of(session, access.consent_id)
    return ReportOut(
        id=report.id,
        referral_id=referral_id,
        generated_at=report.generated_at,
        consent_expires_at=consent.expires_at,
        content=report.content,
    )


def decision_view(
    session: Session, bank: Principal, referral_id: str, body: LoanDecisionIn
) -> BankReferralOut:
    decision = referrals.Decision(
        body.decision, body.amount_fen, body.annual_rate_bps, body.term_months, body.reason
    )
    return bank_referral_out(session, referrals.decide(session, bank, referral_id, decision))


def outcome_view(
    session: Session, crypto: Crypto, bank: Principal, referral_id: str, body: OutcomeIn
) -> OutcomeOut:
    outcome = referrals.report_outcome(
        session,
        crypto,
        bank,
        referral_id,
        kind=body.kind,
        occurred_on=body.occurred_on,
        days_overdue=body.days_overdue,
        reference=body.reference,
    )
    return OutcomeOut.model_validate(outcome, from_attributes=True)


REPORT_REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "consent_withdrawn, consent_expired"},
    404: {"description": "referral_not_found"},
}
