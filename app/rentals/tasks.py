"""Rental work outside a request, each unit in its own transaction (run by ``xinyi worker``):

- ``end_dispute_windows``: reported defaults whose window ended undisputed become defaults (negative
  record and rescore in one transaction, collection written);
- ``settle_defaults``: take the hold of each defaulted rental (idempotency key from the payment id, so a
  crash between the capture and the commit is repaired by the next run), then attempt due collections.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Engine
from sqlmodel import Session

from app.core.config import Settings, get_settings
from app.core.security import Crypto
from app.payments import collections as payment_collections
from app.payments import service as payments_service
from app.payments.provider import PaymentError
from app.rentals import defaults

log = structlog.get_logger("app.rentals.tasks")


def end_dispute_windows(engine: Engine, settings: Settings, now: datetime) -> int:
    crypto = Crypto(settings)
    with Session(engine) as session:
        due = defaults.due_defaults(session, now)
    done = 0
    for rental_id in due:
        with Session(engine, expire_on_commit=False) as session:
            if defaults.end_dispute_window(session, crypto, settings, rental_id, now) is not None:
                done += 1
            session.commit()
    return done


@dataclass
class SettleSummary:
    holds_captured: int = 0
    collections_attempted: int = 0
    failures: int = 0


def settle_defaults(engine: Engine, settings: Settings, now: datetime) -> SettleSummary:
    summary = SettleSummary()
    with Session(engine) as session:
        holds = defaults.holds_to_capture(session)
        collections = payment_collections.due_collections(session, now)
    for rental_id in holds:
        try:
            with Session(engine, expire_on_commit=False) as session:
                provider = payments_service.provider_for(settings, session)
                if defaults.capture_for_default(session, provider, rental_id) is not None:
                    summary.holds_captured += 1
                session.commit()
        except PaymentError as exc:  # unknown outcome: the next run asks again with the same key
            summary.failures += 1
            log.warning("hold_capture_failed", rental_id=rental_id, code=exc.code)
    for payment_id in collections:
        with Session(engine, expire_on_commit=False) as session:
            payment = payments_service.lock_payment(session, payment_id)
            if payment is not None:
                provider = payments_service.provider_for(settings, session)
                payment_collections.attempt_collection(session, provider, payment, now)
                summary.collections_attempted += 1
            session.commit()
    return summary


# (name, interval, run(engine, now)) for app.worker.
JOBS: tuple[tuple[str, timedelta, Callable[[Engine, datetime], Any]], ...] = (
    (
        "rentals.end_dispute_windows",
        timedelta(minutes=1),
        lambda engine, now: end_dispute_windows(engine, get_settings(), now),
    ),
    (
        "rentals.settle_defaults",
        timedelta(minutes=1),
        lambda engine, now: settle_defaults(engine, get_settings(), now),
    ),
)
