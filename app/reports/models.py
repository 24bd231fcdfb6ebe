"""Own credit reports: one row per report a subject asked for, to count them per year."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id


class CreditReportIssue(SQLModel, table=True):
    __tablename__ = "credit_report_issues"
    __table_args__ = (Index("ix_credit_report_issues_subject_id_year", "subject_id", "year"),)

    id: str = Field(default_factory=lambda: new_id("rpt"), primary_key=True, max_length=32)
    subject_id: str = Field(foreign_key="subjects.id", max_length=32)
    requested_by: str = Field(foreign_key="users.id", max_length=32)
    format: str = Field(sa_type=String(8))  # json | html
    year: int  # the calendar year in China Standard Time
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
