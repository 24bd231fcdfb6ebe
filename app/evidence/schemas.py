from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class EvidenceOut(BaseModel):
    object: Literal["evidence_file"] = "evidence_file"
    id: str
    purpose: str
    content_type: str = Field(
        description="Sniffed from the content: application/pdf, image/png or image/jpeg."
    )
    size_bytes: int
    sha256: str
    file_name: str | None
    attached_to: str | None = Field(description="The objection (obj_…) or repair application (rep_…).")
    created_at: datetime


class EvidenceRef(BaseModel):
    """A file of a case, as listed with the case. Download it at ``GET /v1/evidence/{id}/content``."""

    id: str
    content_type: str
    size_bytes: int
    sha256: str
    file_name: str | None
