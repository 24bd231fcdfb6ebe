"""The worker's audit jobs: sign a checkpoint of the chains every hour (``app.audit.checkpoints``); walk
the log when a verification was asked for, and once a day of its own accord (``app.audit.runs``)."""

from __future__ import annotations

import threading
from datetime import datetime

import structlog
from sqlalchemy import Engine
from sqlmodel import Session

from app.audit import checkpoints, runs
from app.core.config import get_settings
from app.core.security import Crypto
from app.signing.keyring import Keyring

log = structlog.get_logger("app.audit.tasks")


def _keyring() -> Keyring:
    return Keyring(Crypto(get_settings()).cipher)


def checkpoint(engine: Engine, now: datetime) -> int | None:
    """The new checkpoint's seq, or None when no chain moved since the last one."""
    with Session(engine, expire_on_commit=False) as session:
        made = checkpoints.make(session, _keyring(), now)
        session.commit()
        return None if made is None else made.seq


def request_daily(engine: Engine, now: datetime) -> str | None:
    """The day's walk of the whole log, queued (its run id), unless one was asked for within the day."""
    with Session(engine, expire_on_commit=False) as session:
        run = runs.request_daily(session, now)
        session.commit()
        return None if run is None else run.id


# One walk at a time per process, on a thread of its own: a walk of a city's log takes long, and the
# worker's other jobs (webhooks every second) must go on meanwhile.
_walking = threading.Lock()


def verify_requested(engine: Engine, now: datetime) -> str | None:
    """Start walking the next run waiting (its id), unless this process is walking one already."""
    if not _walking.acquire(blocking=False):
        return None
    run_id = None
    try:
        run_id = runs.claim_next(engine)
    finally:
        if run_id is None:  # nothing to walk, or the claim failed: the lock goes back
            _walking.release()
    if run_id is None:
        return None
    threading.Thread(target=_walk, args=(engine, run_id), name=f"audit-verify-{run_id}", daemon=True).start()
    return run_id


def wait_for_walk() -> None:
    """Return once this process walks no log (for a worker that runs its jobs once, then exits)."""
    with _walking:
        pass


def _walk(engine: Engine, run_id: str) -> None:
    try:
        runs.execute(engine, _keyring(), run_id)
    except Exception:  # stored as failed and logged by execute; the thread just ends
        log.info("audit verification thread ended on an error", run_id=run_id)
    finally:
        _walking.release()
