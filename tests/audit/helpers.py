"""Making audit entries and editing them "by hand", as someone with database access would."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlmodel import Session

from app.audit import service
from app.audit.models import AuditEntry
from app.core.principal import Principal

PARTNER = Principal(type="partner", id="ptn_TESTPOWERBANK", partner_kind="merchant")
OPERATOR = Principal(type="user", id="usr_TESTOPERATOR", roles=frozenset({"operator"}))


def new_subject_id() -> str:
    """A subject id no other test (nor an earlier committed run) has used."""
    return f"sub_{uuid.uuid4().hex[:24]}"


def written(session: Session, refs: list[service.EntryRef]) -> list[AuditEntry]:
    """Entries are written as their transaction commits: commit, then read them back as stored."""
    session.commit()
    entries = [session.get(AuditEntry, ref.id) for ref in refs]
    assert all(entry is not None for entry in entries)
    return [entry for entry in entries if entry is not None]


def record_scan(session: Session, subject_id: str, n: int) -> service.EntryRef:
    """A partner's scan of the subject (verification ``ver_<n>``), recorded in the session's transaction:
    written when it commits."""
    return service.record(
        session,
        actor=PARTNER,
        subject_id=subject_id,
        action="pass.verified",
        purpose="deposit-free rental",
        legal_basis="subject consent",
        details={"verification_id": f"ver_{n}"},
    )


def record_scans(session: Session, subject_id: str, count: int) -> list[AuditEntry]:
    """``count`` scans of the subject, committed, as stored."""
    return written(session, [record_scan(session, subject_id, n) for n in range(count)])


def allow_hand_edits(session: Session) -> None:
    """Switch off the append-only trigger for the rest of the test's transaction (DDL is transactional on
    both databases, so the rollback at the end of the test puts it back)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DROP TRIGGER audit_entries_no_update"))
        session.execute(text("DROP TRIGGER audit_entries_no_delete"))
    else:
        session.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
