"""Public credit records, red/black list entries, and the ingestion batches that brought them.

A record is identified by its source (the department or data-provider partner) and the source's own id:
re-sending it changes nothing, sending it changed updates it (and the change is audited).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id
from app.records.catalog import ListStatus, ListType, RecordStatus, Severity
from app.retention import rules as retention_rules

# Partial indexes for the scheduled jobs, so that a run finds what is due without reading what is not:
# expiry looks only at records that still count (of 10M records, 4M already expired cost a no-op run
# 16 s when it ranged over an index of every counts_until), retention only at 失信 records (a full scan
# of the table, 3 s, each day). Each query states the same condition as its index's WHERE, which is how
# PostgreSQL and SQLite know the index covers it; PostgreSQL also sees through bound parameters, since
# an unnamed statement is planned with their values.
RECORD_DUE_WHERE = (
    f"status IN ('{RecordStatus.active.value}', '{RecordStatus.disputed.value}') AND counts_until IS NOT NULL"
)
LIST_ENTRY_DUE_WHERE = f"status = '{ListStatus.active.value}' AND ends_on IS NOT NULL"


class CreditRecord(SQLModel, table=True):
    __tablename__ = "credit_records"
    __table_args__ = (
        UniqueConstraint("source", "source_record_id"),
        Index(
            "ix_credit_records_due",
            "counts_until",
            "id",
            postgresql_where=text(RECORD_DUE_WHERE),
            sqlite_where=text(RECORD_DUE_WHERE),
        ),
        Index(
            "ix_credit_records_retained",
            text(retention_rules.RETAINED_RECORDS_FROM),
            "id",
            postgresql_where=text(retention_rules.RETAINED_RECORDS_WHERE),
            sqlite_where=text(retention_rules.RETAINED_RECORDS_WHERE),
        ),
    )

    id: str = Field(default_factory=lambda: new_id("rec"), primary_key=True, max_length=32)
    subject_id: str = Field(foreign_key="subjects.id", index=True, max_length=32)
    category: str = Field(max_length=40)
    severity: Severity | None = Field(default=None, sa_type=String(16))  # 失信 records only
    outcome: str | None = Field(default=None, max_length=32)
    grade: str | None = Field(default=None, max_length=4)
    title: str | None = Field(default=None, max_length=200)
    legal_basis: str | None = Field(default=None, max_length=500)
    decision_date: date
    conduct_end_date: date | None = None
    publicity_starts_on: date
    publicity_min_ends_on: date | None = None  # credit repair may be asked from this day
    publicity_ends_on: date | None = None  # maximum publicity
    counts_until: date | None = None  # min(maximum publicity, retention end); None: no end
    status: RecordStatus = Field(default=RecordStatus.active, sa_type=String(16))
    source: str = Field(max_length=64)
    source_record_id: str = Field(max_length=128)
    batch_id: str | None = Field(default=None, max_length=32)  # the batch that last wrote it
    content_hash: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ListEntry(SQLModel, table=True):
    """A red-list (守信激励) or black-list (严重失信主体名单) entry. A black-listed subject is blocked
    from every scenario (一处失信、处处受限)."""

    __tablename__ = "credit_list_entries"
    __table_args__ = (
        UniqueConstraint("source", "source_record_id"),
        Index(
            "ix_credit_list_entries_due",
            "ends_on",
            "id",
            postgresql_where=text(LIST_ENTRY_DUE_WHERE),
            sqlite_where=text(LIST_ENTRY_DUE_WHERE),
        ),
    )

    id: str = Field(default_factory=lambda: new_id("lst"), primary_key=True, max_length=32)
    subject_id: str = Field(foreign_key="subjects.id", index=True, max_length=32)
    list_type: ListType = Field(sa_type=String(8))
    title: str | None = Field(default=None, max_length=200)
    legal_basis: str = Field(max_length=500)
    starts_on: date
    ends_on: date | None = None  # the first day it no longer applies; None: until removed
    status: ListStatus = Field(default=ListStatus.active, sa_type=String(16))
    source: str = Field(max_length=64)
    source_record_id: str = Field(max_length=128)
    batch_id: str | None = Field(default=None, max_length=32)
    content_hash: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RecordBatch(SQLModel, table=True):
    """One ingestion: an API batch or a file. Counts only; rejected rows are reported to the sender."""

    __tablename__ = "record_batches"

    id: str = Field(default_factory=lambda: new_id("rba"), primary_key=True, max_length=32)
    source: str = Field(max_length=64)
    channel: str = Field(sa_type=String(8))  # api | file
    submitted_by: str = Field(max_length=64)  # principal type:id
    file_name: str | None = Field(default=None, max_length=255)
    status: str = Field(default="running", sa_type=String(16))  # running | completed
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
