"""The scheduled worker: runs registered periodic jobs (``xinyi worker``).

Deliberately small: a job is a name, an interval and a function of (engine, now). :meth:`Worker.run_once`
runs every job that is due and returns their names, which is what tests drive; :meth:`Worker.run_forever`
calls it every ``tick_seconds`` until stopped. Jobs must be idempotent: several workers may run the same
job, and a failed job is simply tried again on the next tick (the failure is logged, the others still run).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Engine

from app.audit import tasks as audit_tasks
from app.core.clock import business_date, utcnow
from app.core.config import get_settings
from app.evidence import service as evidence_service
from app.objections import tasks as objections_tasks
from app.payments import tasks as payments_tasks
from app.records import tasks as records_tasks
from app.rentals import tasks as rentals_tasks
from app.repairs import tasks as repairs_tasks
from app.retention import tasks as retention_tasks
from app.webhooks import tasks as webhooks_tasks

log = structlog.get_logger("app.worker")


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[Engine, datetime], Any]


def _expire_records(engine: Engine, now: datetime) -> records_tasks.ExpirySummary:
    return records_tasks.expire(engine, business_date(now))


def _delete_past_retention(engine: Engine, now: datetime) -> retention_tasks.RetentionSummary:
    store = evidence_service.store_for(get_settings())
    return retention_tasks.delete_due(engine, store, business_date(now))


def _sweep_evidence(engine: Engine, now: datetime) -> tuple[int, int]:
    return evidence_service.sweep(engine, evidence_service.store_for(get_settings()), now)


JOBS: tuple[Job, ...] = (
    Job("records.expire", timedelta(hours=1), _expire_records),
    Job("objections.escalate_overdue", timedelta(hours=1), objections_tasks.escalate_overdue),
    Job("repairs.sweep_pending", timedelta(hours=1), repairs_tasks.sweep_pending),
    Job("records.delete_past_retention", timedelta(hours=6), _delete_past_retention),
    Job("evidence.sweep", timedelta(hours=6), _sweep_evidence),
    Job("audit.checkpoint", timedelta(hours=1), audit_tasks.checkpoint),
    # Webhooks wait in the outbox: looked at every second, so a referral reaches its bank at once.
    Job("webhooks.deliver", timedelta(seconds=1), webhooks_tasks.deliver),
    *(Job(name, every, run) for name, every, run in (*rentals_tasks.JOBS, *payments_tasks.JOBS)),
)


@dataclass
class Worker:
    engine: Engine
    jobs: Sequence[Job] = JOBS
    last_run: dict[str, datetime] = field(default_factory=dict)

    def due(self, now: datetime) -> list[Job]:
        return [
            job
            for job in self.jobs
            if (last := self.last_run.get(job.name)) is None or now - last >= job.every
        ]

    def run_once(self, now: datetime | None = None) -> list[str]:
        """Run the jobs that are due at ``now``; returns the names of those that ran (failed ones too)."""
        now = now or utcnow()
        ran = []
        for job in self.due(now):
            self.last_run[job.name] = now
            ran.append(job.name)
            try:
                result = job.run(self.engine, now)
            except Exception:
                log.exception("job failed", job=job.name)
                continue
            log.info("job done", job=job.name, result=repr(result))
        return ran

    def run_forever(self, stop: threading.Event, tick_seconds: float = 30.0) -> None:
        while not stop.is_set():
            self.run_once()
            stop.wait(tick_seconds)


def main(tick_seconds: float = 1.0, stop: threading.Event | None = None, *, once: bool = False) -> list[str]:
    """Entry point for ``xinyi worker``: runs until interrupted, or with ``once`` runs every job one time at
    the clock's now (``--as-of`` sets it) and returns their names."""
    from app.core.config import get_settings
    from app.core.db import make_engine
    from app.core.logging import configure_logging

    settings = get_settings()
    configure_logging(settings)
    engine = make_engine(settings.database_url)
    stop = stop or threading.Event()
    try:
        if once:
            return Worker(engine).run_once()
        Worker(engine).run_forever(stop, tick_seconds)
    except KeyboardInterrupt:
        pass
    finally:
        engine.dispose()
    return []
