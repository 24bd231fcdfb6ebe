"""Every table, imported in one place for Alembic and for tests that inspect the whole database."""

from app.accounts.models import RefreshToken, User
from app.audit.models import AuditChainHead, AuditEntry
from app.consents.models import Consent
from app.enterprises.models import Enterprise, EnterpriseAdmin
from app.loans.models import (
    CreditReport,
    LoanApplication,
    LoanOutcome,
    LoanProduct,
    LoanReferral,
    ReportAccess,
)
from app.partners.models import ApiKey, Partner
from app.passes.models import OfflineCode
from app.records.models import CreditRecord, ListEntry, RecordBatch
from app.scoring.models import CreditScore, ScoreHistory, ScoreRebuild
from app.signing.models import SigningKey
from app.subjects.models import Subject
from app.verifications.models import Verification
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "ApiKey",
    "AuditChainHead",
    "AuditEntry",
    "Consent",
    "CreditRecord",
    "CreditReport",
    "CreditScore",
    "Enterprise",
    "EnterpriseAdmin",
    "ListEntry",
    "LoanApplication",
    "LoanOutcome",
    "LoanProduct",
    "LoanReferral",
    "OfflineCode",
    "Partner",
    "RecordBatch",
    "RefreshToken",
    "ReportAccess",
    "ScoreHistory",
    "ScoreRebuild",
    "SigningKey",
    "Subject",
    "User",
    "Verification",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
