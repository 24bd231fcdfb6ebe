"""Verification runs: the audit log walked by the worker, asked for from the console or by the daily schedule.

A city's log holds hundreds of millions of entries: walking it takes minutes to hours, far longer than an
HTTP request may last. So an auditor *asks* for a walk (:func:`request`, recorded on the system chain), the
worker takes it up (:func:`claim_next`, :func:`execute`: the same walk as ``xinyi audit verify``), and the
console follows its progress (``entries_checked`` of ``entries_total``) until it is done.

The walk reads in batches, each in a transaction of its own, and records its progress and a heartbeat after
each: no snapshot is held open for hours, nothing waits on it, and a run whose worker died (its heartbeat
stopped) is claimed again by the next worker and walked from the start.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import Connection, Engine, or_, update
from sqlmodel import Session, col, select

from app.audit import checkpoints, service
from app.audit import verify as audit_verify
from app.audit.models import AuditVerificationRun
from app.core.clock import utcnow
from app.core.errors import NotFound
from app.core.pagination import PageParams, fetch_page
from app.core.principal import SYSTEM, Principal
from app.signing.keyring import Keyring

log = structlog.get_logger("app.audit.runs")

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
# A running walk whose heartbeat is older than this lost its worker; the next worker starts it again.
STALE_AFTER = timedelta(minutes=5)
# The problems kept with a run: enough to find the first ones; ``problems_total`` counts them all.
PROBLEMS_KEPT = 200
REQUEST_ACTION = "audit.verification_requested"
_GROUNDS = service.Grounds("audit log verification", service.SUPERVISION)
# The daily schedule asks for a walk of the whole log unless one was asked for within this long.
DAILY = timedelta(days=1)


def request(session: Session, requester: Principal, chain: str | None) -> AuditVerificationRun:
    """A walk of the whole log (``chain`` None) or of one chain, queued for the worker. While one of the
    same scope is queued or running, that one is returned instead: clicking twice does not walk twice."""
    pending = session.exec(
        select(AuditVerificationRun)
        .where(col(AuditVerificationRun.status).in_((QUEUED, RUNNING)), AuditVerificationRun.chain == chain)
        .order_by(col(AuditVerificationRun.created_at))
    ).first()
    if pending is not None:
        return pending
    run = AuditVerificationRun(
        chain=chain,
        requested_by_type=requester.actor_type,
        requested_by_id=requester.actor_id,
        created_at=utcnow(),
    )
    session.add(run)
    session.flush()
    _GROUNDS.record(session, requester, REQUEST_ACTION, {"run_id": run.id, "chain": chain})
    return run


def request_daily(session: Session, now: datetime) -> AuditVerificationRun | None:
    """The schedule's walk of the whole log, unless one was asked for (by anyone) within the last day."""
    recent = session.exec(
        select(AuditVerificationRun.id).where(
            col(AuditVerificationRun.chain).is_(None), col(AuditVerificationRun.created_at) > now - DAILY
        )
    ).first()
    return None if recent is not None else request(session, SYSTEM, None)


def get(session: Session, run_id: str) -> AuditVerificationRun:
    run = session.get(AuditVerificationRun, run_id)
    if run is None:
        raise NotFound("No verification run with this id.", code="audit_verification_not_found")
    return run


def list_runs(session: Session, params: PageParams) -> tuple[list[AuditVerificationRun], bool]:
    """Newest first."""
    return fetch_page(session, select(AuditVerificationRun), AuditVerificationRun.id, params)


def _session(bind: Engine | Connection) -> Session:
    """The worker's own session. On a connection already in a transaction (a test's), each commit here
    is a savepoint's."""
    return Session(bind=bind, join_transaction_mode="create_savepoint")


def claim_next(bind: Engine | Connection) -> str | None:
    """Take the oldest queued run, or a running one whose worker died, and mark it running; its id.
    SKIP LOCKED (PostgreSQL) lets several workers claim different runs at once."""
    now = utcnow()
    with _session(bind) as session:
        run = session.exec(
            select(AuditVerificationRun)
            .where(
                or_(
                    col(AuditVerificationRun.status) == QUEUED,
                    (col(AuditVerificationRun.status) == RUNNING)
                    & (col(AuditVerificationRun.heartbeat_at) < now - STALE_AFTER),
                )
            )
            .order_by(col(AuditVerificationRun.created_at))
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if run is None:
            return None
        run.status, run.started_at, run.heartbeat_at, run.entries_checked = RUNNING, now, now, 0
        run_id = run.id
        session.commit()
        return run_id


def execute(
    bind: Engine | Connection, keyring: Keyring, run_id: str, batch_size: int = audit_verify.BATCH_SIZE
) -> None:
    """Walk the run's scope and store the result; a walk that raised is stored as failed (the log says
    why) and raised again."""
    with _session(bind) as session:
        chain = session.exec(
            select(AuditVerificationRun.chain).where(AuditVerificationRun.id == run_id)
        ).one()
        checked = 0

        def note(**values: object) -> None:
            session.execute(
                update(AuditVerificationRun).where(col(AuditVerificationRun.id) == run_id).values(**values)
            )
            session.commit()  # each batch's read ends its transaction here, with the progress

        def progress(batch: int) -> None:
            nonlocal checked
            checked += batch
            note(entries_checked=checked, heartbeat_at=utcnow())

        try:
            note(entries_total=audit_verify.count_entries(session, chain), heartbeat_at=utcnow())
            result, signed = checkpoints.verify_log(
                session, keyring, chain=chain, batch_size=batch_size, on_progress=progress
            )
        except Exception:
            session.rollback()
            note(status=FAILED, finished_at=utcnow())
            log.exception("audit verification failed", run_id=run_id)
            raise
        found = result.problems
        note(
            status=DONE,
            finished_at=utcnow(),
            entries_checked=result.entries,
            chains=result.chains,
            checkpoints=signed,
            ok=not found,
            problems_total=len(found),
            problems=[p.as_dict() for p in found[:PROBLEMS_KEPT]],
        )
        log.info("audit verified", run_id=run_id, ok=not found, entries=result.entries, problems=len(found))
