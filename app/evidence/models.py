"""Evidence files: what a subject uploads to back an objection (异议) or a credit repair (信用修复)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id


class EvidenceFile(SQLModel, table=True):
    """One uploaded file. The bytes live on disk under ``storage_name`` (random, no extension) in the
    configured evidence directory, never under a served path; the row says whose it is and what it is."""

    __tablename__ = "evidence_files"

    id: str = Field(default_factory=lambda: new_id("evd"), primary_key=True, max_length=32)
    uploaded_by: str = Field(foreign_key="users.id", index=True, max_length=32)
    purpose: str = Field(sa_type=String(16))  # objection | repair
    content_type: str = Field(max_length=64)  # what the bytes are, sniffed, not what the client said
    size_bytes: int
    sha256: str = Field(max_length=64)
    storage_name: str = Field(unique=True, max_length=64)
    file_name: str | None = Field(default=None, max_length=120)  # as uploaded, cleaned; shown to the owner
    # Set when the file is attached to an objection or repair application: the case and its subject.
    attached_to: str | None = Field(default=None, index=True, max_length=32)
    subject_id: str | None = Field(default=None, foreign_key="subjects.id", index=True, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
