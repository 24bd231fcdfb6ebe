"""Every table, imported in one place for Alembic and for tests that inspect the whole database."""

from app.accounts.models import RefreshToken, User
from app.audit.models import AuditChainHead, AuditEntry
from app.enterprises.models import Enterprise, EnterpriseAdmin
from app.partners.models import ApiKey, Partner
from app.subjects.models import Subject

__all__ = [
    "ApiKey",
    "AuditChainHead",
    "AuditEntry",
    "Enterprise",
    "EnterpriseAdmin",
    "Partner",
    "RefreshToken",
    "Subject",
    "User",
]
