"""Scheduled: lapse applications whose record left publicity, escalate those past 3 working days."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from app.core.clock import business_date
from app.repairs import service


def sweep_pending(engine: Engine, now: datetime, batch_size: int = 500) -> tuple[int, int]:
    lapsed = escalated = 0
    after: str | None = None
    while True:
        with Session(engine, expire_on_commit=False) as session:
            outcome = service.sweep_pending(session, business_date(now), now, after=after, limit=batch_size)
            session.commit()
        lapsed += outcome.lapsed
        escalated += outcome.escalated
        if outcome.seen < batch_size:
            return lapsed, escalated
        after = outcome.last_id
