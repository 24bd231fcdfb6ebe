"""Enterprises (企业): registered by a real-name-verified resident, who becomes their first admin."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.audit import service as audit_service
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.principal import Principal
from app.enterprises.models import Enterprise, EnterpriseAdmin
from app.subjects import service as subjects_service

_GROUNDS = audit_service.Grounds("enterprise administration", "enterprise admin authorisation")


def _require_identity(user: User, who: str, param: str | None = None) -> None:
    if user.subject_id is None:
        raise Forbidden(
            f"{who} must bind a 身份证号 (real-name verification) first.",
            code="identity_required",
            param=param,
        )


def register(session: Session, actor: Principal, name: str, raw_uscc: str) -> Enterprise:
    uscc = subjects_service.normalise_uscc(raw_uscc)
    user = session.get(User, actor.id)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    _require_identity(user, "You")
    if session.exec(select(Enterprise).where(Enterprise.uscc == uscc)).first() is not None:
        raise Conflict(
            "An enterprise with this 统一社会信用代码 is already registered; ask one of its admins to add you.",
            code="enterprise_already_registered",
            param="uscc",
        )
    subject = subjects_service.get_or_create_enterprise(session, uscc, name=name.strip())
    enterprise = Enterprise(subject_id=subject.id, name=name.strip(), uscc=uscc, created_by=user.id)
    session.add(enterprise)
    session.flush()
    session.add(EnterpriseAdmin(enterprise_id=enterprise.id, user_id=user.id, added_by=user.id))
    session.flush()
    return enterprise


def get_administered(session: Session, actor: Principal, enterprise_id: str) -> Enterprise:
    """The enterprise, if ``actor`` administers it. Others get 404, so ids reveal nothing."""
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None or not is_admin(session, enterprise.id, actor.id):
        raise NotFound("No such enterprise among yours.", code="enterprise_not_found")
    return enterprise


def is_admin(session: Session, enterprise_id: str, user_id: str) -> bool:
    return (
        session.exec(
            select(EnterpriseAdmin).where(
                EnterpriseAdmin.enterprise_id == enterprise_id, EnterpriseAdmin.user_id == user_id
            )
        ).first()
        is not None
    )


def list_for_user(session: Session, user_id: str) -> list[Enterprise]:
    statement = (
        select(Enterprise)
        .join(EnterpriseAdmin, col(EnterpriseAdmin.enterprise_id) == col(Enterprise.id))
        .where(EnterpriseAdmin.user_id == user_id)
        .order_by(col(Enterprise.id))
    )
    return list(session.exec(statement).all())


def admins(session: Session, enterprise_id: str) -> list[tuple[EnterpriseAdmin, User]]:
    statement = (
        select(EnterpriseAdmin, User)
        .join(User, col(User.id) == col(EnterpriseAdmin.user_id))
        .where(EnterpriseAdmin.enterprise_id == enterprise_id)
        .order_by(col(EnterpriseAdmin.id))
    )
    return [(admin, user) for admin, user in session.exec(statement).all()]


def add_admin(session: Session, actor: Principal, enterprise: Enterprise, new_admin: User) -> EnterpriseAdmin:
    _require_identity(new_admin, "The new admin", param="phone")
    if is_admin(session, enterprise.id, new_admin.id):
        raise Conflict(
            "This account is already an admin of the enterprise.", code="already_admin", param="phone"
        )
    admin = EnterpriseAdmin(enterprise_id=enterprise.id, user_id=new_admin.id, added_by=actor.id)
    session.add(admin)
    session.flush()
    details = {"enterprise_id": enterprise.id, "user_id": new_admin.id}
    _GROUNDS.record(session, actor, "enterprise.admin_added", details, subject_id=enterprise.subject_id)
    return admin


def administers_subject(session: Session, user_id: str, subject_id: str) -> bool:
    """True when ``subject_id`` is an enterprise that ``user_id`` administers."""
    statement = (
        select(EnterpriseAdmin.id)
        .join(Enterprise, col(Enterprise.id) == col(EnterpriseAdmin.enterprise_id))
        .where(Enterprise.subject_id == subject_id, EnterpriseAdmin.user_id == user_id)
    )
    return session.exec(statement).first() is not None


def acts_for(session: Session, actor: Principal, subject_id: str) -> bool:
    """A user acts for a subject that is themself (bound ID) or an enterprise they administer."""
    if actor.type != "user":
        return False
    return actor.subject_id == subject_id or administers_subject(session, actor.id, subject_id)


def subjects_acted_for(session: Session, actor: Principal) -> list[str]:
    """The user's own subject (if bound) and the subjects of the enterprises they administer."""
    subjects = [actor.subject_id] if actor.subject_id else []
    return subjects + [enterprise.subject_id for enterprise in list_for_user(session, actor.id)]
