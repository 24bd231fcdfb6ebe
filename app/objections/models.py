"""Objections (异议) to a credit record, and the events that route them to the source department."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlmodel import Field, SQLModel

from app.cases.models import CaseBase
from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id


class ObjectionStatus(StrEnum):
    open = "open"
    upheld = "upheld"
    rejected = "rejected"


class Objection(CaseBase, table=True):
    __tablename__ = "objections"
    __table_args__ = (Index("ix_objections_status_answer_due_at", "status", "answer_due_at"),)

    id: str = Field(default_factory=lambda: new_id("obj"), primary_key=True, max_length=32)
    # The record id while the objection is open, NULL once answered: the unique index allows one open
    # objection per record even when two are filed at the same moment.
    open_record_id: str | None = Field(default=None, unique=True, max_length=32)
    source: str = Field(index=True, max_length=64)  # the record's source: a data-provider partner id
    filed_by: str = Field(foreign_key="users.id", max_length=32)
    reason: str = Field(sa_type=Text)
    status: ObjectionStatus = Field(default=ObjectionStatus.open, sa_type=String(16))
    filed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    answer_due_at: datetime = Field(sa_type=UTCDateTime)
    escalations: int = 0
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_by: str | None = Field(default=None, foreign_key="users.id", max_length=32)
    answer: str | None = Field(default=None, sa_type=Text)  # the written answer, with its reasons
    resolution: str | None = Field(default=None, sa_type=String(16))  # upheld: corrected | withdrawn
    corrected_fields: list[str] = Field(default_factory=list, sa_type=JSON)

    def close(self, by: str | None, at: datetime) -> None:
        self.answered_by, self.answered_at, self.open_record_id = by, at, None


class ObjectionEvent(SQLModel, table=True):
    """Something a department or the operators must hear about: filed, answered, overdue.

    Written in the transaction of the change; ``delivered_at`` stays empty until a dispatcher sends it.
    (Issue 6 brings the platform's outbox; these rows are meant to move there.) The payload holds ids
    and codes only."""

    __tablename__ = "objection_events"
    __table_args__ = (Index("ix_objection_events_recipient_id", "recipient", "id"),)

    id: str = Field(default_factory=lambda: new_id("oev"), primary_key=True, max_length=32)
    objection_id: str = Field(foreign_key="objections.id", index=True, max_length=32)
    type: str = Field(max_length=40)  # objection.filed | objection.answered | objection.overdue
    recipient: str = Field(max_length=64)  # a partner id, or "operators"
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
