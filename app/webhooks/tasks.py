"""The worker's job: deliver due webhooks (``xinyi worker`` runs it every second)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from app.core.config import get_settings
from app.core.security import Crypto
from app.webhooks.delivery import DeliverySummary, RetryPolicy, deliver_due


def deliver(engine: Engine, _now: datetime) -> DeliverySummary:
    settings = get_settings()
    return deliver_due(
        engine,
        Crypto(settings).cipher,
        RetryPolicy.from_settings(settings),
        allow_private=settings.webhooks_may_target_private_urls,
    )
