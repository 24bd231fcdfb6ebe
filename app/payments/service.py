"""Payments: customers and saved methods, deposit holds, reading payments. Never commits. Collections,
refunds and reconciliation: :mod:`app.payments.collections`, :mod:`~app.payments.refunds`,
:mod:`~app.payments.reconcile`.

Crash safety. A call to the provider and the commit of our own rows are two steps; a crash can fall
between them. Two rules close that gap:

- every call that moves money carries an idempotency key derived from our own ids (a rental's hold from
  the rental id, which itself comes from the single-use verification; a collection attempt from the
  payment id and attempt number). A retry asks for the same effect and gets the first answer back;
- a collection's payment row is committed *before* the provider is called (``pending``); the worker
  attempts it after the commit and a crash leaves a pending row that the next run completes with the
  same key. A hold is placed inside the open request (the rental depends on it), so a crash after it
  leaves an orphan hold at the provider that no committed rental points to: :func:`reconcile` finds it by
  its metadata and releases it once its verification can no longer open a rental.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import structlog
from sqlmodel import Session, col, select

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.errors import AppError, Conflict, NotFound
from app.core.ids import new_id
from app.core.pagination import PageParams, fetch_page
from app.core.principal import Principal
from app.payments import local, stripe_provider
from app.payments.models import (
    Payment,
    PaymentCustomer,
    PaymentKind,
    PaymentStatus,
)
from app.payments.provider import (
    AuthenticationRequired,
    CardDeclined,
    IntentRequest,
    PaymentError,
    PaymentsProvider,
    ProviderConflict,
    ProviderIntent,
    ProviderSetup,
)

log = structlog.get_logger("app.payments")

FINAL_STATUSES = frozenset(
    {PaymentStatus.released, PaymentStatus.captured, PaymentStatus.succeeded, PaymentStatus.canceled}
)
# The ground of every payment, and of the rentals they pay for (app.rentals.service).
LEGAL_BASIS = "the resident's rental agreement (信易租服务协议)"


class PaymentRequired(AppError):
    status = 402
    code = "payment_failed"
    title = "Payment failed"


class PaymentsUnavailable(AppError):
    status = 503
    code = "payments_unavailable"
    title = "Payments unavailable"


# --- the provider ------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _stripe_client(key: str, base: str, retries: int) -> Any:
    # One client (and its connection pool) per configuration; the key is only an argument here.
    return stripe_provider.make_client(key, base, retries)


def provider_for(settings: Settings, session: Session) -> PaymentsProvider:
    """Stripe when a secret key is set; otherwise the embedded provider, in ``session``."""
    key = settings.stripe_secret_key.get_secret_value()
    if not key:
        return local.LocalProvider(session)
    client = _stripe_client(key, settings.stripe_api_base, settings.stripe_max_network_retries)
    return stripe_provider.StripeProvider(client)


def provider_name(settings: Settings) -> str:
    return stripe_provider.NAME if settings.stripe_secret_key.get_secret_value() else local.NAME


def as_app_error(exc: PaymentError) -> AppError:
    """What a caller of the API is told when the provider refuses (402) or cannot answer (503)."""
    if isinstance(exc, AuthenticationRequired):
        return PaymentRequired(
            "The card needs the resident to authenticate; ask them to update their payment method.",
            code="payment_authentication_required",
        )
    if isinstance(exc, CardDeclined):
        return PaymentRequired(f"The card was declined ({exc.code}).", code="card_declined")
    if isinstance(exc, ProviderConflict):
        return Conflict(
            "The payment provider refused this as a conflicting request.", code="payment_conflict"
        )
    return PaymentsUnavailable(
        "The payment provider could not be reached; retry.", headers={"Retry-After": "5"}
    )


# --- customers and saved methods -----------------------------------------------------------------------


def customer_of(session: Session, subject_id: str) -> PaymentCustomer | None:
    return session.exec(select(PaymentCustomer).where(PaymentCustomer.subject_id == subject_id)).first()


def ensure_customer(session: Session, provider: PaymentsProvider, subject_id: str) -> PaymentCustomer:
    customer = customer_of(session, subject_id)
    if customer is not None and customer.provider == provider.name:
        return customer
    provider_customer_id = provider.create_customer(
        subject_ref=subject_id, idempotency_key=f"xinyi-customer-{provider.name}-{subject_id}"
    )
    if customer is None:
        customer = PaymentCustomer(
            subject_id=subject_id, provider=provider.name, provider_customer_id=provider_customer_id
        )
    else:  # the deployment moved to another provider: the old saved method is not usable there
        customer.provider, customer.provider_customer_id = provider.name, provider_customer_id
        customer.payment_method_id = customer.payment_method_label = None
        customer.updated_at = utcnow()
    session.add(customer)
    session.flush()
    return customer


def start_setup(session: Session, provider: PaymentsProvider, resident: Principal) -> ProviderSetup:
    """Begin saving a card for off-session use. Stripe answers with a client secret for Stripe.js and
    tells us the result by webhook (``setup_intent.succeeded``); the embedded provider succeeds at once."""
    if resident.subject_id is None:
        raise Conflict("Bind your ID number first (PUT /v1/me/identity).", code="identity_required")
    customer = ensure_customer(session, provider, resident.subject_id)
    try:
        setup = provider.create_setup(
            customer_id=customer.provider_customer_id, idempotency_key=f"xinyi-setup-{new_id('set')}"
        )
    except PaymentError as exc:
        raise as_app_error(exc) from None
    if setup.status == "succeeded" and setup.payment_method_id:
        save_payment_method(session, provider, setup.customer_id, setup.payment_method_id)
    return setup


def save_payment_method(
    session: Session, provider: PaymentsProvider, provider_customer_id: str, payment_method_id: str
) -> PaymentCustomer | None:
    """Make this the resident's method for holds and collections, and retry collections that waited."""
    customer = session.exec(
        select(PaymentCustomer).where(PaymentCustomer.provider_customer_id == provider_customer_id)
    ).first()
    if customer is None:
        return None
    info = provider.describe_payment_method(payment_method_id)
    customer.payment_method_id, customer.payment_method_label = payment_method_id, info.label[:64]
    customer.updated_at = utcnow()
    session.add(customer)
    waiting = session.exec(
        select(Payment).where(
            Payment.subject_id == customer.subject_id,
            Payment.kind == PaymentKind.collection,
            col(Payment.status).in_([PaymentStatus.action_required, PaymentStatus.failed]),
        )
    ).all()
    for payment in waiting:  # a new card is a new chance: try again on the next collection run
        payment.status, payment.next_attempt_at = PaymentStatus.pending, utcnow()
        session.add(payment)
    session.flush()
    return customer


