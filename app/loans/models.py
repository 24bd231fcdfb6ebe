"""信易贷: banks' loan products, enterprises' applications, the credit report snapshot taken for each,
referrals to banks (with their decisions), report accesses, and repayment outcomes."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id


class ApplicationStatus(StrEnum):
    referred = "referred"  # eligible, and at least one named bank had a matching product
    not_eligible = "not_eligible"  # the xinyidai scenario said no (reason says why)
    no_match = "no_match"  # eligible, but no named bank had a matching product


class ReferralStatus(StrEnum):
    referred = "referred"
    approved = "approved"
    declined = "declined"


class OutcomeKind(StrEnum):
    on_time = "on_time"
    overdue = "overdue"
    settled = "settled"


class LoanProduct(SQLModel, table=True):
    __tablename__ = "loan_products"

    id: str = Field(default_factory=lambda: new_id("lpr"), primary_key=True, max_length=32)
    partner_id: str = Field(foreign_key="partners.id", index=True, max_length=32)
    name: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=500)
    min_level: str = Field(max_length=4)
    min_amount_fen: int = Field(sa_type=BigInteger)
    max_amount_fen: int = Field(sa_type=BigInteger)
    min_term_months: int
    max_term_months: int
    min_rate_bps: int  # annual rate in basis points (1/100 of a percent): 385 = 3.85 %
    max_rate_bps: int
    industries: list[str] = Field(default_factory=list, sa_type=JSON)  # GB/T 4754 sections; empty: any
    regions: list[str] = Field(default_factory=list, sa_type=JSON)  # 行政区划 prefixes; empty: any
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LoanApplication(SQLModel, table=True):
    __tablename__ = "loan_applications"
    __table_args__ = (Index("ix_loan_applications_enterprise_id_id", "enterprise_id", "id"),)

    id: str = Field(default_factory=lambda: new_id("lap"), primary_key=True, max_length=32)
    enterprise_id: str = Field(foreign_key="enterprises.id", max_length=32)
    subject_id: str = Field(foreign_key="subjects.id", index=True, max_length=32)
    applicant_user_id: str = Field(max_length=32)
    amount_fen: int = Field(sa_type=BigInteger)
    term_months: int
    purpose: str = Field(max_length=200)
    industry: str = Field(max_length=1)
    region: str = Field(max_length=6)
    consent_id: str = Field(foreign_key="consents.id", index=True, max_length=32)
    report_id: str = Field(max_length=32)
    status: ApplicationStatus = Field(sa_type=String(16))
    reason: str = Field(max_length=40)
    # Per named bank: {"partner_id", "matched", "product_ids", "reasons"}; explains every non-referral.
    matches: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CreditReport(SQLModel, table=True):
    """The snapshot taken when an application is made; what banks fetch (with consent)."""

    __tablename__ = "credit_reports"

    id: str = Field(default_factory=lambda: new_id("crp"), primary_key=True, max_length=32)
    subject_id: str = Field(foreign_key="subjects.id", index=True, max_length=32)
    application_id: str = Field(max_length=32)
    score: int
    level: str = Field(max_length=4)
    blocked: bool
    model_version: str = Field(max_length=16)
    content: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    generated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LoanReferral(SQLModel, table=True):
    __tablename__ = "loan_referrals"
    __table_args__ = (
        UniqueConstraint("application_id", "partner_id"),
        Index("ix_loan_referrals_partner_id_id", "partner_id", "id"),
    )

    id: str = Field(default_factory=lambda: new_id("ref"), primary_key=True, max_length=32)
    application_id: str = Field(foreign_key="loan_applications.id", index=True, max_length=32)
    partner_id: str = Field(foreign_key="partners.id", max_length=32)
    subject_id: str = Field(max_length=32)
    consent_id: str = Field(max_length=32)
    report_id: str = Field(max_length=32)
    product_id: str = Field(foreign_key="loan_products.id", max_length=32)  # the best match
    product_ids: list[str] = Field(default_factory=list, sa_type=JSON)  # every match at this bank
    event_id: str = Field(max_length=32)  # the referral.created webhook event
    status: ReferralStatus = Field(default=ReferralStatus.referred, sa_type=String(16))
    approved_amount_fen: int | None = Field(default=None, sa_type=BigInteger)
    approved_rate_bps: int | None = None
    approved_term_months: int | None = None
    decline_reason: str | None = Field(default=None, max_length=40)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    report_fetches: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReportAccess(SQLModel, table=True):
    """A bank's fetch of a report: shown to the enterprise beside its application (and in its audit log)."""

    __tablename__ = "loan_report_accesses"

    id: str = Field(default_factory=lambda: new_id("rpa"), primary_key=True, max_length=32)
    referral_id: str = Field(foreign_key="loan_referrals.id", index=True, max_length=32)
    partner_id: str = Field(max_length=32)
    report_id: str = Field(max_length=32)
    consent_id: str = Field(max_length=32)
    audit_entry_id: str = Field(max_length=32)
    accessed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LoanOutcome(SQLModel, table=True):
    __tablename__ = "loan_outcomes"
    __table_args__ = (UniqueConstraint("referral_id", "reference"),)

    id: str = Field(default_factory=lambda: new_id("lou"), primary_key=True, max_length=32)
    referral_id: str = Field(foreign_key="loan_referrals.id", index=True, max_length=32)
    kind: OutcomeKind = Field(sa_type=String(16))
    occurred_on: date
    days_overdue: int | None = None
    reference: str = Field(max_length=64)  # the bank's own id of this report
    record_id: str = Field(max_length=32)  # the platform-behaviour record it became
    reported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
