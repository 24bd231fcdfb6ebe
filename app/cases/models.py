"""The columns every case table has. Each kind keeps its own table (``objections``,
``repair_applications``): their API and history name the same steps differently."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime


class CaseBase(SQLModel):
    id: str = Field(primary_key=True, max_length=32)
    subject_id: str = Field(foreign_key="subjects.id", index=True, max_length=32)
    record_id: str = Field(foreign_key="credit_records.id", index=True, max_length=32)
    status: str = Field(sa_type=String(16))
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the last escalation

    def close(self, by: str | None, at: datetime) -> None:
        """Record who closed the case and when, and free its record for a new case."""
        raise NotImplementedError
