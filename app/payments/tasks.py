"""Payments work outside a request: leftover Stripe events, and the reconciliation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from app.core.config import Settings, get_settings
from app.payments import events, service
from app.payments import reconcile as reconciliation


def process_events(engine: Engine, settings: Settings) -> int:
    """Events stored but not yet processed (the after-response attempt failed or the process stopped)."""
    return events.process_pending(
        events.default_session_factory(engine), lambda session: service.provider_for(settings, session)
    )


def reconcile(
    engine: Engine, settings: Settings, now: datetime, lookback: timedelta = timedelta(hours=48)
) -> reconciliation.ReconcileReport:
    with Session(engine, expire_on_commit=False) as session:
        report = reconciliation.reconcile(
            session, service.provider_for(settings, session), now=now, lookback=lookback
        )
        session.commit()
    return report


# (name, interval, run(engine, now)) for app.worker.
JOBS: tuple[tuple[str, timedelta, Callable[[Engine, datetime], Any]], ...] = (
    (
        "payments.process_events",
        timedelta(minutes=1),
        lambda engine, now: process_events(engine, get_settings()),
    ),
    ("payments.reconcile", timedelta(hours=1), lambda engine, now: reconcile(engine, get_settings(), now)),
)
