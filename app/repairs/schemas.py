from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.evidence.schemas import EvidenceRef


class CommitmentOut(BaseModel):
    object: Literal["credit_commitment"] = "credit_commitment"
    version: str
    sha256: str
    text: str = Field(description="Markdown, Chinese then English.")


class SignedCommitmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(max_length=16, description="The version you read (GET /v1/repairs/commitment).")
    signed_name: str = Field(min_length=1, max_length=200, description="The subject's registered name.")
    accepted: StrictBool = Field(description="true: I make this commitment.")


class RepairIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_id: str = Field(max_length=32)
    correction_statement: str = Field(
        min_length=5, max_length=4000, description="How the conduct was corrected (obligations fulfilled…)."
    )
    evidence_ids: list[str] = Field(max_length=50, description="Proof, uploaded with POST /v1/me/evidence.")
    commitment: SignedCommitmentIn


class RepairDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approved", "rejected"]
    reasons: str | None = Field(default=None, max_length=4000, description="Required for a rejection.")


class RepairOut(BaseModel):
    object: Literal["repair_application"] = "repair_application"
    id: str
    subject_id: str
    record_id: str
    record_status: str | None
    status: str = Field(description="pending | approved | rejected | lapsed")
    correction_statement: str
    evidence: list[EvidenceRef]
    commitment_version: str
    commitment_sha256: str
    commitment_signed_name: str
    commitment_signed_at: datetime
    received_at: datetime
    decision_due_on: date = Field(description="3 working days after the day of receipt.")
    overdue: bool
    decided_at: datetime | None
    decided_within_deadline: bool | None
    decision_reasons: str | None


class RepairDecisionOut(BaseModel):
    object: Literal["repair_decision"] = "repair_decision"
    application: RepairOut
    score_before: int
    level_before: str
    score_after: int
    level_after: str
