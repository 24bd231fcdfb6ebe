"""Banks: 信易贷 referrals (and the enterprise's report while its consent holds), decisions, repayment
outcomes, loan products."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from xinyi_partner.calls import Call, ListCall, answer, list_call
from xinyi_partner.models import CreditReport, DeclineReason, LoanOutcome, LoanProduct, Referral

REFERRALS = "/v1/partner/referrals"
PRODUCTS = "/v1/partner/loan-products"


def list_referrals(
    *,
    status: Literal["referred", "approved", "declined"] | None = None,
    limit: int = 100,
    starting_after: str | None = None,
) -> ListCall[Referral]:
    """Your referrals, newest first, every page (``limit`` is the page size)."""
    return list_call(REFERRALS, Referral, {"status": status}, limit, starting_after)


def get_referral(referral_id: str) -> Call[Referral]:
    return Call.get(f"{REFERRALS}/{referral_id}", answer(Referral))


def get_referral_report(referral_id: str) -> Call[CreditReport]:
    """The enterprise's credit report, only while its consent is valid: else :class:`PermissionDeniedError`
    ``consent_withdrawn`` / ``consent_expired``. Each fetch is recorded in the enterprise's audit log."""
    return Call.get(f"{REFERRALS}/{referral_id}/report", answer(CreditReport))


def approve_referral(
    referral_id: str,
    *,
    amount_fen: int,
    annual_rate_bps: int,
    term_months: int,
    idempotency_key: str | None = None,
) -> Call[Referral]:
    """Approve once; the same decision again (a retry) changes nothing, another one is ``409``."""
    body = {
        "decision": "approved",
        "amount_fen": amount_fen,
        "annual_rate_bps": annual_rate_bps,
        "term_months": term_months,
    }
    return Call.post(f"{REFERRALS}/{referral_id}/decision", answer(Referral), body, idempotency_key)


def decline_referral(
    referral_id: str, *, reason: DeclineReason, idempotency_key: str | None = None
) -> Call[Referral]:
    """Decline with one of the documented reason codes (the enterprise sees its label)."""
    body = {"decision": "declined", "reason": reason}
    return Call.post(f"{REFERRALS}/{referral_id}/decision", answer(Referral), body, idempotency_key)


def report_outcome(
    referral_id: str,
    *,
    kind: Literal["on_time", "overdue", "settled"],
    occurred_on: date,
    reference: str,
    days_overdue: int | None = None,
    idempotency_key: str | None = None,
) -> Call[LoanOutcome]:
    """A repayment outcome of an approved loan: it becomes a behaviour record and moves the score at once.
    ``reference`` is your own id of the report (``days_overdue`` for ``overdue``)."""
    body = {
        "kind": kind,
        "occurred_on": occurred_on.isoformat(),
        "days_overdue": days_overdue,
        "reference": reference,
    }
    return Call.post(f"{REFERRALS}/{referral_id}/outcomes", answer(LoanOutcome), body, idempotency_key)


def list_loan_products(*, limit: int = 100, starting_after: str | None = None) -> ListCall[LoanProduct]:
    """Your products, active or not, newest first."""
    return list_call(PRODUCTS, LoanProduct, {}, limit, starting_after)


def create_loan_product(
    *,
    name: str,
    min_level: str,
    min_amount_fen: int,
    max_amount_fen: int,
    min_term_months: int,
    max_term_months: int,
    min_rate_bps: int,
    max_rate_bps: int,
    description: str | None = None,
    industries: list[str] | None = None,
    regions: list[str] | None = None,
    active: bool = True,
    idempotency_key: str | None = None,
) -> Call[LoanProduct]:
    """Publish a product: enterprises whose level, amount, term and industry match are referred to you."""
    body = {
        "name": name,
        "description": description,
        "min_level": min_level,
        "min_amount_fen": min_amount_fen,
        "max_amount_fen": max_amount_fen,
        "min_term_months": min_term_months,
        "max_term_months": max_term_months,
        "min_rate_bps": min_rate_bps,
        "max_rate_bps": max_rate_bps,
        "industries": industries or [],
        "regions": regions or [],
        "active": active,
    }
    return Call.post(PRODUCTS, answer(LoanProduct), body, idempotency_key)


def update_loan_product(product_id: str, **changes: Any) -> Call[LoanProduct]:
    """Change the fields given (``active=False`` withdraws it from matching)."""
    return Call("PATCH", f"{PRODUCTS}/{product_id}", answer(LoanProduct), changes)
