from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class PaymentMethodOut(BaseModel):
    object: Literal["payment_method"] = "payment_method"
    provider: str = Field(description="stripe, or local (the embedded provider of a development run)")
    saved: bool
    label: str | None = Field(description="Card brand and last four digits, e.g. 'visa •••• 4242'.")


class PaymentSetupOut(BaseModel):
    id: str = Field(description="The provider's setup id (Stripe: seti_…).")
    object: Literal["payment_setup"] = "payment_setup"
    provider: str
    status: str = Field(description="succeeded, or requires_payment_method until the card is confirmed.")
    client_secret: str | None = Field(
        description="For Stripe.js confirmCardSetup in the app; null with the embedded provider."
    )
    payment_method_label: str | None


class PaymentOut(BaseModel):
    id: str
    object: Literal["payment"] = "payment"
    kind: str
    provider: str
    subject_id: str
    rental_id: str | None
    amount_fen: int
    currency: str
    status: str
    provider_intent_id: str | None
    captured_fen: int
    refunded_fen: int
    attempts: int
    next_attempt_at: datetime | None
    last_error_code: str | None
    created_at: datetime
    updated_at: datetime


class RefundIn(BaseModel):
    amount_fen: int = Field(gt=0, le=100_000_000_00, description="In fen; at most what is left to refund.")
    reason: str = Field(min_length=1, max_length=500)


class RefundOut(BaseModel):
    id: str
    object: Literal["refund"] = "refund"
    payment_id: str
    amount_fen: int
    status: str
    provider_refund_id: str
    reason: str
    created_at: datetime


class WebhookAck(BaseModel):
    received: bool = True
    duplicate: bool = Field(description="True when this event id was received before; nothing was redone.")
