"""Every partner kind: who the key is, and the webhook endpoints events are sent to."""

from __future__ import annotations

from typing import Any, Literal

from xinyi_partner.calls import Call, ListCall, answer, list_call
from xinyi_partner.models import PartnerInfo, WebhookDelivery, WebhookEndpoint, WebhookEndpointWithSecret

ENDPOINTS = "/v1/partner/webhook-endpoints"
DELIVERIES = "/v1/partner/webhook-deliveries"


def me() -> Call[PartnerInfo]:
    """Which partner and which key this is (a quick check that a key works)."""
    return Call.get("/v1/partner/me", answer(PartnerInfo))


def create_webhook_endpoint(
    url: str,
    *,
    description: str | None = None,
    event_types: list[str] | None = None,
    idempotency_key: str | None = None,
) -> Call[WebhookEndpointWithSecret]:
    """Register ``url`` (https) for events; the answer's ``secret`` (``whsec_…``) is shown this once."""
    body = {"url": url, "description": description, "event_types": event_types}
    return Call.post(ENDPOINTS, answer(WebhookEndpointWithSecret), body, idempotency_key)


def list_webhook_endpoints(
    *, limit: int = 100, starting_after: str | None = None
) -> ListCall[WebhookEndpoint]:
    return list_call(ENDPOINTS, WebhookEndpoint, {}, limit, starting_after)


def get_webhook_endpoint(endpoint_id: str) -> Call[WebhookEndpoint]:
    return Call.get(f"{ENDPOINTS}/{endpoint_id}", answer(WebhookEndpoint))


def update_webhook_endpoint(endpoint_id: str, **changes: Any) -> Call[WebhookEndpoint]:
    """Change ``url``, ``description``, ``event_types`` or ``enabled``."""
    return Call("PATCH", f"{ENDPOINTS}/{endpoint_id}", answer(WebhookEndpoint), changes)


def delete_webhook_endpoint(endpoint_id: str) -> Call[WebhookEndpoint]:
    """Disable the endpoint for good; its pending deliveries stop."""
    return Call("DELETE", f"{ENDPOINTS}/{endpoint_id}", answer(WebhookEndpoint))


def rotate_webhook_secret(
    endpoint_id: str, *, grace_period_seconds: int = 24 * 3600, idempotency_key: str | None = None
) -> Call[WebhookEndpointWithSecret]:
    """A new secret, shown once; the old one keeps signing beside it for ``grace_period_seconds``."""
    body = {"grace_period_seconds": grace_period_seconds}
    return Call.post(
        f"{ENDPOINTS}/{endpoint_id}/rotate-secret", answer(WebhookEndpointWithSecret), body, idempotency_key
    )


def list_webhook_deliveries(
    *,
    endpoint_id: str | None = None,
    status: Literal["pending", "delivering", "succeeded", "failed"] | None = None,
    limit: int = 100,
    starting_after: str | None = None,
) -> ListCall[WebhookDelivery]:
    """Your delivery log, newest first."""
    query = {"endpoint_id": endpoint_id, "status": status}
    return list_call(DELIVERIES, WebhookDelivery, query, limit, starting_after)


def get_webhook_delivery(delivery_id: str) -> Call[WebhookDelivery]:
    """One delivery with its ``attempt_log``."""
    return Call.get(f"{DELIVERIES}/{delivery_id}", answer(WebhookDelivery))
