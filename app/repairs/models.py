"""Credit repair (信用修复) applications. Free: there is no fee, price or payment anywhere in the flow."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text
from sqlmodel import Field

from app.cases.models import CaseBase
from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id


class RepairStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    lapsed = "lapsed"  # the record left publicity by itself (its maximum period) before a decision


class RepairApplication(CaseBase, table=True):
    __tablename__ = "repair_applications"
    __table_args__ = (Index("ix_repair_applications_status_decision_due_on", "status", "decision_due_on"),)

    id: str = Field(default_factory=lambda: new_id("rep"), primary_key=True, max_length=32)
    # The record id while pending, NULL once decided: one pending application per record.
    pending_record_id: str | None = Field(default=None, unique=True, max_length=32)
    applied_by: str = Field(foreign_key="users.id", max_length=32)
    correction_statement: str = Field(sa_type=Text)  # how the conduct was corrected
    # The 信用承诺书 as signed: its version, full text and hash, the name signed and when.
    commitment_version: str = Field(max_length=16)
    commitment_text: str = Field(sa_type=Text)
    commitment_sha256: str = Field(max_length=64)
    commitment_signed_name: str = Field(max_length=200)
    commitment_signed_at: datetime = Field(sa_type=UTCDateTime)
    status: RepairStatus = Field(default=RepairStatus.pending, sa_type=String(16))
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decision_due_on: date  # 3 working days after the day of receipt (China Standard Time)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, foreign_key="users.id", max_length=32)
    decision_reasons: str | None = Field(default=None, sa_type=Text)

    def close(self, by: str | None, at: datetime) -> None:
        self.decided_by, self.decided_at, self.pending_record_id = by, at, None
