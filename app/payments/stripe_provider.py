"""The Stripe implementation of the payments provider, on the official ``stripe`` SDK (``StripeClient``).

- a customer per resident (metadata: the platform's opaque subject id, nothing personal);
- a SetupIntent (``usage=off_session``) saves a payment method;
- a deposit hold is a PaymentIntent with ``capture_method=manual``, confirmed off-session on the saved
  method; it is cancelled on return and captured (in part) on a default;
- a waived-deposit default is collected with an off-session PaymentIntent; ``authentication_required``
  is raised as :class:`AuthenticationRequired` for the caller to turn into a collection task;
- refunds.

Each money-moving call sends an idempotency key derived from the platform's ids (``options``), so the SDK's
own retries and the platform's retries after a crash all land on one object. ``stripe_api_base`` points
the SDK at another base URL (the tests' local stand-in); nothing inside the SDK is patched.
The secret key is read from settings and never logged.
"""

from __future__ import annotations

from typing import Any, NoReturn, cast

import stripe

from app.payments.provider import (
    AuthenticationRequired,
    CardDeclined,
    IntentRequest,
    PaymentError,
    PaymentMethodInfo,
    ProviderConflict,
    ProviderIntent,
    ProviderRefund,
    ProviderSetup,
    ProviderUnavailable,
)

NAME = "stripe"


def make_client(secret_key: str, api_base: str = "", max_network_retries: int = 2) -> stripe.StripeClient:
    base: dict[str, str] = {}
    if api_base:
        base["api"] = api_base.rstrip("/")
    return stripe.StripeClient(
        secret_key, base_addresses=cast(Any, base), max_network_retries=max_network_retries
    )


def _plain(obj: Any) -> Any:
    """SDK objects are not dicts (since v13): read them as plain data."""
    return obj.to_dict() if isinstance(obj, stripe.StripeObject) else obj


def intent_from_stripe(obj: Any) -> ProviderIntent:
    obj = _plain(obj)
    metadata = obj.get("metadata") or {}
    return ProviderIntent(
        id=obj["id"],
        status=obj["status"],
        amount_fen=int(obj.get("amount") or 0),
        amount_capturable_fen=int(obj.get("amount_capturable") or 0),
        amount_received_fen=int(obj.get("amount_received") or 0),
        capture_method=str(obj.get("capture_method") or "automatic"),
        created=int(obj.get("created") or 0),
        metadata={str(k): str(v) for k, v in dict(metadata).items()},
    )


def _setup(obj: Any) -> ProviderSetup:
    obj = _plain(obj)
    method: Any = obj.get("payment_method")
    if not isinstance(method, str | None):  # expanded
        method = method["id"]
    customer: Any = obj.get("customer")
    if not isinstance(customer, str | None):
        customer = customer["id"]
    return ProviderSetup(
        id=obj["id"],
        status=obj["status"],
        client_secret=obj.get("client_secret"),
        customer_id=str(customer or ""),
        payment_method_id=method,
    )


def _raise(exc: stripe.StripeError) -> NoReturn:
    """Stripe's errors as the provider interface's. Messages are Stripe's, which never hold card data."""
    code = exc.code or type(exc).__name__
    if isinstance(exc, stripe.CardError):
        raw_intent = getattr(exc.error, "payment_intent", None) if exc.error is not None else None
        intent = intent_from_stripe(raw_intent) if raw_intent else None
        if code == "authentication_required":
            raise AuthenticationRequired(code, exc.user_message or "", intent=intent) from None
        decline = getattr(exc.error, "decline_code", None) if exc.error is not None else None
        raise CardDeclined(str(decline or code), exc.user_message or "", intent=intent) from None
    if isinstance(exc, stripe.IdempotencyError):
        raise ProviderConflict("idempotency_key_in_use", "The idempotency key was used otherwise.") from None
    if isinstance(exc, stripe.InvalidRequestError):
        raise ProviderConflict(code, exc.user_message or "invalid request") from None
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        raise ProviderUnavailable("provider_misconfigured", "The Stripe key was refused.") from None
    # APIConnectionError, RateLimitError, APIError (5xx): the outcome is unknown; retry with the same key.
    raise ProviderUnavailable("provider_unavailable", type(exc).__name__) from None