def require_method(session: Session, subject_id: str) -> PaymentCustomer:
    customer = customer_of(session, subject_id)
    if customer is None or customer.payment_method_id is None:
        raise Conflict(
            "The resident has no saved payment method; ask them to add one in the app first.",
            code="payment_method_required",
        )
    return customer


# --- deposit holds -------------------------------------------------------------------------------------


def hold_id_for(rental_id: str) -> str:
    return "pay_" + rental_id.split("_", 1)[1]


def place_hold(
    session: Session,
    provider: PaymentsProvider,
    settings: Settings,
    *,
    subject_id: str,
    rental_id: str,
    verification_id: str,
    amount_fen: int,
) -> Payment:
    """Authorise a real deposit on the saved method. Raises 402/503/409 problems; on any refusal nothing
    is written here."""
    customer = require_method(session, subject_id)
    if customer.provider != provider.name:
        raise Conflict("Ask the resident to save their payment method again.", code="payment_method_required")
    payment_id = hold_id_for(rental_id)
    key = f"xinyi-hold-{rental_id}"
    try:
        intent = provider.create_intent(
            IntentRequest(
                customer_id=customer.provider_customer_id,
                payment_method_id=str(customer.payment_method_id),
                amount_fen=amount_fen,
                currency=settings.payments_currency,
                metadata=payment_metadata(PaymentKind.deposit_hold, payment_id, rental_id, verification_id),
                idempotency_key=key,
                manual=True,
            )
        )
    except PaymentError as exc:
        raise as_app_error(exc) from None
    if intent.status != "requires_capture":
        raise PaymentRequired(f"The hold was not authorised ({intent.status}).", code="hold_not_authorised")
    payment = Payment(
        id=payment_id,
        kind=PaymentKind.deposit_hold,
        provider=provider.name,
        subject_id=subject_id,
        rental_id=rental_id,
        amount_fen=amount_fen,
        currency=settings.payments_currency,
        status=PaymentStatus.held,
        provider_intent_id=intent.id,
        idempotency_key=key,
        attempts=1,
    )
    session.add(payment)
    session.flush()
    return payment


