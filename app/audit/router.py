from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlmodel import select

from app.audit import runs, service
from app.audit.models import AuditCheckpoint, AuditVerificationRun
from app.audit.schemas import (
    AccessLogEntry,
    AuditEntryOut,
    AuditVerificationIn,
    AuditVerificationOut,
    CheckpointOut,
)
from app.core.db import SessionDep
from app.core.idempotency import AppRoute
from app.core.pagination import Page, PageParamsDep, fetch_page, page_of
from app.deps import AuditorDep, CurrentUser
from app.partners import service as partners_service

router = APIRouter(route_class=AppRoute, tags=["audit"])


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
    return Page(data=[AccessLogEntry.of(row, names) for row in rows], has_more=has_more)


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


@router.post("/v1/admin/audit-verifications", status_code=202)
def request_audit_verification(
    body: AuditVerificationIn, reviewer: AuditorDep, session: SessionDep
) -> AuditVerificationOut:
    """Ask the worker to walk the audit log (auditors and operators), as ``xinyi audit verify`` does: every
    chain entry by entry, and every signed checkpoint; or only ``chain``. Follow it at
    ``GET /v1/admin/audit-verifications/{id}``. While a walk of the same scope is queued or running, that
    one is answered. The request is recorded on the system chain."""
    return _out(runs.request(session, reviewer, body.chain))


@router.get("/v1/admin/audit-verifications")
def list_audit_verifications(
    reviewer: AuditorDep, session: SessionDep, page: PageParamsDep
) -> Page[AuditVerificationOut]:
    """The walks asked for, newest first: the console shows the latest (the worker walks the whole log
    daily of its own accord)."""
    return page_of(runs.list_runs(session, page), _out)


@router.get("/v1/admin/audit-verifications/{run_id}")
def get_audit_verification(
    run_id: Annotated[str, Path(max_length=32)], reviewer: AuditorDep, session: SessionDep
) -> AuditVerificationOut:
    """One walk: its progress while it runs, its answer when done."""
    return _out(runs.get(session, run_id))


def _out(run: AuditVerificationRun) -> AuditVerificationOut:
    return AuditVerificationOut.model_validate(run, from_attributes=True)
