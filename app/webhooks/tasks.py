"""The worker's job: deliver due webhooks (``xinyi worker`` runs it every second); and the outbox's
backlog, which ``/metrics`` shows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select

from app.core.config import get_settings
from app.core.security import Crypto
from app.webhooks.delivery import DeliverySummary, RetryPolicy, deliver_due
from app.webhooks.models import DeliveryStatus, WebhookDelivery

_WAITING = (DeliveryStatus.pending, DeliveryStatus.delivering)


def deliver(engine: Engine, _now: datetime) -> DeliverySummary:
    settings = get_settings()
    return deliver_due(
        engine,
        Crypto(settings).cipher,
        RetryPolicy.from_settings(settings),
        allow_private=settings.webhooks_may_target_private_urls,
    )


def outbox_backlog(engine: Engine, now: datetime) -> tuple[int, float]:
    """Deliveries waiting to be sent or retried, and the age in seconds of the oldest (0 when none)."""
    table = WebhookDelivery.__table__  # type: ignore[attr-defined]
    statement = select(func.count(), func.min(table.c.created_at)).where(table.c.status.in_(_WAITING))
    with engine.connect() as connection:
        depth, oldest = connection.execute(statement).one()
    if oldest is None:
        return 0, 0.0
    if oldest.tzinfo is None:  # SQLite hands back naive UTC from an aggregate (no column type on min())
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return int(depth), max(0.0, (now - oldest).total_seconds())
