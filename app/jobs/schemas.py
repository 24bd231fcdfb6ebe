from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class JobHealthOut(BaseModel):
    object: Literal["job"] = "job"
    name: str = Field(description="e.g. records.expire, webhooks.deliver")
    every_seconds: int
    last_run_at: datetime = Field(description="When its latest run was due and started.")
    last_ok: bool = Field(description="false: the latest run raised (the worker's log says why).")
    lag_seconds: float = Field(description="How far it is past its next due time; 0 when on time.")
