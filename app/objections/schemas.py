from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.evidence.schemas import EvidenceRef


class ObjectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_id: str = Field(max_length=32, description="One of your records (GET /v1/me/records).")
    reason: str = Field(min_length=5, max_length=2000, description="Why the record is wrong.")
    evidence_ids: list[str] = Field(
        default_factory=list, max_length=50, description="Files uploaded with POST /v1/me/evidence."
    )


class CorrectionsIn(BaseModel):
    """The corrected values; fields left out stay as they are, ``null`` clears an optional one."""

    model_config = ConfigDict(extra="forbid")

    severity: Literal["minor", "general", "serious"] | None = None
    outcome: str | None = Field(default=None, max_length=32)
    grade: str | None = Field(default=None, max_length=4)
    title: str | None = Field(default=None, max_length=200)
    legal_basis: str | None = Field(default=None, max_length=500)
    decision_date: date | None = None
    conduct_end_date: date | None = None


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["upheld", "rejected"]
    answer: str = Field(min_length=5, max_length=4000, description="The written answer, with its reasons.")
    resolution: Literal["corrected", "withdrawn"] | None = Field(
        default=None, description="Upheld only: the record is corrected or withdrawn."
    )
    corrections: CorrectionsIn | None = None


class ObjectionOut(BaseModel):
    object: Literal["objection"] = "objection"
    id: str
    subject_id: str
    record_id: str
    record_status: str | None = Field(description="The record's status now (disputed while open).")
    status: str = Field(description="open | upheld | rejected")
    reason: str
    evidence: list[EvidenceRef]
    filed_at: datetime
    answer_due_at: datetime = Field(description="20 days after filing.")
    overdue: bool
    escalations: int
    answered_at: datetime | None
    answer: str | None
    resolution: str | None
    corrected_fields: list[str]


class AnswerOut(BaseModel):
    object: Literal["objection_answer"] = "objection_answer"
    objection: ObjectionOut
    score_before: int
    level_before: str
    score_after: int = Field(
        description="The subject's score after the answer, rescored in the same request."
    )
    level_after: str


class SourceObjectionOut(BaseModel):
    """What the source department sees: the disputed record (its own id for it), the reason and files."""

    object: Literal["objection"] = "objection"
    id: str
    record_id: str
    source_record_id: str | None
    status: str
    reason: str
    evidence: list[EvidenceRef]
    filed_at: datetime
    answer_due_at: datetime
    answered_at: datetime | None
    resolution: str | None
    corrected_fields: list[str]


class ObjectionEventOut(BaseModel):
    object: Literal["objection_event"] = "objection_event"
    id: str
    type: str
    objection_id: str
    payload: dict[str, Any]
    created_at: datetime
