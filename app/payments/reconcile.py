"""Reconciliation: holds at the provider that no committed rental points to (a crash between the hold and
the commit of the request that placed it), found by their metadata and released once their verification
can no longer open a rental (:mod:`app.payments.service`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlmodel import Session

from app.payments.models import (
    Payment,
    PaymentStatus,
)
from app.payments.provider import (
    PaymentsProvider,
    ProviderIntent,
)
from app.payments.service import apply_intent
from app.verifications.models import Verification

log = structlog.get_logger("app.payments")


@dataclass
class ReconcileReport:
    examined: int = 0
    orphan_holds_released: list[str] = field(default_factory=list)
    orphan_charges_refunded: list[str] = field(default_factory=list)
    rows_synced: list[str] = field(default_factory=list)
    holds_released_again: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # orphans whose verification may still open a rental


def reconcile(
    session: Session,
    provider: PaymentsProvider,
    *,
    now: datetime,
    lookback: timedelta,
) -> ReconcileReport:
    """Compare the provider's intents of the last ``lookback`` with our rows and settle the difference:

    - a hold no committed payment row points to (a crash between the provider call and the commit) is
      released once its verification has expired (a retried open can no longer claim it);
    - a charge no row points to is refunded (it cannot happen with rows written first; checked anyway);
    - a row whose provider state moved without us (a lost response, a missed webhook) is brought up to
      date; a hold we released but the provider still holds is released again.

    Safe to run at any time and as often as wanted: each action carries an idempotency key from our ids.
    """
    report = ReconcileReport()
    for intent in provider.list_intents(created_after=int((now - lookback).timestamp())):
        kind = intent.metadata.get("xinyi_kind")
        payment_id = intent.metadata.get("xinyi_payment")
        if kind is None or payment_id is None:
            continue  # not ours
        report.examined += 1
        payment = session.get(Payment, payment_id)
        if payment is None:
            _settle_orphan(session, provider, intent, payment_id, report, now)
            continue
        if payment.provider_intent_id not in (None, intent.id):
            continue  # an earlier attempt's intent (a declined collection); its row moved on
        if payment.status == PaymentStatus.released and intent.status == "requires_capture":
            provider.cancel(intent.id, idempotency_key=f"xinyi-release-{payment.id}")
            report.holds_released_again.append(payment.id)
            continue
        before = (payment.status, payment.captured_fen, payment.provider_intent_id)
        apply_intent(session, payment, intent)
        if (payment.status, payment.captured_fen, payment.provider_intent_id) != before:
            report.rows_synced.append(payment.id)
    return report


def _settle_orphan(
    session: Session,
    provider: PaymentsProvider,
    intent: ProviderIntent,
    payment_id: str,
    report: ReconcileReport,
    now: datetime,
) -> None:
    if intent.status == "succeeded":
        provider.refund(
            intent.id,
            amount_fen=intent.amount_received_fen,
            idempotency_key=f"xinyi-orphan-refund-{payment_id}",
        )
        report.orphan_charges_refunded.append(intent.id)
        return
    if intent.status == "canceled":
        return
    verification_id = intent.metadata.get("xinyi_verification")
    verification = session.get(Verification, verification_id) if verification_id else None
    if verification is not None and now < verification.expires_at:
        report.waiting.append(intent.id)
        return
    provider.cancel(intent.id, idempotency_key=f"xinyi-orphan-release-{payment_id}")
    report.orphan_holds_released.append(intent.id)
    log.warning("orphan_hold_released", intent_id=intent.id, payment_id=payment_id)
