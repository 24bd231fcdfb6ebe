from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class PurposeLabels(BaseModel):
    zh: str
    en: str


class ConsentOut(BaseModel):
    id: str
    object: Literal["consent"] = "consent"
    subject_id: str
    purpose: str
    purpose_labels: PurposeLabels
    grantees: list[str] = Field(description="The partners allowed to receive the data.")
    grantee_names: list[str] = Field(description="Their names, in the same order.")
    scope: list[str] = Field(description="What they may receive, e.g. credit_report.")
    reference: str | None = Field(description="What it was given for, e.g. a loan application id.")
    status: Literal["active", "withdrawn", "expired"]
    granted_at: datetime
    expires_at: datetime
    withdrawn_at: datetime | None
