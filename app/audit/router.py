from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlmodel import select

from app.audit import checkpoints, service
from app.audit import verify as audit_verify
from app.audit.models import AuditCheckpoint, AuditEntry
from app.audit.schemas import AccessLogEntry, AuditEntryOut, AuditVerificationOut, CheckpointOut
from app.core.clock import utcnow
from app.core.db import SessionDep
from app.core.idempotency import AppRoute
from app.core.pagination import Page, PageParamsDep, fetch_page
from app.deps import AuditorDep, CurrentUser
from app.partners import service as partners_service
from app.signing.keyring import Keyring

router = APIRouter(route_class=AppRoute, tags=["audit"])


def _access_log_entry(entry: AuditEntry, names: dict[str, str]) -> AccessLogEntry:
    return AccessLogEntry(
        id=entry.id,
        created_at=entry.created_at,
        actor_type=entry.actor_type,
        # A partner is named; a staff member is not: the subject learns a role, not a colleague's account.
        partner_id=entry.actor_id if entry.actor_type == "partner" else None,
        partner_name=names.get(entry.actor_id) if entry.actor_type == "partner" else None,
        action=entry.action,
        purpose=entry.purpose,
        legal_basis=entry.legal_basis,
    )


@router.get("/v1/me/access-log")
def my_access_log(user: CurrentUser, session: SessionDep, page: PageParamsDep) -> Page[AccessLogEntry]:
    """Every read or change of your credit data by someone else: who, when, why and on what legal basis.
    Newest first. Empty until an ID number is bound to your account."""
    if user.subject_id is None:
        return Page(data=[], has_more=False)
    rows, has_more = service.list_entries(session, page, subject_id=user.subject_id)
    names = partners_service.names_of(
        session, sorted({r.actor_id for r in rows if r.actor_type == "partner"})
    )
    return Page(data=[_access_log_entry(row, names) for row in rows], has_more=has_more)


@router.get("/v1/admin/audit-entries")
def list_audit_entries(
    reviewer: AuditorDep,
    session: SessionDep,
    page: PageParamsDep,
    subject_id: Annotated[
        str | None, Query(max_length=32, description="Only this subject's entries.")
    ] = None,
    action: Annotated[str | None, Query(max_length=64, description="Only this action.")] = None,
) -> Page[AuditEntryOut]:
    """The audit log in full, newest first (auditors and operators). This read is itself recorded, on the
    system chain."""
    rows, has_more = service.review_entries(session, reviewer, page, subject_id=subject_id, action=action)
    return Page(
        data=[AuditEntryOut.model_validate(row, from_attributes=True) for row in rows], has_more=has_more
    )


@router.get("/v1/audit/checkpoints")
def list_checkpoints(session: SessionDep, page: PageParamsDep) -> Page[CheckpointOut]:
    """The audit log's signed checkpoints, newest first; public. Auditors and partners keep copies: a
    rewritten chain, or a checkpoint removed or replaced, is then caught by ``xinyi audit verify``."""
    rows, has_more = fetch_page(session, select(AuditCheckpoint), AuditCheckpoint.id, page)
    return Page(
        data=[CheckpointOut.model_validate(row, from_attributes=True) for row in rows], has_more=has_more
    )


@router.get("/v1/admin/audit-verification")
def verify_audit_log(
    request: Request,
    reviewer: AuditorDep,
    session: SessionDep,
    chain: Annotated[
        str | None, Query(max_length=64, description="Only this chain, e.g. subject:sub_… or system.")
    ] = None,
) -> AuditVerificationOut:
    """Walk the audit log now, as ``xinyi audit verify`` does (auditors and operators): every chain entry
    by entry, and every signed checkpoint. Each problem names the first entry of its chain that no longer
    checks out. The answer carries positions and hashes only, never an entry's contents."""
    keyring: Keyring = request.app.state.keyring
    result = audit_verify.verify(session, chain=chain)
    checked, problems = checkpoints.verify_all(session, keyring)
    if chain is not None:  # only this chain's mismatches, but every checkpoint's own problems
        problems = [p for p in problems if p.chain in (chain, "checkpoints")]
    result.problems.extend(problems)
    return AuditVerificationOut(
        ok=result.ok,
        checked_at=utcnow(),
        chains=result.chains,
        entries=result.entries,
        checkpoints=checked,
        problems=[p.as_dict() for p in result.problems],
    )
