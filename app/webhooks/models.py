"""Outbound webhooks: partners' endpoints (secrets sealed with the field cipher), the outbox of events,
one delivery per (event, endpoint), and the log of every attempt.

An event is written in the same transaction as the change it announces (a referral); the worker
delivers it afterwards. ``webhook_events.id`` is the Standard Webhooks ``webhook-id``: the same across
every attempt and replay, so receivers dedupe on it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id


class DeliveryStatus(StrEnum):
    pending = "pending"  # waiting for its next attempt (next_attempt_at)
    delivering = "delivering"  # claimed by a worker until lease_until
    succeeded = "succeeded"
    failed = "failed"  # the last attempt failed; an operator may replay it


class AttemptOutcome(StrEnum):
    in_progress = "in_progress"
    succeeded = "succeeded"
    http_error = "http_error"  # the receiver answered, not 2xx
    network_error = "network_error"  # no answer: refused, timeout, TLS
    interrupted = "interrupted"  # the worker stopped mid-attempt (its lease ran out)


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoints"

    id: str = Field(default_factory=lambda: new_id("whe"), primary_key=True, max_length=32)
    partner_id: str = Field(foreign_key="partners.id", index=True, max_length=32)
    url: str = Field(max_length=2000)
    description: str | None = Field(default=None, max_length=200)
    event_types: list[str] = Field(default_factory=list, sa_type=JSON)  # empty: every type
    enabled: bool = True
    # Deleted endpoints are kept for their delivery log, but no call can see or revive them.
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    secret_ciphertext: str = Field(max_length=200)
    secret_kid: str = Field(max_length=32)
    # After a rotation the old secret still signs (a second signature) until previous_expires_at.
    previous_secret_ciphertext: str | None = Field(default=None, max_length=200)
    previous_secret_kid: str | None = Field(default=None, max_length=32)
    previous_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookEvent(SQLModel, table=True):
    """The outbox. ``body`` is the exact JSON sent, fixed when the event is written."""

    __tablename__ = "webhook_events"

    id: str = Field(default_factory=lambda: new_id("msg"), primary_key=True, max_length=32)
    partner_id: str = Field(foreign_key="partners.id", index=True, max_length=32)
    type: str = Field(max_length=64)
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),)

    id: str = Field(default_factory=lambda: new_id("whd"), primary_key=True, max_length=32)
    event_id: str = Field(foreign_key="webhook_events.id", index=True, max_length=32)
    endpoint_id: str = Field(foreign_key="webhook_endpoints.id", index=True, max_length=32)
    partner_id: str = Field(max_length=32)
    event_type: str = Field(max_length=64)
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, sa_type=String(16))
    attempts: int = 0  # every attempt ever made
    cycle_attempts: int = 0  # attempts since it was created or last replayed (limited)
    replays: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=300)
    succeeded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempts"

    id: str = Field(default_factory=lambda: new_id("wha"), primary_key=True, max_length=32)
    delivery_id: str = Field(foreign_key="webhook_deliveries.id", index=True, max_length=32)
    number: int
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: AttemptOutcome = Field(default=AttemptOutcome.in_progress, sa_type=String(16))
    status_code: int | None = None
    duration_ms: int | None = None
    error: str | None = Field(default=None, max_length=300)
    response_excerpt: str | None = Field(default=None, max_length=500)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
