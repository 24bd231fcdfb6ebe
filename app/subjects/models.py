"""Credit subjects: a person (by the keyed hash of the 身份证号) or an enterprise (by 统一社会信用代码).

A subject exists independently of any account: a department may publish a record about a person who has
never signed in. When a resident binds their ID number, their account is linked to that subject.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id


class SubjectKind(StrEnum):
    person = "person"
    enterprise = "enterprise"


class Subject(SQLModel, table=True):
    __tablename__ = "subjects"

    id: str = Field(default_factory=lambda: new_id("sub"), primary_key=True, max_length=32)
    kind: SubjectKind = Field(sa_type=String(16))
    name: str | None = Field(default=None, max_length=200)
    # Person: HMAC of the ID number for look-ups, AES-GCM ciphertext and its key id, masked form.
    id_number_hash: str | None = Field(default=None, unique=True, max_length=64)
    id_number_ciphertext: str | None = Field(default=None, max_length=200)
    id_number_kid: str | None = Field(default=None, max_length=32)
    id_number_masked: str | None = Field(default=None, max_length=18)
    # Enterprise: the code is public information, stored as is.
    uscc: str | None = Field(default=None, unique=True, max_length=18)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