class StripeProvider:
    name = NAME

    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except stripe.StripeError as exc:
            _raise(exc)

    def create_customer(self, *, subject_ref: str, idempotency_key: str) -> str:
        customer = self._call(
            self.client.v1.customers.create,
            {"metadata": {"xinyi_subject": subject_ref}},
            {"idempotency_key": idempotency_key},
        )
        return str(customer["id"])

    def create_setup(self, *, customer_id: str, idempotency_key: str) -> ProviderSetup:
        setup = self._call(
            self.client.v1.setup_intents.create,
            {"customer": customer_id, "usage": "off_session", "payment_method_types": ["card"]},
            {"idempotency_key": idempotency_key},
        )
        return _setup(setup)

    def get_setup(self, setup_id: str) -> ProviderSetup:
        return _setup(self._call(self.client.v1.setup_intents.retrieve, setup_id))

    def describe_payment_method(self, payment_method_id: str) -> PaymentMethodInfo:
        method = _plain(self._call(self.client.v1.payment_methods.retrieve, payment_method_id))
        card = method.get("card") or {}
        brand, last4 = card.get("brand") or method.get("type") or "card", card.get("last4") or "????"
        return PaymentMethodInfo(payment_method_id, f"{brand} •••• {last4}")

    def create_intent(self, request: IntentRequest) -> ProviderIntent:
        params: dict[str, Any] = {
            "amount": request.amount_fen,
            "currency": request.currency,
            "customer": request.customer_id,
            "payment_method": request.payment_method_id,
            "payment_method_types": ["card"],
            "confirm": True,
            "off_session": True,
            "capture_method": "manual" if request.manual else "automatic",
            "metadata": request.metadata,
        }
        intent = self._call(
            self.client.v1.payment_intents.create, params, {"idempotency_key": request.idempotency_key}
        )
        return intent_from_stripe(intent)

    def cancel(self, intent_id: str, *, idempotency_key: str) -> ProviderIntent:
        try:
            intent = self.client.v1.payment_intents.cancel(
                intent_id, {}, {"idempotency_key": idempotency_key}
            )
        except stripe.InvalidRequestError as exc:
            # Already cancelled (by us after a lost response, or by Stripe after 7 days): that is the goal.
            return self._already(intent_id, "canceled", exc)
        return intent_from_stripe(intent)

    def capture(self, intent_id: str, *, amount_fen: int, idempotency_key: str) -> ProviderIntent:
        try:
            intent = self.client.v1.payment_intents.capture(
                intent_id, {"amount_to_capture": amount_fen}, {"idempotency_key": idempotency_key}
            )
        except stripe.InvalidRequestError as exc:
            return self._already(intent_id, "succeeded", exc)
        return intent_from_stripe(intent)

    def _already(self, intent_id: str, status: str, exc: stripe.InvalidRequestError) -> ProviderIntent:
        """A refused cancel or capture whose goal the intent has already reached (a lost response, Stripe's
        own doing) answers with the intent as it is; any other refusal is raised."""
        current = self.get_intent(intent_id)
        if current.status == status:
            return current
        _raise(exc)

    def refund(self, intent_id: str, *, amount_fen: int, idempotency_key: str) -> ProviderRefund:
        refund = self._call(
            self.client.v1.refunds.create,
            {"payment_intent": intent_id, "amount": amount_fen},
            {"idempotency_key": idempotency_key},
        )
        refund = _plain(refund)
        return ProviderRefund(str(refund["id"]), str(refund["status"]), int(refund["amount"]))

    def get_intent(self, intent_id: str) -> ProviderIntent:
        return intent_from_stripe(self._call(self.client.v1.payment_intents.retrieve, intent_id))

    def list_intents(self, *, created_after: int) -> list[ProviderIntent]:
        found: list[ProviderIntent] = []
        params: dict[str, Any] = {"created": {"gte": created_after}, "limit": 100}
        while True:
            page = self._call(self.client.v1.payment_intents.list, params)
            found.extend(intent_from_stripe(obj) for obj in page.data)
            if not page.has_more or not page.data:
                return found
            params["starting_after"] = page.data[-1]["id"]


__all__ = ["NAME", "PaymentError", "StripeProvider", "make_client"]
