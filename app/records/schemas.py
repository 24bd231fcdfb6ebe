from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, Field

from app.records.catalog import CATEGORIES, factor_key
from app.records.models import CreditRecord

_ROW_DOC = (
    "Up to 10,000 rows. Each row is an object with: `source_record_id` (your own id of the record; "
    "re-sending it changes nothing, sending it changed corrects it), `category` ("
    + ", ".join(CATEGORIES)
    + "), exactly one of `id_number` (身份证号), `uscc` (统一社会信用代码) or `subject_id`; records add "
    "`decision_date` (YYYY-MM-DD), optional `conduct_end_date`, `severity` (minor/general/serious, for 失信 "
    "records), `outcome` or `grade` where the category has them, optional `title` and `legal_basis`; "
    "`black_list`/`red_list` rows are list entries with `legal_basis`, `start_date` and optional `end_date`."
)


class RecordBatchIn(BaseModel):
    records: list[Any] = Field(description=_ROW_DOC)


class RowErrorOut(BaseModel):
    row: int = Field(description="1 for the first row of the batch (or of the file, after its header).")
    field: str | None
    code: str
    message: str
    source_record_id: str | None = None


class RecordBatchSummary(BaseModel):
    """A batch (``channel`` api) or a file import run (``file``, with its ``file_name``), in counts."""

    object: Literal["record_batch"] = "record_batch"
    id: str
    source: str
    channel: str
    file_name: str | None = None
    status: str
    received: int
    created: int
    updated: int
    unchanged: int
    rejected: int = Field(description="Rows refused; each is listed in `errors` (a row may have several).")
    created_at: datetime
    finished_at: datetime | None


class RecordBatchOut(RecordBatchSummary):
    errors: list[RowErrorOut]


class CategoryLabels(BaseModel):
    zh: str
    en: str


class RecordOut(BaseModel):
    object: Literal["credit_record"] = "credit_record"
    id: str
    category: str
    category_labels: CategoryLabels
    severity: str | None
    outcome: str | None
    grade: str | None
    title: str | None
    decision_date: date
    conduct_end_date: date | None
    publicity_starts_on: date
    publicity_min_ends_on: date | None = Field(description="Credit repair may be asked from this day.")
    publicity_ends_on: date | None
    counts_until: date | None = Field(description="The first day the record no longer counts.")
    status: str
    source: str
    department: str | None = Field(default=None, description="The name of the department that sent it.")
    reason_code: str = Field(description="The scoring model's reason code for this kind of record.")
    source_record_id: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: CreditRecord, **extra: Any) -> Self:
        """The API shape of a stored record (``extra``: the fields a subclass adds)."""
        category = CATEGORIES[record.category]
        return cls(
            id=record.id,
            category=record.category,
            category_labels=CategoryLabels(zh=category.zh, en=category.en),
            severity=record.severity,
            outcome=record.outcome,
            grade=record.grade,
            title=record.title,
            decision_date=record.decision_date,
            conduct_end_date=record.conduct_end_date,
            publicity_starts_on=record.publicity_starts_on,
            publicity_min_ends_on=record.publicity_min_ends_on,
            publicity_ends_on=record.publicity_ends_on,
            counts_until=record.counts_until,
            status=record.status,
            source=record.source,
            reason_code=factor_key(record.category, record.outcome, record.grade, record.severity),
            source_record_id=record.source_record_id,
            created_at=record.created_at,
            updated_at=record.updated_at,
            **extra,
        )


class ListEntryOut(BaseModel):
    """A red-list (守信激励) or black-list (严重失信主体名单) entry about you."""

    object: Literal["list_entry"] = "list_entry"
    id: str
    list_type: str = Field(description="red | black")
    title: str | None
    legal_basis: str
    starts_on: date
    ends_on: date | None = Field(description="The first day it no longer applies; null: until removed.")
    status: str
    department: str | None = Field(description="The name of the department that listed you.")
