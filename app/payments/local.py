"""The embedded payments provider: used when no Stripe key is set.

It behaves like a card processor whose every card works: a setup saves a method at once, a hold is
authorised, a capture takes it, an off-session charge succeeds. Everything it does is a row in
``local_payment_objects``, written in the caller's transaction (so on SQLite it never waits for a second
writer), which is what ``make run``'s demo shows as "the provider". It keeps the same idempotency rule
as Stripe: a create with a key it has seen returns the object it made then.
"""

from __future__ import annotations

import secrets

from sqlmodel import Session, col, select

from app.core.clock import utcnow
from app.payments.models import LocalPaymentObject
from app.payments.provider import (
    IntentRequest,
    PaymentMethodInfo,
    ProviderConflict,
    ProviderIntent,
    ProviderRefund,
    ProviderSetup,
)

NAME = "local"


def _local_id(prefix: str) -> str:
    return f"{prefix}_local_{secrets.token_hex(10)}"


def _intent(row: LocalPaymentObject) -> ProviderIntent:
    return ProviderIntent(
        id=row.id,
        status=row.status,
        amount_fen=row.amount_fen,
        amount_capturable_fen=row.amount_capturable_fen,
        amount_received_fen=row.amount_received_fen,
        capture_method=row.capture_method or "automatic",
        created=int(row.created_at.timestamp()),
        metadata={str(k): str(v) for k, v in row.meta.items()},
    )


