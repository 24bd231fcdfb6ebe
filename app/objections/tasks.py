"""Scheduled: escalate objections not answered within 20 days (registered in ``app.worker``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from app.objections import service


def escalate_overdue(engine: Engine, now: datetime, batch_size: int = 500) -> int:
    total = 0
    while True:
        with Session(engine, expire_on_commit=False) as session:
            escalated = service.escalate_overdue(session, now, batch_size)
            session.commit()
        total += escalated
        if escalated < batch_size:
            return total
