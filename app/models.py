"""Every table, imported in one place for Alembic and for tests that inspect the whole database."""

from app.accounts.models import RefreshToken, User
from app.audit.models import AuditChainHead, AuditEntry
from app.enterprises.models import Enterprise, EnterpriseAdmin
from app.evidence.models import EvidenceFile
from app.objections.models import Objection, ObjectionEvent
from app.partners.models import ApiKey, Partner
from app.passes.models import OfflineCode
from app.records.models import CreditRecord, ListEntry, RecordBatch
from app.repairs.models import RepairApplication
from app.reports.models import CreditReportIssue
from app.scoring.models import CreditScore, ScoreHistory, ScoreRebuild
from app.signing.models import SigningKey
from app.subjects.models import Subject
from app.verifications.models import Verification

__all__ = [
    "ApiKey",
    "AuditChainHead",
    "AuditEntry",
    "CreditRecord",
    "CreditReportIssue",
    "CreditScore",
    "Enterprise",
    "EnterpriseAdmin",
    "EvidenceFile",
    "ListEntry",
    "Objection",
    "ObjectionEvent",
    "OfflineCode",
    "Partner",
    "RecordBatch",
    "RefreshToken",
    "RepairApplication",
    "ScoreHistory",
    "ScoreRebuild",
    "SigningKey",
    "Subject",
    "User",
    "Verification",
]
