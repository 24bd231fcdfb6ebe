"""Inbound Stripe webhooks: verified by the SDK against the raw body, stored once per event id, processed
after the commit (right after the response, and by the worker for anything left over).

Processing sets our rows to the state the event's object shows, so it is idempotent and order-tolerant
(a final state is never moved back to an open one); a replayed event id is stored once and never
processed twice.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import stripe
import structlog
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.db import unit_of_work
from app.core.errors import AppError
from app.payments import service
from app.payments.models import Payment, PaymentStatus, StripeEvent
from app.payments.provider import PaymentError, PaymentsProvider
from app.payments.stripe_provider import intent_from_stripe

log = structlog.get_logger("app.payments.events")
MAX_ATTEMPTS = 10


class WebhooksDisabled(AppError):
    status = 503
    code = "stripe_webhooks_disabled"
    title = "Stripe webhooks are not configured"


def verify(settings: Settings, payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event, if ``Stripe-Signature`` proves Stripe sent this very body recently; else a 400.
    With no webhook secret configured, every delivery is refused (503: Stripe keeps retrying until the
    secret is set, so nothing is lost)."""
    secret = settings.stripe_webhook_secret.get_secret_value()
    if not secret:
        raise WebhooksDisabled("No Stripe webhook secret is configured; deliveries are refused.")
    try:
        event = stripe.Webhook.construct_event(
            payload, signature, secret, tolerance=settings.stripe_webhook_tolerance_seconds
        )
    except stripe.SignatureVerificationError:
        raise AppError(
            "The Stripe-Signature header does not match this body, or is too old.",
            code="invalid_stripe_signature",
            param="Stripe-Signature",
        ) from None
    except ValueError:  # the signature matched but the body is not an event
        raise AppError("The body is not a Stripe event.", code="invalid_stripe_event") from None
    body: dict[str, Any] = event.to_dict()
    if not isinstance(body.get("id"), str) or not isinstance(body.get("type"), str):
        raise AppError("The body is not a Stripe event.", code="invalid_stripe_event")
    return body


def store(session: Session, event: dict[str, Any]) -> bool:
    """Insert the event once; False when its id was seen before (a replay or Stripe's retry)."""
    if session.get(StripeEvent, event["id"]) is not None:
        return False
    try:
        with session.begin_nested():
            session.execute(
                insert(StripeEvent),
                [
                    {
                        "id": event["id"],
                        "type": event["type"][:100],
                        "payload": event,
                        "received_at": utcnow(),
                        "attempts": 0,
                    }
                ],
            )
    except IntegrityError:  # the same event arrived twice at once: the other one stored it
        return False
    return True


def pending(session: Session, limit: int = 100) -> list[str]:
    statement = (
        select(col(StripeEvent.id))
        .where(col(StripeEvent.processed_at).is_(None), StripeEvent.attempts < MAX_ATTEMPTS)
        .order_by(col(StripeEvent.received_at))
        .limit(limit)
    )
    return list(session.exec(statement).all())


def process(session: Session, provider: PaymentsProvider, event_id: str, now: datetime | None = None) -> bool:
    """Apply one stored event (locked, so two workers never apply it twice). True when it was applied now."""
    row = session.exec(
        select(StripeEvent)
        .where(StripeEvent.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if row is None or row.processed_at is not None:
        return False
    row.attempts += 1
    try:
        with session.begin_nested():
            _apply(session, provider, row.type, row.payload.get("data", {}).get("object", {}))
    except PaymentError as exc:  # the provider could not describe something: try again later
        row.last_error = exc.code[:200]
        session.add(row)
        session.flush()
        return False
    row.processed_at = now or utcnow()
    row.last_error = None
    session.add(row)
    session.flush()
    return True


def process_pending(
    session_factory: Callable[[], AbstractContextManager[Session]],
    provider_factory: Callable[[Session], PaymentsProvider],
    limit: int = 100,
) -> int:
    """Each event in its own transaction, so one bad event does not hold up the rest."""
    with session_factory() as session:
        ids = pending(session, limit)
    done = 0
    for event_id in ids:
        try:
            with session_factory() as session:
                done += process(session, provider_factory(session), event_id)
        except Exception:
            log.exception("stripe_event_failed", event_id=event_id)
    return done


def _apply(session: Session, provider: PaymentsProvider, event_type: str, obj: dict[str, Any]) -> None:
    if event_type == "setup_intent.succeeded":
        customer, method = obj.get("customer"), obj.get("payment_method")
        if isinstance(customer, str) and isinstance(method, str):
            service.save_payment_method(session, provider, customer, method)
        return
    if event_type.startswith("payment_intent."):
        payment = _payment_for(session, obj)
        if payment is None:
            return  # not ours, or an orphan the reconciliation settles
        if event_type == "payment_intent.payment_failed":
            error = obj.get("last_payment_error") or {}
            if payment.kind == "collection" and payment.status not in {
                PaymentStatus.succeeded,
                PaymentStatus.canceled,
            }:
                payment.status = (
                    PaymentStatus.action_required
                    if error.get("code") == "authentication_required"
                    else PaymentStatus.failed
                )
                payment.last_error_code = str(error.get("decline_code") or error.get("code") or "failed")[:64]
                session.add(payment)
                session.flush()
            return
        service.apply_intent(session, payment, intent_from_stripe(obj))
        return
    if event_type == "charge.refunded":
        intent_id = obj.get("payment_intent")
        payment = session.exec(select(Payment).where(Payment.provider_intent_id == intent_id)).first()
        if payment is not None:
            payment.refunded_fen = max(payment.refunded_fen, int(obj.get("amount_refunded") or 0))
            session.add(payment)
            session.flush()
    # Every other type is acknowledged and ignored.


def _payment_for(session: Session, obj: dict[str, Any]) -> Payment | None:
    intent_id = obj.get("id")
    payment = session.exec(select(Payment).where(Payment.provider_intent_id == intent_id)).first()
    if payment is not None:
        return payment
    ours = (obj.get("metadata") or {}).get("xinyi_payment")
    if not isinstance(ours, str):
        return None
    payment = session.get(Payment, ours)
    # Only adopt the intent while the row has none yet (a lost response before we stored the id).
    if payment is not None and payment.provider_intent_id is None:
        payment.provider_intent_id = intent_id
        return payment
    return None


def default_session_factory(engine: Engine) -> Callable[[], AbstractContextManager[Session]]:
    return functools.partial(unit_of_work, engine)


__all__ = ["WebhooksDisabled", "pending", "process", "process_pending", "store", "verify"]
