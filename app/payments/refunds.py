"""Refunds of money taken (a captured hold or a collection), by an operator, audited on the resident's
chain. A payment can be refunded in parts, never beyond what was taken."""

from __future__ import annotations

from sqlmodel import Session, select

from app.audit import service as audit_service
from app.core.clock import utcnow
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.principal import Principal
from app.payments.models import (
    PaymentRefund,
    PaymentStatus,
)
from app.payments.provider import (
    PaymentError,
    PaymentsProvider,
)
from app.payments.service import LEGAL_BASIS, as_app_error, lock_payment

_GROUNDS = audit_service.Grounds("refund of a rental payment", LEGAL_BASIS)


def refund(
    session: Session,
    provider: PaymentsProvider,
    actor: Principal,
    payment_id: str,
    amount_fen: int,
    reason: str,
) -> PaymentRefund:
    payment = lock_payment(session, payment_id)
    if payment is None:
        raise NotFound("No payment with this id.", code="payment_not_found", param="payment_id")
    taken = payment.captured_fen
    if payment.status not in {PaymentStatus.captured, PaymentStatus.succeeded} or taken <= 0:
        raise Conflict("Only money that was taken can be refunded.", code="payment_not_refundable")
    if amount_fen > taken - payment.refunded_fen:
        raise InvalidInput(
            f"amount_fen: at most {taken - payment.refunded_fen} fen is left to refund.",
            code="refund_too_large",
            param="amount_fen",
        )
    assert payment.provider_intent_id is not None
    count = len(session.exec(select(PaymentRefund.id).where(PaymentRefund.payment_id == payment.id)).all())
    try:
        done = provider.refund(
            payment.provider_intent_id,
            amount_fen=amount_fen,
            idempotency_key=f"xinyi-refund-{payment.id}-{count + 1}",
        )
    except PaymentError as exc:
        raise as_app_error(exc) from None
    row = PaymentRefund(
        payment_id=payment.id,
        amount_fen=amount_fen,
        status=done.status,
        provider_refund_id=done.id,
        reason=reason,
        created_by=f"{actor.type}:{actor.id}",
    )
    payment.refunded_fen += amount_fen
    payment.updated_at = utcnow()
    session.add(row)
    session.add(payment)
    session.flush()
    details = {"payment_id": payment.id, "refund_id": row.id, "amount_fen": amount_fen}
    _GROUNDS.record(session, actor, "payment.refunded", details, subject_id=payment.subject_id)
    return row
