from __future__ import annotations

from fastapi import APIRouter
from sqlmodel import Session

from app.accounts import service as accounts_service
from app.audit import service as audit_service
from app.audit.schemas import AccessLogEntry
from app.core.db import SessionDep
from app.core.idempotency import AppRoute, IdempotencyDep
from app.core.pagination import Page, PageParamsDep
from app.deps import CryptoDep, CurrentUser
from app.enterprises import service
from app.enterprises.models import Enterprise
from app.enterprises.schemas import AddAdmin, EnterpriseAdminOut, EnterpriseOut, RegisterEnterprise

router = APIRouter(route_class=AppRoute, tags=["enterprises"])


def _out(session: Session, enterprise: Enterprise) -> EnterpriseOut:
    return EnterpriseOut(
        **enterprise.model_dump(exclude={"created_by"}),
        admins=[
            EnterpriseAdminOut(user_id=user.id, phone=user.phone_masked, added_at=admin.created_at)
            for admin, user in service.admins(session, enterprise.id)
        ],
    )


@router.post("/v1/enterprises", status_code=201)
def register_enterprise(
    body: RegisterEnterprise, user: CurrentUser, idem: IdempotencyDep, session: SessionDep
) -> EnterpriseOut:
    """Register an enterprise by its 统一社会信用代码; you become its first admin."""
    return _out(session, service.register(session, user, body.name, body.uscc))


@router.get("/v1/me/enterprises")
def my_enterprises(user: CurrentUser, session: SessionDep) -> Page[EnterpriseOut]:
    """The enterprises you administer, in the API's list shape (all of them: a person administers few)."""
    return Page(data=[_out(session, e) for e in service.list_for_user(session, user.id)], has_more=False)


@router.get("/v1/enterprises/{enterprise_id}")
def get_enterprise(enterprise_id: str, user: CurrentUser, session: SessionDep) -> EnterpriseOut:
    return _out(session, service.get_administered(session, user, enterprise_id))


@router.post("/v1/enterprises/{enterprise_id}/admins", status_code=201)
def add_admin(
    enterprise_id: str,
    body: AddAdmin,
    user: CurrentUser,
    idem: IdempotencyDep,
    session: SessionDep,
    crypto: CryptoDep,
) -> EnterpriseOut:
    """Add another admin by phone number. They must have signed in once and bound their ID."""
    enterprise = service.get_administered(session, user, enterprise_id)
    new_admin = accounts_service.find_user_by_phone(session, crypto, body.phone)
    service.add_admin(session, user, enterprise, new_admin)
    return _out(session, enterprise)


@router.get("/v1/enterprises/{enterprise_id}/access-log")
def enterprise_access_log(
    enterprise_id: str, user: CurrentUser, session: SessionDep, page: PageParamsDep
) -> Page[AccessLogEntry]:
    """Every read or change of the enterprise's credit data (a bank fetching its 信易贷 report, …): who,
    when, why and on what legal basis. Newest first; for the enterprise's admins."""
    enterprise = service.get_administered(session, user, enterprise_id)
    rows, has_more = audit_service.list_entries(session, page, subject_id=enterprise.subject_id)
    # Partners are given by id only here, as this log has always shown them.
    return Page(data=[AccessLogEntry.of(entry, {}) for entry in rows], has_more=has_more)
