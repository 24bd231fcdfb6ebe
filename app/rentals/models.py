"""信易租 rentals: opened on a single-use verification, returned, or defaulted through a dispute window."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime


class RentalStatus(StrEnum):
    open = "open"
    returned = "returned"
    default_reported = "default_reported"  # the resident was notified; the dispute window runs
    disputed = "disputed"  # the resident disputes the default; an operator decides
    defaulted = "defaulted"  # final: negative record written, collection under way
    dispute_upheld = "dispute_upheld"  # final: no record, no charge, hold released


ACTIVE = frozenset({RentalStatus.open, RentalStatus.default_reported, RentalStatus.disputed})


class Rental(SQLModel, table=True):
    __tablename__ = "rentals"
    __table_args__ = (
        Index("ix_rentals_partner_id_id", "partner_id", "id"),
        Index("ix_rentals_subject_id_id", "subject_id", "id"),
        Index("ix_rentals_status_dispute_window_ends_at", "status", "dispute_window_ends_at"),
    )

    # rnt_ + the verification's own id body: a retried open names the same rental (and the same hold).
    id: str = Field(primary_key=True, max_length=32)
    partner_id: str = Field(foreign_key="partners.id", max_length=32)
    subject_id: str = Field(foreign_key="subjects.id", max_length=32)
    verification_id: str = Field(foreign_key="verifications.id", unique=True, max_length=32)
    item_kind: str = Field(max_length=32)
    item_reference: str | None = Field(default=None, max_length=64)
    deposit_fen: int
    credit_amount_fen: int  # waived on the resident's credit
    fund_amount_fen: int  # held on the resident's card
    status: RentalStatus = Field(default=RentalStatus.open, sa_type=String(16))
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    returned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    returned_on_time: bool | None = None
    hold_payment_id: str | None = Field(default=None, max_length=32)
    # A default, its dispute and its outcome.
    default_reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    default_amount_fen: int | None = None
    default_evidence: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    resident_notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dispute_window_ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disputed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dispute_reason: str | None = Field(default=None, max_length=2000)
    resolution: str | None = Field(default=None, max_length=16)  # upheld | rejected
    resolution_note: str | None = Field(default=None, max_length=2000)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = Field(default=None, max_length=64)
    defaulted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hold_capture_fen: int | None = None  # of the hold, taken for the default
    collection_payment_id: str | None = Field(default=None, max_length=32)
    record_id: str | None = Field(default=None, max_length=32)  # the platform-behaviour record written
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
