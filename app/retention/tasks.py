"""Scheduled: delete negative records past their retention (registered in ``app.worker``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session

from app.evidence.storage import EvidenceStore
from app.retention import service


@dataclass
class RetentionSummary:
    records: int = 0
    objections: int = 0
    repairs: int = 0
    files: int = 0


def delete_due(engine: Engine, store: EvidenceStore, today: date, batch_size: int = 500) -> RetentionSummary:
    total = RetentionSummary()
    while True:
        with Session(engine, expire_on_commit=False) as session:
            outcome = service.delete_due(session, today, batch_size)
            session.commit()
        for name in outcome.storage_names:  # only once the rows are gone for good
            store.delete(name)
        total.records += outcome.records
        total.objections += outcome.objections
        total.repairs += outcome.repairs
        total.files += len(outcome.storage_names)
        if outcome.records < batch_size:
            return total
