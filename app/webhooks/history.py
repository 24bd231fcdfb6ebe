"""What was sent: delivery logs with their attempts (a partner sees its own, an operator all), and an
operator's replay of a delivery, audited. Sending: :mod:`app.webhooks.delivery`."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound
from app.core.pagination import PageParams, fetch_page
from app.core.principal import Principal
from app.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.webhooks.service import audit


def get_delivery(session: Session, delivery_id: str, partner_id: str | None = None) -> WebhookDelivery:
    delivery = session.exec(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .execution_options(populate_existing=True)
    ).first()
    if delivery is None or (partner_id is not None and delivery.partner_id != partner_id):
        raise NotFound("No webhook delivery with this id.", code="webhook_delivery_not_found")
    return delivery


def attempts_of(session: Session, delivery_id: str) -> list[WebhookAttempt]:
    statement = (
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery_id)
        .order_by(col(WebhookAttempt.number))
        .execution_options(populate_existing=True)
    )
    return list(session.exec(statement).all())


def list_deliveries(
    session: Session,
    params: PageParams,
    *,
    partner_id: str | None = None,
    endpoint_id: str | None = None,
    status: DeliveryStatus | None = None,
    event_id: str | None = None,
) -> tuple[list[WebhookDelivery], bool]:
    statement = select(WebhookDelivery).execution_options(populate_existing=True)
    if partner_id is not None:
        statement = statement.where(WebhookDelivery.partner_id == partner_id)
    if endpoint_id is not None:
        statement = statement.where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status)
    if event_id is not None:
        statement = statement.where(WebhookDelivery.event_id == event_id)
    return fetch_page(session, statement, WebhookDelivery.id, params)


def replay(
    session: Session, actor: Principal, delivery_id: str, now: datetime | None = None
) -> WebhookDelivery:
    """Send a failed (or delivered) delivery again, with the same ``webhook-id`` and a fresh set of
    attempts. One that is still pending or in flight is left alone (409)."""
    delivery = get_delivery(session, delivery_id)
    if delivery.status not in (DeliveryStatus.failed, DeliveryStatus.succeeded):
        raise Conflict(
            "This delivery is still being attempted; replay it once it failed or succeeded.",
            code="delivery_in_progress",
            param="delivery_id",
        )
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.enabled:
        raise Conflict(
            "The endpoint of this delivery is disabled.",
            code="webhook_endpoint_disabled",
            param="delivery_id",
        )
    delivery.status = DeliveryStatus.pending
    delivery.cycle_attempts = 0
    delivery.replays += 1
    delivery.next_attempt_at = now or utcnow()
    delivery.failed_at = None
    delivery.lease_until = None
    session.add(delivery)
    session.flush()
    audit(
        session,
        actor,
        "webhook_delivery.replayed",
        {"delivery_id": delivery.id, "event_id": delivery.event_id, "partner_id": delivery.partner_id},
    )
    return delivery
