"""Bookkeeping of the scheduled jobs' runs, so any process can tell how far behind schedule each is."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from app.jobs.models import JobRun

_TABLE = JobRun.__table__  # type: ignore[attr-defined]


def record_run(engine: Engine, name: str, every: timedelta, ran_at: datetime, ok: bool) -> None:
    """Upsert the job's last run; an older run (another worker's, late) never overwrites a newer one."""
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(_TABLE).values(
        name=name, every_seconds=int(every.total_seconds()), last_run_at=ran_at, last_ok=ok
    )
    statement = statement.on_conflict_do_update(
        index_elements=["name"],
        set_={
            "every_seconds": statement.excluded.every_seconds,
            "last_run_at": statement.excluded.last_run_at,
            "last_ok": statement.excluded.last_ok,
        },
        where=_TABLE.c.last_run_at <= statement.excluded.last_run_at,
    )
    with engine.begin() as connection:
        connection.execute(statement)


def lags(engine: Engine, now: datetime) -> dict[str, float]:
    """Seconds each job is past its next due time (0 when on time), for every job that ever ran."""
    with engine.connect() as connection:
        rows = connection.execute(select(JobRun.name, JobRun.every_seconds, JobRun.last_run_at)).all()  # type: ignore[call-overload]
    return {
        name: max(0.0, (now - last_run_at).total_seconds() - every_seconds)
        for name, every_seconds, last_run_at in rows
    }


def health(session: Session, now: datetime) -> list[tuple[JobRun, float]]:
    """Every job that ever ran, by name, with how many seconds it is past its next due time (0: on time)."""
    rows = session.scalars(select(JobRun).order_by(col(JobRun.name))).all()
    return [(row, max(0.0, (now - row.last_run_at).total_seconds() - row.every_seconds)) for row in rows]
