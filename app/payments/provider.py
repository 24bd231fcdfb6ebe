"""The payments provider interface: what the platform asks of a card processor, and nothing more.

Two implementations: :class:`app.payments.stripe_provider.StripeProvider` on the official ``stripe`` SDK,
and :class:`app.payments.local.LocalProvider`, the embedded default when no Stripe key is set (holds and
charges are recorded in the platform's own database, so ``make run`` shows every flow).

Every call that moves money takes an ``idempotency_key`` derived from the platform's own ids (never
random): a retry after a crash, a timeout or a lost response asks for the same effect again and gets the
first answer back, so one rental never holds twice and one collection never charges twice.
Amounts are integer fen (the currency's smallest unit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

# Stripe's PaymentIntent statuses; the local provider uses the same words.
IntentStatus = Literal[
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "processing",
    "requires_capture",
    "canceled",
    "succeeded",
]


@dataclass(frozen=True)
class ProviderIntent:
    id: str
    status: str
    amount_fen: int
    amount_capturable_fen: int = 0
    amount_received_fen: int = 0
    capture_method: str = "automatic"
    created: int = 0  # epoch seconds at the provider
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IntentRequest:
    """An off-session payment on a saved method, as every provider is asked for one. ``manual``: a hold,
    ``amount_fen`` authorised without being taken (``capture_method=manual``); otherwise a charge."""

    customer_id: str
    payment_method_id: str
    amount_fen: int
    currency: str
    metadata: dict[str, str]
    idempotency_key: str
    manual: bool


@dataclass(frozen=True)
class ProviderSetup:
    id: str
    status: str
    client_secret: str | None
    customer_id: str
    payment_method_id: str | None = None


@dataclass(frozen=True)
class ProviderRefund:
    id: str
    status: str
    amount_fen: int


@dataclass(frozen=True)
class PaymentMethodInfo:
    id: str
    label: str  # "visa •••• 4242": brand and last four digits only


class PaymentError(Exception):
    """The provider refused or could not do what was asked. ``code`` is stable and safe to show."""

    def __init__(self, code: str, message: str, *, intent: ProviderIntent | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.intent = intent


class CardDeclined(PaymentError):
    """The card was refused (``card_declined``, ``insufficient_funds``, …)."""


class AuthenticationRequired(PaymentError):
    """The bank wants the cardholder present (3-D Secure) for an off-session payment."""


class ProviderUnavailable(PaymentError):
    """A network failure, a timeout or a 5xx: the outcome is unknown; the same call may be retried."""


class ProviderConflict(PaymentError):
    """The same idempotency key was sent with other parameters, or the object is in the wrong state."""


class InvalidSignature(Exception):
    """An inbound webhook whose signature, timestamp or body does not check out."""


class PaymentsProvider(Protocol):
    name: str

    def create_customer(self, *, subject_ref: str, idempotency_key: str) -> str:
        """A customer for one resident. ``subject_ref`` is an opaque platform id, never personal data."""
        ...

    def create_setup(self, *, customer_id: str, idempotency_key: str) -> ProviderSetup:
        """Start saving a payment method for later off-session use (Stripe: a SetupIntent)."""
        ...

    def get_setup(self, setup_id: str) -> ProviderSetup: ...

    def describe_payment_method(self, payment_method_id: str) -> PaymentMethodInfo: ...

    def create_intent(self, request: IntentRequest) -> ProviderIntent:
        """Use the saved method with the cardholder absent. A hold (``request.manual``) is authorised
        without being taken; a charge is taken at once, and raises :class:`CardDeclined` or
        :class:`AuthenticationRequired` (the intent is attached to the error)."""
        ...

    def cancel(self, intent_id: str, *, idempotency_key: str) -> ProviderIntent:
        """Release a hold (or abandon an intent that never succeeded)."""
        ...

    def capture(self, intent_id: str, *, amount_fen: int, idempotency_key: str) -> ProviderIntent:
        """Take ``amount_fen`` (at most the hold) of a hold; the rest is released."""
        ...

    def refund(self, intent_id: str, *, amount_fen: int, idempotency_key: str) -> ProviderRefund: ...

    def get_intent(self, intent_id: str) -> ProviderIntent: ...

    def list_intents(self, *, created_after: int) -> list[ProviderIntent]:
        """Every intent created at or after ``created_after`` (epoch seconds), for reconciliation."""
        ...
