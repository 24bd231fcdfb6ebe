from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id


class Enterprise(SQLModel, table=True):
    __tablename__ = "enterprises"

    id: str = Field(default_factory=lambda: new_id("ent"), primary_key=True, max_length=32)
    subject_id: str = Field(foreign_key="subjects.id", unique=True, max_length=32)
    name: str = Field(max_length=200)
    uscc: str = Field(unique=True, max_length=18)
    created_by: str = Field(foreign_key="users.id", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EnterpriseAdmin(SQLModel, table=True):
    __tablename__ = "enterprise_admins"
    __table_args__ = (UniqueConstraint("enterprise_id", "user_id"),)

    id: str = Field(default_factory=lambda: new_id("ead"), primary_key=True, max_length=32)
    enterprise_id: str = Field(foreign_key="enterprises.id", index=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32)
    added_by: str = Field(foreign_key="users.id", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
