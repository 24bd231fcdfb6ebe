"""``GET /v1/admin/jobs``: the scheduled jobs' health for operators, the same figures ``/metrics`` exports
(``xinyi_job_lag_seconds``) plus whether each latest run succeeded."""

from __future__ import annotations

from fastapi import APIRouter

from app.core.clock import utcnow
from app.core.db import SessionDep
from app.core.idempotency import AppRoute
from app.core.pagination import Page
from app.deps import OperatorDep
from app.jobs import service
from app.jobs.schemas import JobHealthOut

router = APIRouter(route_class=AppRoute, tags=["admin"])


@router.get("/v1/admin/jobs")
def list_jobs(op: OperatorDep, session: SessionDep) -> Page[JobHealthOut]:
    """Every scheduled job that ever ran, by name: its schedule, latest run and lag. A job the worker
    never ran is not listed (no worker, or a new job). Not paged: there are a few dozen at most."""
    rows = service.health(session, utcnow())
    return Page(
        data=[
            JobHealthOut(
                name=row.name,
                every_seconds=row.every_seconds,
                last_run_at=row.last_run_at,
                last_ok=row.last_ok,
                lag_seconds=round(lag, 3),
            )
            for row, lag in rows
        ],
        has_more=False,
    )
