"""信易贷, the bank's side: its referrals, the report fetch (only while the enterprise's consent is
valid), its decision, and the repayment outcomes it reports (which become records on the enterprise's
file). Applying and matching: :mod:`app.loans.service`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from app.consents import service as consents_service
from app.core.clock import business_date, utcnow
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.pagination import PageParams, fetch_page
from app.core.principal import Principal
from app.core.security import Crypto
from app.loans.catalog import DECLINE_REASONS
from app.loans.models import (
    CreditReport,
    LoanApplication,
    LoanOutcome,
    LoanReferral,
    OutcomeKind,
    ReferralStatus,
    ReportAccess,
)
from app.loans.service import (
    CONSENT_PURPOSE,
    DECISION_GROUNDS,
    MAX_RATE_BPS,
    MAX_TERM_MONTHS,
    REPORT_SCOPE,
    report_of,
)
from app.records import platform as platform_records
from app.records.catalog import Severity


def get_referral(session: Session, bank_id: str, referral_id: str, *, lock: bool = False) -> LoanReferral:
    """The bank's own referral; another bank's (or no) referral is 404, so ids reveal nothing."""
    statement = (
        select(LoanReferral).where(LoanReferral.id == referral_id).execution_options(populate_existing=True)
    )
    if lock:
        statement = statement.with_for_update()
    referral = session.exec(statement).first()
    if referral is None or referral.partner_id != bank_id:
        raise NotFound("No referral with this id.", code="referral_not_found", param="referral_id")
    return referral


def list_referrals(
    session: Session, bank_id: str, params: PageParams, status: ReferralStatus | None = None
) -> tuple[list[LoanReferral], bool]:
    statement = select(LoanReferral).where(LoanReferral.partner_id == bank_id)
    if status is not None:
        statement = statement.where(LoanReferral.status == status)
    return fetch_page(session, statement, LoanReferral.id, params)


def fetch_report(
    session: Session, bank: Principal, referral_id: str, now: datetime | None = None
) -> tuple[CreditReport, ReportAccess]:
    """The report of the bank's own referral, while the consent is valid: 403 ``consent_withdrawn`` or
    ``consent_expired`` otherwise, with nothing disclosed and nothing written. A fetch is audited on the
    subject's chain, naming the consent, and listed on the enterprise's application."""
    referral = get_referral(session, bank.id, referral_id)
    consent = consents_service.require_valid(
        session, referral.consent_id, bank.id, CONSENT_PURPOSE, REPORT_SCOPE, now=now
    )
    report = report_of(session, referral.report_id)
    entry = consents_service.record_disclosure(
        session,
        bank,
        consent,
        action="credit_report.disclosed",
        details={
            "referral_id": referral.id,
            "report_id": report.id,
            "application_id": referral.application_id,
        },
    )
    access = ReportAccess(
        referral_id=referral.id,
        partner_id=bank.id,
        report_id=report.id,
        consent_id=consent.id,
        audit_entry_id=entry.id,
        accessed_at=entry.created_at,
    )
    referral.report_fetches += 1
    session.add(access)
    session.add(referral)
    session.flush()
    return report, access


@dataclass(frozen=True)
class Decision:
    decision: str  # approved | declined
    amount_fen: int | None = None
    rate_bps: int | None = None
    term_months: int | None = None
    reason: str | None = None


def _same_decision(referral: LoanReferral, decision: Decision) -> bool:
    return (
        referral.status == decision.decision
        and referral.approved_amount_fen == decision.amount_fen
        and referral.approved_rate_bps == decision.rate_bps
        and referral.approved_term_months == decision.term_months
        and referral.decline_reason == decision.reason
    )


def decide(session: Session, bank: Principal, referral_id: str, decision: Decision) -> LoanReferral:
    """Approve (amount, rate, term) or decline (a reason code), once. The same decision again changes
    nothing; a different one is 409 ``referral_already_decided``."""
    referral = get_referral(session, bank.id, referral_id, lock=True)
    application = session.get(LoanApplication, referral.application_id)
    assert application is not None
    if decision.decision == ReferralStatus.approved:
        if decision.amount_fen is None or decision.rate_bps is None or decision.term_months is None:
            raise InvalidInput(
                "An approval states amount_fen, annual_rate_bps and term_months.",
                code="approval_terms_required",
                param="amount_fen",
            )
        if decision.reason is not None:
            raise InvalidInput("reason: only for a decline.", code="not_applicable", param="reason")
        if not 0 < decision.amount_fen <= application.amount_fen:
            raise InvalidInput(
                "amount_fen: more than 0 and at most the amount applied for.",
                code="invalid_approved_amount",
                param="amount_fen",
            )
        if not 0 < decision.rate_bps <= MAX_RATE_BPS:
            raise InvalidInput(
                f"annual_rate_bps: 1 to {MAX_RATE_BPS}.", code="invalid_rate", param="annual_rate_bps"
            )
        if not 0 < decision.term_months <= MAX_TERM_MONTHS:
            raise InvalidInput(
                f"term_months: 1 to {MAX_TERM_MONTHS}.", code="invalid_term", param="term_months"
            )
    else:
        if decision.reason not in DECLINE_REASONS:
            raise InvalidInput(
                f"reason: one of {', '.join(DECLINE_REASONS)}.", code="invalid_decline_reason", param="reason"
            )
        if (
            decision.amount_fen is not None
            or decision.rate_bps is not None
            or decision.term_months is not None
        ):
            raise InvalidInput("A decline has no terms.", code="not_applicable", param="amount_fen")
    if referral.status != ReferralStatus.referred:
        if _same_decision(referral, decision):
            return referral
        raise Conflict("This referral was already decided.", code="referral_already_decided")
    referral.status = ReferralStatus(decision.decision)
    referral.approved_amount_fen = decision.amount_fen
    referral.approved_rate_bps = decision.rate_bps
    referral.approved_term_months = decision.term_months
    referral.decline_reason = decision.reason
    referral.decided_at = utcnow()
    session.add(referral)
    session.flush()
    DECISION_GROUNDS.record(
        session,
        bank,
        "loan.referral_decided",
        {"referral_id": referral.id, "decision": decision.decision, "reason": decision.reason},
        subject_id=referral.subject_id,
    )
    return referral


_OUTCOME_RECORDS = {
    OutcomeKind.on_time: ("repaid", "信易贷贷款按期还款"),
    OutcomeKind.settled: ("repaid", "信易贷贷款结清"),
    OutcomeKind.overdue: ("overdue", "信易贷贷款逾期"),
}


def overdue_severity(days: int) -> Severity:
    """Up to 30 days minor, up to 90 general, beyond that serious (the five-tier loan classification
    calls a loan more than 90 days overdue substandard)."""
    if days <= 30:
        return Severity.minor
    return Severity.general if days <= 90 else Severity.serious


def report_outcome(
    session: Session,
    crypto: Crypto,
    bank: Principal,
    referral_id: str,
    *,
    kind: OutcomeKind,
    occurred_on: date,
    days_overdue: int | None,
    reference: str,
    today: date | None = None,
) -> LoanOutcome:
    """A repayment outcome of an approved loan becomes a platform-behaviour record and the enterprise is
    rescored in the same transaction. The same ``reference`` again returns the first report."""
    referral = get_referral(session, bank.id, referral_id, lock=True)
    today = today or business_date()
    existing = session.exec(
        select(LoanOutcome).where(LoanOutcome.referral_id == referral.id, LoanOutcome.reference == reference)
    ).first()
    if existing is not None:
        if (existing.kind, existing.occurred_on, existing.days_overdue) == (kind, occurred_on, days_overdue):
            return existing
        raise Conflict(
            "This reference was already used for another outcome.",
            code="outcome_reference_reused",
            param="reference",
        )
    if referral.status != ReferralStatus.approved or referral.decided_at is None:
        raise Conflict("Only an approved loan has repayment outcomes.", code="referral_not_approved")
    if occurred_on > today:
        raise InvalidInput(
            "occurred_on: must not be after today.", code="date_in_future", param="occurred_on"
        )
    if occurred_on < business_date(referral.decided_at):
        raise InvalidInput(
            "occurred_on: must not be before the loan was approved.",
            code="date_before_approval",
            param="occurred_on",
        )
    if kind == OutcomeKind.overdue:
        if days_overdue is None or days_overdue < 1:
            raise InvalidInput(
                "days_overdue: at least 1 for an overdue outcome.",
                code="days_overdue_required",
                param="days_overdue",
            )
    elif days_overdue is not None:
        raise InvalidInput(
            "days_overdue: only for an overdue outcome.", code="not_applicable", param="days_overdue"
        )
    outcome_code, title = _OUTCOME_RECORDS[kind]
    outcome = LoanOutcome(
        referral_id=referral.id,
        kind=kind,
        occurred_on=occurred_on,
        days_overdue=days_overdue,
        reference=reference,
        record_id="",
    )
    record = platform_records.write(
        session,
        crypto,
        bank,
        platform_records.PlatformRecord(
            source_record_id=outcome.id,
            subject_id=referral.subject_id,
            category="platform_loan",
            outcome=outcome_code,
            title=title if days_overdue is None else f"{title}{days_overdue}天",
            severity=overdue_severity(days_overdue).value if days_overdue is not None else None,
            legal_basis="信易贷合作银行报送的还款情况",
            decision_date=occurred_on,
            source=f"xinyidai:{bank.id}",
        ),
        today=today,
    )
    outcome.record_id = record.id
    session.add(outcome)
    session.flush()
    return outcome
