"""Collections: what a resident owes after a default, charged to the saved card by the worker after the
commit that created it, tried again on a decline (:data:`COLLECTION_BACKOFF`), then left for an operator.
The crash-safety rules: :mod:`app.payments.service`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.errors import InvalidInput
from app.core.ids import new_id
from app.payments.models import (
    Payment,
    PaymentKind,
    PaymentStatus,
)
from app.payments.provider import (
    AuthenticationRequired,
    CardDeclined,
    IntentRequest,
    PaymentsProvider,
    ProviderConflict,
    ProviderUnavailable,
)
from app.payments.service import (
    FINAL_STATUSES,
    apply_intent,
    customer_of,
    payment_metadata,
    provider_name,
    touch,
)

log = structlog.get_logger("app.payments")


# Declined collections are tried again after these waits, then left for an operator.
COLLECTION_BACKOFF = (timedelta(hours=1), timedelta(hours=6), timedelta(hours=24))


MAX_COLLECTION_ATTEMPTS = len(COLLECTION_BACKOFF) + 1


def create_collection(
    session: Session, settings: Settings, *, subject_id: str, rental_id: str, amount_fen: int, now: datetime
) -> Payment:
    """Write the collection owed, to be attempted by :func:`attempt_collection` after the commit."""
    if amount_fen <= 0:
        raise InvalidInput(
            "A collection must be a positive amount.", code="invalid_amount", param="amount_fen"
        )
    payment_id = new_id("pay")
    payment = Payment(
        id=payment_id,
        kind=PaymentKind.collection,
        provider=provider_name(settings),
        subject_id=subject_id,
        rental_id=rental_id,
        amount_fen=amount_fen,
        currency=settings.payments_currency,
        status=PaymentStatus.pending,
        idempotency_key=f"xinyi-collect-{payment_id}-1",
        next_attempt_at=now,
    )
    session.add(payment)
    session.flush()
    return payment


def due_collections(session: Session, now: datetime, limit: int = 50) -> list[str]:
    statement = (
        select(col(Payment.id))
        .where(
            Payment.kind == PaymentKind.collection,
            col(Payment.status).in_([PaymentStatus.pending, PaymentStatus.failed]),
            col(Payment.next_attempt_at) <= now,
        )
        .order_by(col(Payment.next_attempt_at))
        .limit(limit)
    )
    return list(session.exec(statement).all())


def attempt_collection(
    session: Session, provider: PaymentsProvider, payment: Payment, now: datetime
) -> Payment:
    """One off-session charge attempt. A decline is retried later with backoff; authentication required
    becomes a collection task for the resident (``action_required``) and an operator; a provider outage
    keeps the same key for the next run. Never raises for the card's answer."""
    if payment.status in FINAL_STATUSES or payment.status == PaymentStatus.action_required:
        return payment
    customer = customer_of(session, payment.subject_id)
    if customer is None or customer.payment_method_id is None or customer.provider != provider.name:
        return _task(session, payment, "no_payment_method")
    attempt = payment.attempts + 1
    key = f"xinyi-collect-{payment.id}-{attempt}"
    payment.idempotency_key = key
    try:
        intent = provider.create_intent(
            IntentRequest(
                customer_id=customer.provider_customer_id,
                payment_method_id=customer.payment_method_id,
                amount_fen=payment.amount_fen,
                currency=payment.currency,
                metadata=payment_metadata(PaymentKind.collection, payment.id, payment.rental_id, None),
                idempotency_key=key,
                manual=False,
            )
        )
    except AuthenticationRequired as exc:
        payment.attempts = attempt
        if exc.intent is not None:
            payment.provider_intent_id = exc.intent.id
        return _task(session, payment, exc.code)
    except CardDeclined as exc:
        payment.attempts = attempt
        if exc.intent is not None:
            payment.provider_intent_id = exc.intent.id
        payment.status, payment.last_error_code = PaymentStatus.failed, exc.code[:64]
        payment.next_attempt_at = (
            now + COLLECTION_BACKOFF[attempt - 1] if attempt <= len(COLLECTION_BACKOFF) else None
        )
        return touch(session, payment)
    except ProviderUnavailable as exc:
        payment.last_error_code = exc.code
        payment.next_attempt_at = now + timedelta(minutes=5)
        return touch(session, payment)
    except ProviderConflict as exc:
        payment.attempts = attempt
        return _task(session, payment, exc.code)
    payment.attempts = attempt
    payment.last_error_code = None
    payment.next_attempt_at = None
    return apply_intent(session, payment, intent)


def _task(session: Session, payment: Payment, code: str) -> Payment:
    payment.status, payment.last_error_code, payment.next_attempt_at = (
        PaymentStatus.action_required,
        code[:64],
        None,
    )
    log.info("collection_needs_action", payment_id=payment.id, code=code)
    return touch(session, payment)


def cancel_collection(session: Session, payment: Payment) -> Payment:
    if payment.status in FINAL_STATUSES:
        return payment
    payment.status, payment.next_attempt_at = PaymentStatus.canceled, None
    return touch(session, payment)
