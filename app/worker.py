"""The scheduled worker: runs registered periodic jobs (``xinyi worker``).

Deliberately small: a job is a name, an interval and a function of (engine, now). :meth:`Worker.run_once`
runs every job that is due and returns their names, which is what tests drive; :meth:`Worker.run_forever`
calls it every ``tick_seconds`` until stopped. Jobs must be idempotent: several workers may run the same
job, and a failed job is simply tried again on the next tick (the failure is logged, the others still run).

A run that did something is logged with what it did; an idle look is not (most looks find nothing). Each
run is recorded in ``job_runs`` so ``/metrics`` can show every job's lag, whichever process asks. SIGTERM
(and SIGINT) let the batch in hand finish, then the worker exits.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Engine

from app.audit import tasks as audit_tasks
from app.core.clock import business_date, utcnow
from app.core.config import get_settings
from app.evidence import service as evidence_service
from app.jobs import service as jobs_service
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
    Job("audit.verify_daily", timedelta(days=1), audit_tasks.request_daily),
    # Asked for from the console: taken up within seconds; the walk itself runs on a thread of its own.
    Job("audit.verify_requested", timedelta(seconds=5), audit_tasks.verify_requested),
    # Webhooks wait in the outbox: looked at every second, so a referral reaches its bank at once.
    Job("webhooks.deliver", timedelta(seconds=1), webhooks_tasks.deliver),
    *(Job(name, every, run) for name, every, run in (*rentals_tasks.JOBS, *payments_tasks.JOBS)),
)


def did_work(result: Any) -> bool:
    """Whether a job's result (a count, a summary dataclass, a tuple or list of them) reports any work."""
    if result is None or isinstance(result, bool):
        return bool(result)
    if isinstance(result, int | float):
        return result != 0
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return any(did_work(getattr(result, f.name)) for f in dataclasses.fields(result))
    if isinstance(result, tuple):
        return any(did_work(item) for item in result)
    if isinstance(result, list | set | dict | str):
        return len(result) > 0
    return True


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
            ok = False
            try:
                result = job.run(self.engine, now)
                ok = True
            except Exception:
                log.exception("job failed", job=job.name)
            else:
                if did_work(result):
                    log.info("job done", job=job.name, result=repr(result))
            self._record(job, now, ok)
        return ran

    def _record(self, job: Job, now: datetime, ok: bool) -> None:
        try:
            jobs_service.record_run(self.engine, job.name, job.every, now, ok)
        except Exception:  # bookkeeping must never stop the jobs themselves
            log.exception("job run not recorded", job=job.name)

    def run_forever(self, stop: threading.Event, tick_seconds: float = 30.0) -> None:
        while not stop.is_set():
            self.run_once()
            stop.wait(tick_seconds)


@contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM (a container stopping) and SIGINT set ``stop``: the jobs in hand finish, no new look starts.
    Only the main thread may install handlers (``serve --with-worker`` runs the worker in a thread); the
    previous handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, _frame: object) -> None:
        log.info("worker stopping", signal=signal.Signals(signum).name)
        stop.set()

    previous = {signum: signal.signal(signum, handle) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(
    tick_seconds: float = 1.0,
    stop: threading.Event | None = None,
    *,
    once: bool = False,
    jobs: Sequence[Job] = JOBS,
) -> list[str]:
    """Entry point for ``xinyi worker``: runs until SIGTERM or SIGINT, or with ``once`` runs every job one
    time at the clock's now (``--as-of`` sets it) and returns their names."""
    from app.core.config import get_settings
    from app.core.db import make_engine
    from app.core.logging import configure_logging

    settings = get_settings()
    configure_logging(settings)
    engine = make_engine(settings.database_url)
    stop = stop or threading.Event()
    log.info("worker started", jobs=len(jobs), tick_seconds=tick_seconds, once=once)
    try:
        if once:
            ran = Worker(engine, jobs).run_once()
            audit_tasks.wait_for_walk()  # a verification it started ends before the engine goes
            return ran
        with _stopped_by_signals(stop):
            Worker(engine, jobs).run_forever(stop, tick_seconds)
    finally:
        engine.dispose()
        log.info("worker stopped")
    return []
