"""The consent register: who allowed whom to receive what about them, for which purpose, until when.

Generic on purpose: 信易贷 is the first user (a credit report to the banks an enterprise names); any later
disclosure that needs the subject's consent records one here and checks it with
:func:`app.consents.service.require_valid` at the moment of disclosure.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id


class Consent(SQLModel, table=True):
    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_subject_id_id", "subject_id", "id"),)

    id: str = Field(default_factory=lambda: new_id("cns"), primary_key=True, max_length=32)
    subject_id: str = Field(foreign_key="subjects.id", max_length=32)
    purpose: str = Field(max_length=64)  # a code of app.consents.service.PURPOSES
    grantees: list[str] = Field(default_factory=list, sa_type=JSON)  # partner ids
    scope: list[str] = Field(default_factory=list, sa_type=JSON)  # what may be disclosed: credit_report, …
    reference: str | None = Field(default=None, max_length=64)  # what it was given for (an application id)
    granted_by: str = Field(max_length=64)  # the user who gave it for the subject
    granted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)  # never open-ended: at most 90 days after granted_at
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_by: str | None = Field(default=None, max_length=64)
