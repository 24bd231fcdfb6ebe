from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class SubjectOut(BaseModel):
    id: str
    kind: str
    name: str | None
    id_number: str | None = None  # masked
    uscc: str | None = None
    created_at: datetime
