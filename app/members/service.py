"""Partner members: who acts for which partner, with which role, and the checks every member call makes.

Membership is read with every request (never kept in a token or a cache), so a removed member, a changed
role or a suspended partner takes effect with the member's next call. Services never commit.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.core.clock import utcnow
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.pagination import PageParams, fetch_page
from app.core.principal import Principal
from app.members.models import MemberRole, PartnerMember
from app.members.permissions import Action, kind_has, permitted, resource_of, roles_granting
from app.partners import service as partners_service
from app.partners.models import Partner, PartnerKind, PartnerStatus


def audit(session: Session, actor: Principal, action: str, details: dict[str, Any]) -> None:
    """Ids and roles only: never a phone number."""
    partners_service.ACCESS_MANAGEMENT.record(session, actor, action, details)


def member_principal(partner: Partner, user_id: str, role: MemberRole) -> Principal:
    """The member acting for the partner: to the partner's services it is the partner (as its API key
    is); the audit log and ``created_by`` name the person (``Principal.actor_id``)."""
    return Principal(
        type="partner",
        id=partner.id,
        partner_kind=partners_service.kind_of(partner).value,
        roles=frozenset({role.value}),
        member_user_id=user_id,
    )


def _not_yours() -> NotFound:
    # The same answer whether the partner exists or not: a non-member learns nothing about it.
    return NotFound(
        "You are not a member of a partner with this id.", code="partner_not_found", param="partner_id"
    )


def membership(session: Session, partner_id: str, user_id: str) -> tuple[PartnerMember, Partner] | None:
    row = session.exec(
        select(PartnerMember, Partner)
        .join(Partner, col(Partner.id) == col(PartnerMember.partner_id))
        .where(PartnerMember.partner_id == partner_id, PartnerMember.user_id == user_id)
    ).first()
    return (row[0], row[1]) if row is not None else None


def acting_member(session: Session, user: Principal, partner_id: str, action: Action | None) -> Principal:
    """The signed-in ``user`` as a member of ``partner_id`` allowed to do ``action`` (``None``: any member,
    whatever the role), else the refusal: 404 to a non-member (whoever they are), 403 ``partner_suspended``,
    ``not_for_partner_kind`` or ``role_required``."""
    found = membership(session, partner_id, user.id)
    if found is None:
        raise _not_yours()
    member, partner = found
    if partner.status != PartnerStatus.active:
        raise Forbidden("This partner is suspended; its members cannot act.", code="partner_suspended")
    kind = partners_service.kind_of(partner)
    role = MemberRole(member.role)
    if action is None:
        return member_principal(partner, user.id, role)
    if not kind_has(kind, action):
        raise Forbidden(
            f"A {kind.value} partner has no {resource_of(action).replace('_', ' ')}.",
            code="not_for_partner_kind",
        )
    if role not in roles_granting(action):
        allowed = " or ".join(r.value for r in roles_granting(action))
        raise Forbidden(f"This needs the {allowed} role in this partner.", code="role_required")
    return member_principal(partner, user.id, role)


def memberships_of(session: Session, user_id: str) -> list[tuple[PartnerMember, Partner]]:
    """Every partner the person belongs to, oldest membership first."""
    rows = session.exec(
        select(PartnerMember, Partner)
        .join(Partner, col(Partner.id) == col(PartnerMember.partner_id))
        .where(PartnerMember.user_id == user_id)
        .order_by(col(PartnerMember.id))
    ).all()
    return [(m, p) for m, p in rows]


def actions_of(member: PartnerMember, partner: Partner) -> list[Action]:
    """What the member may do now: nothing while the partner is suspended."""
    if partner.status != PartnerStatus.active:
        return []
    return permitted(MemberRole(member.role), PartnerKind(partner.kind))


def list_members(
    session: Session, partner_id: str, params: PageParams
) -> tuple[list[tuple[PartnerMember, str]], bool]:
    """One page of members, newest first, each with its masked phone."""
    partners_service.get_partner(session, partner_id)
    rows, has_more = fetch_page(
        session, select(PartnerMember).where(PartnerMember.partner_id == partner_id), PartnerMember.id, params
    )
    phones = phones_of(session, [m.user_id for m in rows])
    return [(m, phones.get(m.user_id, "")) for m in rows], has_more


def phones_of(session: Session, user_ids: list[str]) -> dict[str, str]:
    """Masked phone numbers by user id."""
    if not user_ids:
        return {}
    return dict(session.exec(select(User.id, User.phone_masked).where(col(User.id).in_(user_ids))).all())


def is_member(session: Session, partner_id: str, user_id: str) -> bool:
    return membership(session, partner_id, user_id) is not None


def _lock_partner(session: Session, partner_id: str) -> Partner:
    """Changes to a partner's members queue on its row (PostgreSQL; SQLite writes one at a time), so two
    owners demoting each other at once cannot leave it without an owner."""
    partner = session.exec(select(Partner).where(Partner.id == partner_id).with_for_update()).first()
    if partner is None:
        raise _not_yours()
    return partner


def _get_member(session: Session, partner_id: str, member_id: str) -> PartnerMember:
    member = session.get(PartnerMember, member_id)
    if member is None or member.partner_id != partner_id:
        raise NotFound("No member with this id.", code="member_not_found", param="member_id")
    return member


def _refuse_last_owner(session: Session, member: PartnerMember) -> None:
    if member.role != MemberRole.owner:
        return
    owners = session.exec(
        select(PartnerMember.id).where(
            PartnerMember.partner_id == member.partner_id, PartnerMember.role == MemberRole.owner
        )
    ).all()
    if len(owners) <= 1:
        raise Conflict(
            "This is the partner's only owner; make another member owner first.",
            code="last_owner",
            param="member_id",
        )


def change_role(session: Session, actor: Principal, member_id: str, role: MemberRole) -> PartnerMember:
    """An owner changes a member's role (their own too, while another owner remains)."""
    _lock_partner(session, actor.id)
    member = _get_member(session, actor.id, member_id)
    if member.role == role:
        return member
    if role != MemberRole.owner:
        _refuse_last_owner(session, member)
    previous = MemberRole(member.role)
    member.role = role
    member.updated_at = utcnow()
    session.add(member)
    session.flush()
    audit(
        session,
        actor,
        "partner_member.role_changed",
        {"partner_id": actor.id, "member_id": member.id, "from": previous.value, "to": role.value},
    )
    return member


def remove(session: Session, actor: Principal, member_id: str) -> PartnerMember:
    """An owner removes a member, or a member leaves; never the partner's only owner. The member's next
    call is refused (membership is read with every call); the partner's API keys stay, whoever made them."""
    _lock_partner(session, actor.id)
    member = _get_member(session, actor.id, member_id)
    if member.user_id != actor.member_user_id and MemberRole.owner.value not in actor.roles:
        raise Forbidden("Only an owner removes other members.", code="role_required")
    _refuse_last_owner(session, member)
    session.delete(member)
    session.flush()
    audit(
        session,
        actor,
        "partner_member.removed",
        {"partner_id": actor.id, "member_id": member.id, "user_id": member.user_id, "role": member.role},
    )
    return member
