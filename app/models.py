"""Every table, imported in one place for Alembic and for tests that inspect the whole database."""

from app.accounts.models import RefreshToken, User
from app.audit.models import AuditChainHead, AuditCheckpoint, AuditCheckpointHead, AuditEntry
from app.consents.models import Consent
from app.enterprises.models import Enterprise, EnterpriseAdmin
from app.evidence.models import EvidenceFile
from app.jobs.models import JobRun
from app.loans.models import (
    CreditReport,
    LoanApplication,
    LoanOutcome,
    LoanProduct,
    LoanReferral,
    ReportAccess,
)
from app.members.models import PartnerInvitation, PartnerMember
from app.objections.models import Objection, ObjectionEvent
from app.partners.models import ApiKey, Partner
from app.passes.models import OfflineCode
from app.payments.models import LocalPaymentObject, Payment, PaymentCustomer, PaymentRefund, StripeEvent
from app.records.models import CreditRecord, ListEntry, RecordBatch
from app.rentals.models import Rental
from app.repairs.models import RepairApplication
from app.reports.models import CreditReportIssue
from app.scanners.models import ScannerDevice
from app.scoring.models import CreditScore, ScoreHistory, ScoreRebuild
from app.signing.models import SigningKey
from app.subjects.models import Subject
from app.verifications.models import Verification
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "ApiKey",
    "AuditChainHead",
    "AuditCheckpoint",
    "AuditCheckpointHead",
    "AuditEntry",
    "Consent",
    "CreditRecord",
    "CreditReport",
    "CreditReportIssue",
    "CreditScore",
    "Enterprise",
    "EnterpriseAdmin",
    "EvidenceFile",
    "JobRun",
    "ListEntry",
    "LoanApplication",
    "LoanOutcome",
    "LoanProduct",
    "LoanReferral",
    "LocalPaymentObject",
    "Objection",
    "ObjectionEvent",
    "OfflineCode",
    "Partner",
    "PartnerInvitation",
    "PartnerMember",
    "Payment",
    "PaymentCustomer",
    "PaymentRefund",
    "RecordBatch",
    "RefreshToken",
    "Rental",
    "RepairApplication",
    "ReportAccess",
    "ScannerDevice",
    "ScoreHistory",
    "ScoreRebuild",
    "SigningKey",
    "StripeEvent",
    "Subject",
    "User",
    "Verification",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
