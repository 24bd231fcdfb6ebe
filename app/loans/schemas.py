from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool, StringConstraints

from app.loans.catalog import DECLINE_REASONS
from app.loans.models import ApplicationStatus, OutcomeKind, ReferralStatus

Fen = Annotated[int, Field(gt=0, le=100_000_000_00, description="Money in fen (1 yuan = 100 fen).")]
Months = Annotated[int, Field(ge=1, le=360)]
RateBps = Annotated[int, Field(ge=1, le=2400, description="Annual rate in basis points: 385 = 3.85 %.")]
Level = Literal["AAA", "AA", "A", "B", "C", "D"]
Industry = Annotated[str, StringConstraints(pattern=r"^[A-T]$")]
Region = Annotated[str, StringConstraints(pattern=r"^\d{2}(\d{2}){0,2}$")]
PartnerId = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class Labels(BaseModel):
    zh: str
    en: str


# --- products ---------------------------------------------------------------------------------------------


class ProductIn(BaseModel):
    name: str = Field(min_length=2, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    min_level: Level = Field(description="The lowest credit level the product accepts.")
    min_amount_fen: Fen
    max_amount_fen: Fen
    min_term_months: Months
    max_term_months: Months
    min_rate_bps: RateBps
    max_rate_bps: RateBps
    industries: list[Industry] = Field(default_factory=list, max_length=20, description="Empty: any.")
    regions: list[Region] = Field(default_factory=list, max_length=50, description="Empty: any.")
    active: StrictBool = True


class ProductPatch(BaseModel):
    name: str | None = Field(default=None, min_length=2, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    min_level: Level | None = None
    min_amount_fen: Fen | None = None
    max_amount_fen: Fen | None = None
    min_term_months: Months | None = None
    max_term_months: Months | None = None
    min_rate_bps: RateBps | None = None
    max_rate_bps: RateBps | None = None
    industries: list[Industry] | None = Field(default=None, max_length=20)
    regions: list[Region] | None = Field(default=None, max_length=50)
    active: StrictBool | None = None

    def changes(self) -> dict[str, Any]:
        """The fields sent; a null clears only the description (the others cannot be empty)."""
        sent = self.model_dump(exclude_unset=True)
        return {k: v for k, v in sent.items() if v is not None or k == "description"}


class BankRef(BaseModel):
    id: str
    name: str


class ProductOut(BaseModel):
    id: str
    object: Literal["loan_product"] = "loan_product"
    bank: BankRef
    name: str
    description: str | None
    min_level: str
    min_amount_fen: int
    max_amount_fen: int
    min_term_months: int
    max_term_months: int
    min_rate_bps: int
    max_rate_bps: int
    industries: list[str]
    regions: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime


# --- applications -----------------------------------------------------------------------------------------


class ConsentIn(BaseModel):
    agreed: StrictBool = Field(description="You agree that the banks named receive your credit report.")
    banks: list[PartnerId] = Field(min_length=1, max_length=10, description="The banks that may receive it.")
    expires_at: datetime | None = Field(description="When the consent ends: at most 90 days ahead; required.")


class ApplyIn(BaseModel):
    amount_fen: Fen
    term_months: Months
    purpose: str = Field(min_length=2, max_length=200, description="What the loan is for (用途).")
    industry: Industry = Field(description="GB/T 4754 section of the enterprise's main business (A-T).")
    consent: ConsentIn


class LoanReasonOut(BaseModel):
    code: str
    labels: Labels


class BankMatchOut(BaseModel):
    bank: BankRef
    matched: bool
    product_ids: list[str]
    reasons: list[LoanReasonOut] = Field(description="Why no product of this bank matched.")


class ReportAccessOut(BaseModel):
    partner_id: str
    accessed_at: datetime
    consent_id: str


class OutcomeOut(BaseModel):
    id: str
    object: Literal["loan_outcome"] = "loan_outcome"
    kind: OutcomeKind
    occurred_on: date
    days_overdue: int | None
    reference: str
    record_id: str
    reported_at: datetime


class LoanDecisionOut(BaseModel):
    approved_amount_fen: int | None
    annual_rate_bps: int | None
    term_months: int | None
    decline_reason: LoanReasonOut | None
    decided_at: datetime | None


class EnterpriseReferralOut(BaseModel):
    id: str
    bank: BankRef
    product_id: str
    status: ReferralStatus
    decision: LoanDecisionOut
    report_accesses: list[ReportAccessOut]
    outcomes: list[OutcomeOut]
    created_at: datetime


class ConsentSummary(BaseModel):
    id: str
    status: Literal["active", "withdrawn", "expired"]
    banks: list[str]
    expires_at: datetime
    withdrawn_at: datetime | None


class ApplicationOut(BaseModel):
    id: str
    object: Literal["loan_application"] = "loan_application"
    enterprise_id: str
    amount_fen: int
    term_months: int
    purpose: str
    industry: str
    region: str
    status: ApplicationStatus
    reason: LoanReasonOut = Field(description="Why: the scenario's reason code, or no_matching_product.")
    report: dict[str, Any] = Field(description="id, score, level of the report snapshot taken.")
    consent: ConsentSummary
    matches: list[BankMatchOut]
    referrals: list[EnterpriseReferralOut]
    created_at: datetime


# --- bank side ---------------------------------------------------------------------------------------------


class EnterpriseRef(BaseModel):
    name: str
    uscc: str


class BankReferralOut(BaseModel):
    id: str
    object: Literal["referral"] = "referral"
    application_id: str
    status: ReferralStatus
    enterprise: EnterpriseRef
    amount_fen: int
    term_months: int
    purpose: str
    industry: str
    region: str
    product_id: str
    product_ids: list[str]
    consent: ConsentSummary
    decision: LoanDecisionOut
    outcomes: list[OutcomeOut]
    created_at: datetime


class LoanDecisionIn(BaseModel):
    decision: Literal["approved", "declined"]
    amount_fen: Fen | None = None
    annual_rate_bps: RateBps | None = None
    term_months: Months | None = None
    reason: str | None = Field(
        default=None,
        description="A decline's reason code.",
        # A closed list: documented as an enum; the service names the field when a code is not on it.
        json_schema_extra={"enum": [*DECLINE_REASONS, None]},
    )


class OutcomeIn(BaseModel):
    kind: OutcomeKind
    occurred_on: date
    days_overdue: int | None = Field(default=None, ge=1, le=3650)
    reference: str = Field(min_length=1, max_length=64, description="Your own id of this report.")


class ReportOut(BaseModel):
    object: Literal["credit_report"] = "credit_report"
    id: str
    referral_id: str | None = None
    generated_at: datetime
    # A bank's fetch: until when the enterprise's consent lets it fetch again (unless withdrawn first).
    consent_expires_at: datetime | None = None
    content: dict[str, Any]


# --- statistics ----------------------------------------------------------------------------------------------


class TotalsOut(BaseModel):
    subjects_rated: int
    reports_generated: int
    applications: int
    referrals: int
    approvals: int
    declines: int
    approved_amount_fen: int


class BankFiguresOut(BaseModel):
    bank_id: str
    bank_name: str
    referrals: int
    approvals: int
    declines: int
    approved_amount_fen: int


class MonthFiguresOut(BaseModel):
    month: str
    subjects_rated: int
    reports_generated: int
    referrals: int
    approvals: int
    approved_amount_fen: int


class StatisticsOut(BaseModel):
    object: Literal["xinyidai_statistics"] = "xinyidai_statistics"
    totals: TotalsOut
    by_bank: list[BankFiguresOut]
    by_month: list[MonthFiguresOut]
