from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, Field, StrictBool

from app.webhooks.models import AttemptOutcome, DeliveryStatus


class CreateEndpoint(BaseModel):
    url: AnyHttpUrl = Field(description="Where we POST events: https only.")
    description: str | None = Field(default=None, max_length=200)
    event_types: list[str] | None = Field(
        default=None, max_length=20, description="Only these types; leave out for every type."
    )


class UpdateEndpoint(BaseModel):
    url: AnyHttpUrl | None = None
    description: str | None = Field(default=None, max_length=200)
    event_types: list[str] | None = Field(default=None, max_length=20)
    enabled: StrictBool | None = None

    def changes(self) -> dict[str, Any]:
        """The fields sent; a null clears only the description (the others cannot be empty)."""
        sent = self.model_dump(exclude_unset=True)
        if sent.get("url") is not None:
            sent["url"] = str(self.url)
        return {k: v for k, v in sent.items() if v is not None or k == "description"}


class RotateSecret(BaseModel):
    grace_period_seconds: int = Field(
        default=24 * 3600,
        ge=0,
        le=7 * 24 * 3600,
        description="How long the old secret keeps signing beside the new one (a second signature).",
    )


class EndpointOut(BaseModel):
    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    url: str
    description: str | None
    event_types: list[str]
    enabled: bool
    previous_secret_expires_at: datetime | None = Field(
        description="Until then deliveries also carry a signature with the previous secret."
    )
    created_at: datetime
    updated_at: datetime


class EndpointWithSecret(EndpointOut):
    secret: str = Field(description="whsec_…: shown this once. Verify deliveries with it.")


class AttemptOut(BaseModel):
    number: int
    started_at: datetime
    finished_at: datetime | None
    outcome: AttemptOutcome
    status_code: int | None
    duration_ms: int | None
    error: str | None
    response_excerpt: str | None


class DeliveryOut(BaseModel):
    id: str
    object: Literal["webhook_delivery"] = "webhook_delivery"
    event_id: str = Field(description="The webhook-id header: the same on every attempt and replay.")
    event_type: str
    endpoint_id: str
    partner_id: str
    status: DeliveryStatus
    attempts: int
    cycle_attempts: int
    replays: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    succeeded_at: datetime | None
    failed_at: datetime | None
    created_at: datetime
    attempt_log: list[AttemptOut] | None = None
