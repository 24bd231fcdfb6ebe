from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime


class JobRun(SQLModel, table=True):
    """The last run of each scheduled job, written by the worker, read by ``/metrics`` (its lag)."""

    __tablename__ = "job_runs"

    name: str = Field(primary_key=True, max_length=64)
    every_seconds: int
    last_run_at: datetime = Field(sa_type=UTCDateTime)  # when the run was due and started
    last_ok: bool