def payment_metadata(
    kind: PaymentKind, payment_id: str, rental_id: str | None, verification_id: str | None
) -> dict[str, str]:
    data = {"xinyi_kind": kind.value, "xinyi_payment": payment_id}
    if rental_id:
        data["xinyi_rental"] = rental_id
    if verification_id:
        data["xinyi_verification"] = verification_id
    return data


def get_payment(session: Session, payment_id: str) -> Payment:
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise NotFound("No payment with this id.", code="payment_not_found", param="payment_id")
    return payment


def release_hold(session: Session, provider: PaymentsProvider, payment: Payment) -> Payment:
    """Cancel the hold: nothing is taken. Safe to call again."""
    if payment.status in FINAL_STATUSES:
        return payment
    assert payment.provider_intent_id is not None
    try:
        intent = provider.cancel(payment.provider_intent_id, idempotency_key=f"xinyi-release-{payment.id}")
    except PaymentError as exc:
        raise as_app_error(exc) from None
    return apply_intent(session, payment, intent)


def capture_hold(session: Session, provider: PaymentsProvider, payment: Payment, amount_fen: int) -> Payment:
    """Take ``amount_fen`` of the hold (the rest is released); zero releases it."""
    if payment.status in FINAL_STATUSES:
        return payment
    if amount_fen <= 0:
        return release_hold(session, provider, payment)
    assert payment.provider_intent_id is not None
    intent = provider.capture(
        payment.provider_intent_id, amount_fen=amount_fen, idempotency_key=f"xinyi-capture-{payment.id}"
    )
    return apply_intent(session, payment, intent)


def apply_intent(session: Session, payment: Payment, intent: ProviderIntent) -> Payment:
    """Bring our row to what the provider says, never from a final state back to an open one."""
    status = _status_from(payment.kind, intent)
    if status is not None and (payment.status not in FINAL_STATUSES or status in FINAL_STATUSES):
        payment.status = status
    if payment.provider_intent_id is None:
        payment.provider_intent_id = intent.id
    if intent.status == "succeeded":
        payment.captured_fen = intent.amount_received_fen
    payment.updated_at = utcnow()
    session.add(payment)
    session.flush()
    return payment


def _status_from(kind: str, intent: ProviderIntent) -> PaymentStatus | None:
    if intent.status == "requires_capture":
        return PaymentStatus.held
    if intent.status == "canceled":
        return PaymentStatus.released if kind == PaymentKind.deposit_hold else PaymentStatus.canceled
    if intent.status == "succeeded":
        return PaymentStatus.captured if kind == PaymentKind.deposit_hold else PaymentStatus.succeeded
    if intent.status == "requires_action":
        return PaymentStatus.action_required
    return None


# --- payments: reading, locking -------------------------------------------------------------------------------------------


def touch(session: Session, payment: Payment) -> Payment:
    payment.updated_at = utcnow()
    session.add(payment)
    session.flush()
    return payment


def payments_of_rental(session: Session, rental_id: str) -> list[Payment]:
    return list(
        session.exec(select(Payment).where(Payment.rental_id == rental_id).order_by(col(Payment.id))).all()
    )


def list_payments(
    session: Session, params: PageParams, *, status: str | None = None, kind: str | None = None
) -> tuple[list[Payment], bool]:
    statement = select(Payment)
    if status is not None:
        statement = statement.where(Payment.status == status)
    if kind is not None:
        statement = statement.where(Payment.kind == kind)
    return fetch_page(session, statement, Payment.id, params)


def lock_payment(session: Session, payment_id: str) -> Payment | None:
    statement = select(Payment).where(Payment.id == payment_id).with_for_update()
    return session.exec(statement.execution_options(populate_existing=True)).first()
