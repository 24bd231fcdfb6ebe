"""Typed answers of the partner API (banks, data providers, merchants' devices), as pydantic models.

Fields a newer platform adds are kept (``model_extra``) rather than refused, so an SDK release keeps
working against a newer platform. Secrets shown once (a webhook endpoint's ``secret``, a scanner's
``enrolment_code``) never appear in a model's ``repr``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class APIModel(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Labels(APIModel):
    zh: str
    en: str


# --- who am I -------------------------------------------------------------------------------------------


class CallerKey(APIModel):
    id: str
    name: str
    prefix: str
    scopes: list[str]


class PartnerInfo(APIModel):
    """``GET /v1/partner/me``: the partner and the key in use."""

    id: str
    name: str
    kind: Literal["merchant", "bank", "government_counter", "data_provider"]
    status: str
    api_key: CallerKey


# --- banks: 信易贷 ----------------------------------------------------------------------------------------


class BankRef(APIModel):
    id: str
    name: str


class EnterpriseRef(APIModel):
    name: str
    uscc: str


class Consent(APIModel):
    """The enterprise's purpose-bound consent: reports can be fetched while ``status`` is ``active``."""

    id: str
    status: Literal["active", "withdrawn", "expired"]
    banks: list[str]
    expires_at: datetime
    withdrawn_at: datetime | None = None


DeclineReason = Literal[
    "insufficient_repayment_capacity",
    "credit_history",
    "outside_risk_appetite",
    "incomplete_information",
    "collateral_required",
    "applicant_unreachable",
    "applicant_withdrew",
    "other",
]


class LoanReason(APIModel):
    code: str
    labels: Labels


class LoanDecision(APIModel):
    approved_amount_fen: int | None = None
    annual_rate_bps: int | None = None
    term_months: int | None = None
    decline_reason: LoanReason | None = None
    decided_at: datetime | None = None


class LoanOutcome(APIModel):
    """A repayment outcome the bank reported; ``record_id`` is the behaviour record it became."""

    id: str
    kind: Literal["on_time", "overdue", "settled"]
    occurred_on: date
    days_overdue: int | None = None
    reference: str
    record_id: str
    reported_at: datetime


class Referral(APIModel):
    """A 信易贷 referral to your bank (``GET /v1/partner/referrals``)."""

    id: str
    application_id: str
    status: Literal["referred", "approved", "declined"]
    enterprise: EnterpriseRef
    amount_fen: int
    term_months: int
    purpose: str
    industry: str
    region: str
    product_id: str
    product_ids: list[str]
    consent: Consent
    decision: LoanDecision
    outcomes: list[LoanOutcome]
    created_at: datetime


class CreditReport(APIModel):
    """The enterprise's credit report snapshot; ``content`` holds its score, level and records."""

    id: str
    referral_id: str | None = None
    generated_at: datetime
    content: dict[str, Any] = Field(repr=False)


class LoanProduct(APIModel):
    id: str
    bank: BankRef
    name: str
    description: str | None = None
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


# --- webhook endpoints ----------------------------------------------------------------------------------


class WebhookEndpoint(APIModel):
    id: str
    url: str
    description: str | None = None
    event_types: list[str]
    enabled: bool
    previous_secret_expires_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class WebhookEndpointWithSecret(WebhookEndpoint):
    """Creating an endpoint or rotating its secret: the ``whsec_…`` secret, this once."""

    secret: str = Field(repr=False)


class WebhookAttempt(APIModel):
    number: int
    started_at: datetime
    finished_at: datetime | None = None
    outcome: str
    status_code: int | None = None
    duration_ms: int | None = None
    error: str | None = None
    response_excerpt: str | None = None


class WebhookDelivery(APIModel):
    """One event sent (or to be sent) to one endpoint; ``event_id`` is the ``webhook-id`` header."""

    id: str
    event_id: str
    event_type: str
    endpoint_id: str
    status: str
    attempts: int
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    succeeded_at: datetime | None = None
    failed_at: datetime | None = None
    created_at: datetime
    attempt_log: list[WebhookAttempt] | None = None


# --- data providers ------------------------------------------------------------------------------------


class RowError(APIModel):
    """One refused row: ``row`` counts from 1 (in a file: its data rows, the header not counted)."""

    row: int
    field: str | None = None
    code: str
    message: str
    source_record_id: str | None = None


class RecordBatch(APIModel):
    """``POST /v1/records/batches``: the valid rows landed; each refused one is in ``errors``."""

    id: str
    source: str
    channel: str
    status: str
    received: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[RowError]
    created_at: datetime
    finished_at: datetime | None = None


class EvidenceRef(APIModel):
    id: str
    content_type: str
    size_bytes: int
    sha256: str
    file_name: str | None = None


class Objection(APIModel):
    """An objection (异议) to one of your records; answered by the platform's operators within 20 days."""

    id: str
    record_id: str
    source_record_id: str | None = None
    status: str
    reason: str
    evidence: list[EvidenceRef]
    filed_at: datetime
    answer_due_at: datetime
    answered_at: datetime | None = None
    resolution: str | None = None
    corrected_fields: list[str]


class ObjectionEvent(APIModel):
    id: str
    type: str
    objection_id: str
    payload: dict[str, Any]
    created_at: datetime


# --- merchants' scanner devices ----------------------------------------------------------------------------


class ScannerDevice(APIModel):
    id: str
    name: str
    status: Literal["awaiting_enrolment", "enrolled", "revoked", "enrolment_expired"]
    scopes: list[str]
    scenario: str | None = None
    created_at: datetime
    enrolment_expires_at: datetime
    enrolled_at: datetime | None = None
    revoked_at: datetime | None = None


class IssuedScannerDevice(ScannerDevice):
    """A new device: type ``enrolment_code`` (shown this once, valid 24 h) at ``enrolment_page``, or let
    the device's camera read ``enrolment_qr_svg_data_url`` there (show it on your screen)."""

    enrolment_code: str = Field(repr=False)
    enrolment_page: str
    enrolment_qr_svg_data_url: str = Field(repr=False)
