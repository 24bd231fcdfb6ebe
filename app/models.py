"""Every table, imported in one place for Alembic and for tests that inspect the whole database."""

from app.accounts.models import RefreshToken, User
from app.audit.models import AuditChainHead, AuditEntry
from app.enterprises.models import Enterprise, EnterpriseAdmin
from app.partners.models import ApiKey, Partner
from app.passes.models import OfflineCode
from app.payments.models import LocalPaymentObject, Payment, PaymentCustomer, PaymentRefund, StripeEvent
from app.records.models import CreditRecord, ListEntry, RecordBatch
from app.rentals.models import Rental
from app.scoring.models import CreditScore, ScoreHistory, ScoreRebuild
from app.signing.models import SigningKey
from app.subjects.models import Subject
from app.verifications.models import Verification

__all__ = [
    "ApiKey",
    "AuditChainHead",
    "AuditEntry",
    "CreditRecord",
    "CreditScore",
    "Enterprise",
    "EnterpriseAdmin",
    "ListEntry",
    "LocalPaymentObject",
    "OfflineCode",
    "Partner",
    "Payment",
    "PaymentCustomer",
    "PaymentRefund",
    "RecordBatch",
    "RefreshToken",
    "Rental",
    "ScoreHistory",
    "ScoreRebuild",
    "SigningKey",
    "StripeEvent",
    "Subject",
    "User",
    "Verification",
]
