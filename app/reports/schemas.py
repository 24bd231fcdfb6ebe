from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.audit.schemas import AccessLogEntry
from app.records.schemas import RecordOut
from app.scoring.schemas import ScoreOut


class ReportSubject(BaseModel):
    id: str
    kind: str
    name_masked: str | None
    id_number_masked: str | None = Field(description="Persons: 650102********1234.")
    uscc: str | None = Field(description="Enterprises: the 统一社会信用代码 (public information).")


class ReportRecord(RecordOut):
    open_objection_id: str | None = None
    pending_repair_id: str | None = None


class ReportListEntry(BaseModel):
    id: str
    list_type: str
    title: str | None
    legal_basis: str
    starts_on: date
    ends_on: date | None
    status: str


class ReportScan(BaseModel):
    id: str
    created_at: datetime
    partner_name: str
    partner_kind: str
    scenario: str
    decision: str
    reason: str
    reason_labels: dict[str, str] = Field(description="The reason in Chinese (zh) and English (en).")


class ReportObjection(BaseModel):
    id: str
    record_id: str
    status: str
    filed_at: datetime
    answer_due_at: datetime
    answered_at: datetime | None
    resolution: str | None


class ReportRepair(BaseModel):
    id: str
    record_id: str
    status: str
    received_at: datetime
    decision_due_on: date
    decided_at: datetime | None


class ReportAccessEntry(AccessLogEntry):
    partner_name: str | None = Field(description="The partner's name, when the actor was one.")


class ReportSection(BaseModel):
    """A section cut at its first ``limit`` items, newest first; the full list has its own endpoint."""

    truncated: bool
    full_list: str


class CreditReportOut(BaseModel):
    object: Literal["credit_report"] = "credit_report"
    id: str
    generated_at: datetime
    year: int
    reports_this_year: int = Field(
        description="Reports of this subject in this calendar year, this one included."
    )
    subject: ReportSubject
    score: ScoreOut
    records: list[ReportRecord]
    lists: list[ReportListEntry]
    objections: list[ReportObjection]
    repairs: list[ReportRepair]
    verifications: list[ReportScan]
    verifications_section: ReportSection
    access_log: list[ReportAccessEntry]
    access_log_section: ReportSection
    consents: list[dict[str, Any]] = Field(
        description="Consents given about this subject (consent register)."
    )