class LocalProvider:
    name = NAME

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- helpers ---------------------------------------------------------------------------------------

    def _by_key(self, key: str, object_type: str) -> LocalPaymentObject | None:
        row = self.session.exec(
            select(LocalPaymentObject).where(LocalPaymentObject.idempotency_key == key)
        ).first()
        if row is not None and row.object_type != object_type:
            raise ProviderConflict(
                "idempotency_key_in_use", "This idempotency key was used for another call."
            )
        return row

    def _get(self, object_id: str, object_type: str) -> LocalPaymentObject:
        row = self.session.get(LocalPaymentObject, object_id)
        if row is None or row.object_type != object_type:
            raise ProviderConflict("resource_missing", f"No such {object_type}.")
        return row

    def _save(self, row: LocalPaymentObject) -> LocalPaymentObject:
        row.updated_at = utcnow()
        self.session.add(row)
        self.session.flush()
        return row

    # --- the interface ---------------------------------------------------------------------------------

    def create_customer(self, *, subject_ref: str, idempotency_key: str) -> str:
        existing = self._by_key(idempotency_key, "customer")
        if existing is not None:
            return existing.id
        row = LocalPaymentObject(
            id=_local_id("cus"),
            object_type="customer",
            status="active",
            meta={"xinyi_subject": subject_ref},
            idempotency_key=idempotency_key,
        )
        return self._save(row).id

    def create_setup(self, *, customer_id: str, idempotency_key: str) -> ProviderSetup:
        existing = self._by_key(idempotency_key, "setup_intent")
        if existing is None:
            method = self._save(
                LocalPaymentObject(
                    id=_local_id("pm"), object_type="payment_method", status="active", customer_id=customer_id
                )
            )
            existing = self._save(
                LocalPaymentObject(
                    id=_local_id("seti"),
                    object_type="setup_intent",
                    status="succeeded",  # every local card works without the cardholder's bank
                    customer_id=customer_id,
                    payment_method_id=method.id,
                    idempotency_key=idempotency_key,
                )
            )
        return self._setup(existing)

    def _setup(self, row: LocalPaymentObject) -> ProviderSetup:
        return ProviderSetup(
            id=row.id,
            status=row.status,
            client_secret=None,
            customer_id=row.customer_id or "",
            payment_method_id=row.payment_method_id,
        )

    def get_setup(self, setup_id: str) -> ProviderSetup:
        return self._setup(self._get(setup_id, "setup_intent"))

    def describe_payment_method(self, payment_method_id: str) -> PaymentMethodInfo:
        self._get(payment_method_id, "payment_method")
        return PaymentMethodInfo(payment_method_id, "local •••• 0000")

    def create_intent(self, request: IntentRequest) -> ProviderIntent:
        existing = self._by_key(request.idempotency_key, "payment_intent")
        if existing is not None:
            if existing.amount_fen != request.amount_fen or existing.customer_id != request.customer_id:
                raise ProviderConflict(
                    "idempotency_key_in_use", "This idempotency key was used with other parameters."
                )
            return _intent(existing)
        self._get(request.payment_method_id, "payment_method")
        manual, amount_fen = request.manual, request.amount_fen
        row = LocalPaymentObject(
            id=_local_id("pi"),
            object_type="payment_intent",
            customer_id=request.customer_id,
            payment_method_id=request.payment_method_id,
            status="requires_capture" if manual else "succeeded",
            amount_fen=amount_fen,
            amount_capturable_fen=amount_fen if manual else 0,
            amount_received_fen=0 if manual else amount_fen,
            capture_method="manual" if manual else "automatic",
            currency=request.currency,
            meta=dict(request.metadata),
            idempotency_key=request.idempotency_key,
        )
        return _intent(self._save(row))

    def cancel(self, intent_id: str, *, idempotency_key: str) -> ProviderIntent:
        row = self._get(intent_id, "payment_intent")
        if row.status == "canceled":
            return _intent(row)
        if row.status == "succeeded":
            raise ProviderConflict(
                "payment_intent_unexpected_state", "A succeeded payment cannot be canceled."
            )
        row.status, row.amount_capturable_fen = "canceled", 0
        return _intent(self._save(row))

    def capture(self, intent_id: str, *, amount_fen: int, idempotency_key: str) -> ProviderIntent:
        row = self._get(intent_id, "payment_intent")
        if row.status == "succeeded":
            return _intent(row)
        if row.status != "requires_capture":
            raise ProviderConflict("payment_intent_unexpected_state", f"The payment is {row.status}.")
        if amount_fen > row.amount_capturable_fen:
            raise ProviderConflict("amount_too_large", "More than the hold.")
        row.status, row.amount_received_fen, row.amount_capturable_fen = "succeeded", amount_fen, 0
        return _intent(self._save(row))

    def refund(self, intent_id: str, *, amount_fen: int, idempotency_key: str) -> ProviderRefund:
        existing = self._by_key(idempotency_key, "refund")
        if existing is not None:
            return ProviderRefund(existing.id, existing.status, existing.amount_fen)
        intent = self._get(intent_id, "payment_intent")
        refunded = sum(
            row.amount_fen
            for row in self.session.exec(
                select(LocalPaymentObject).where(
                    LocalPaymentObject.object_type == "refund", LocalPaymentObject.intent_id == intent_id
                )
            ).all()
        )
        if intent.status != "succeeded" or refunded + amount_fen > intent.amount_received_fen:
            raise ProviderConflict("charge_already_refunded", "More than what is left to refund.")
        row = self._save(
            LocalPaymentObject(
                id=_local_id("re"),
                object_type="refund",
                intent_id=intent_id,
                status="succeeded",
                amount_fen=amount_fen,
                currency=intent.currency,
                idempotency_key=idempotency_key,
            )
        )
        return ProviderRefund(row.id, row.status, row.amount_fen)

    def get_intent(self, intent_id: str) -> ProviderIntent:
        return _intent(self._get(intent_id, "payment_intent"))

    def list_intents(self, *, created_after: int) -> list[ProviderIntent]:
        rows = self.session.exec(
            select(LocalPaymentObject)
            .where(LocalPaymentObject.object_type == "payment_intent")
            .order_by(col(LocalPaymentObject.created_at))
        ).all()
        return [_intent(row) for row in rows if int(row.created_at.timestamp()) >= created_after]
