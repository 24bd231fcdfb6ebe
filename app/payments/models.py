"""Payments: a provider customer per resident, each payment the platform asks for (written before the
provider is called where the flow allows it), refunds, inbound Stripe events, and the embedded provider's
own ledger."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id


class PaymentKind(StrEnum):
    deposit_hold = "deposit_hold"  # a real deposit held on the card (capture_method=manual)
    collection = "collection"  # an off-session charge collecting a waived deposit after a default


class PaymentStatus(StrEnum):
    pending = "pending"  # written, not yet (or not known to be) at the provider
    held = "held"  # a hold is in place (provider: requires_capture)
    released = "released"  # the hold was cancelled; nothing taken
    captured = "captured"  # (part of) the hold was taken
    succeeded = "succeeded"  # a collection was charged
    action_required = "action_required"  # the bank wants the resident present: a collection task
    failed = "failed"  # declined; a collection is retried with backoff until its attempts run out
    canceled = "canceled"  # abandoned: nothing taken (e.g. a collection no longer owed)


OPEN_STATUSES = frozenset({PaymentStatus.pending, PaymentStatus.action_required, PaymentStatus.failed})


class PaymentCustomer(SQLModel, table=True):
    """The resident's customer at the provider and the payment method saved for off-session use."""

    __tablename__ = "payment_customers"

    id: str = Field(default_factory=lambda: new_id("pcu"), primary_key=True, max_length=32)
    subject_id: str = Field(foreign_key="subjects.id", unique=True, max_length=32)
    provider: str = Field(max_length=16)
    provider_customer_id: str = Field(unique=True, max_length=255)
    payment_method_id: str | None = Field(default=None, max_length=255)
    payment_method_label: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Payment(SQLModel, table=True):
    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_payments_subject_id_id", "subject_id", "id"),
    )

    id: str = Field(default_factory=lambda: new_id("pay"), primary_key=True, max_length=32)
    kind: PaymentKind = Field(sa_type=String(16))
    provider: str = Field(max_length=16)
    subject_id: str = Field(foreign_key="subjects.id", max_length=32)
    rental_id: str | None = Field(default=None, index=True, max_length=32)
    amount_fen: int
    currency: str = Field(max_length=3)
    status: PaymentStatus = Field(default=PaymentStatus.pending, sa_type=String(16))
    provider_intent_id: str | None = Field(default=None, unique=True, max_length=255)
    idempotency_key: str = Field(max_length=255)  # of the current attempt at the provider
    captured_fen: int = 0
    refunded_fen: int = 0
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error_code: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaymentRefund(SQLModel, table=True):
    __tablename__ = "payment_refunds"

    id: str = Field(default_factory=lambda: new_id("rfd"), primary_key=True, max_length=32)
    payment_id: str = Field(foreign_key="payments.id", index=True, max_length=32)
    amount_fen: int
    status: str = Field(max_length=32)
    provider_refund_id: str = Field(unique=True, max_length=255)
    reason: str = Field(max_length=500)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StripeEvent(SQLModel, table=True):
    """An inbound Stripe webhook, stored once per event id and processed after the commit."""

    __tablename__ = "stripe_events"
    __table_args__ = (Index("ix_stripe_events_processed_at_received_at", "processed_at", "received_at"),)

    id: str = Field(primary_key=True, max_length=255)  # Stripe's evt_…
    type: str = Field(max_length=100)
    payload: dict[str, Any] = Field(sa_type=JSON)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=200)


class LocalPaymentObject(SQLModel, table=True):
    """The embedded provider's ledger: customers, setups, payment methods, intents and refunds it made."""

    __tablename__ = "local_payment_objects"

    id: str = Field(primary_key=True, max_length=64)
    object_type: str = Field(
        max_length=32
    )  # customer | setup_intent | payment_method | payment_intent | refund
    customer_id: str | None = Field(default=None, max_length=64)
    payment_method_id: str | None = Field(default=None, max_length=64)
    intent_id: str | None = Field(default=None, max_length=64)  # refunds: the refunded intent
    status: str = Field(max_length=32)
    amount_fen: int = 0
    amount_capturable_fen: int = 0
    amount_received_fen: int = 0
    capture_method: str | None = Field(default=None, max_length=16)
    currency: str | None = Field(default=None, max_length=3)
    meta: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    idempotency_key: str | None = Field(default=None, unique=True, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
