"""Invitations: an operator invites a partner's first owner, owners invite further members; the person who
signs in with the invited phone number accepts (or declines) before the invitation expires.

The number is kept only as its keyed hash (to match the person who signs in) and masked (to show).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.core.clock import utcnow
from app.core.errors import AppError, Conflict, Forbidden, NotFound
from app.core.pagination import PageParams, fetch_page
from app.core.principal import Principal
from app.core.security import Crypto, mask_phone
from app.members import service
from app.members.models import InvitationStatus, MemberRole, PartnerInvitation, PartnerMember
from app.partners import service as partners_service
from app.partners.models import Partner, PartnerStatus

INVITATION_TTL = timedelta(days=7)


class InvitationExpired(AppError):
    status = 410
    code = "invitation_expired"
    title = "Invitation expired"


def status_of(invitation: PartnerInvitation, now: datetime | None = None) -> InvitationStatus:
    status = InvitationStatus(invitation.status)
    if status == InvitationStatus.pending and invitation.expires_at <= (now or utcnow()):
        return InvitationStatus.expired
    return status


def invite(
    session: Session, crypto: Crypto, actor: Principal, partner_id: str, raw_phone: str, role: MemberRole
) -> PartnerInvitation:
    """By an operator (an owner, for a partner's first) or an owner of the partner (any role)."""
    partner = partners_service.get_partner(session, partner_id)
    if partner.status != PartnerStatus.active:
        raise Conflict(
            "This partner is suspended; reactivate it before inviting.",
            code="partner_suspended",
            param="partner_id",
        )
    phone = accounts_service.normalise_phone(raw_phone)
    phone_hash = crypto.phone_hash(phone)
    user = session.exec(select(User).where(User.phone_hash == phone_hash)).first()
    if user is not None and service.is_member(session, partner.id, user.id):
        raise Conflict(
            "This person is already a member of this partner.", code="already_member", param="phone"
        )
    now = utcnow()
    pending = session.exec(
        select(PartnerInvitation).where(
            PartnerInvitation.partner_id == partner.id,
            PartnerInvitation.phone_hash == phone_hash,
            PartnerInvitation.status == InvitationStatus.pending,
            col(PartnerInvitation.expires_at) > now,
        )
    ).first()
    if pending is not None:
        raise Conflict(
            "This number has a pending invitation to this partner; revoke it first to invite again.",
            code="invitation_pending",
            param="phone",
        )
    invitation = PartnerInvitation(
        partner_id=partner.id,
        phone_hash=phone_hash,
        phone_masked=mask_phone(phone),
        role=role,
        invited_by=actor.actor_id,
        created_at=now,
        expires_at=now + INVITATION_TTL,
    )
    session.add(invitation)
    session.flush()
    service.audit(
        session,
        actor,
        "partner_member.invited",
        {"partner_id": partner.id, "invitation_id": invitation.id, "role": role.value},
    )
    return invitation


def list_for_partner(
    session: Session, partner_id: str, params: PageParams
) -> tuple[list[PartnerInvitation], bool]:
    partners_service.get_partner(session, partner_id)
    statement = select(PartnerInvitation).where(PartnerInvitation.partner_id == partner_id)
    return fetch_page(session, statement, PartnerInvitation.id, params)


def revoke(session: Session, actor: Principal, invitation_id: str) -> PartnerInvitation:
    """An owner withdraws a pending invitation. Revoking it again changes nothing."""
    invitation = session.get(PartnerInvitation, invitation_id)
    if invitation is None or invitation.partner_id != actor.id:
        raise NotFound("No invitation with this id.", code="invitation_not_found", param="invitation_id")
    status = status_of(invitation)
    if status == InvitationStatus.revoked:
        return invitation
    if status != InvitationStatus.pending:
        raise Conflict(f"This invitation is {status.value}.", code=f"invitation_{status.value}")
    return _close_unanswered(
        session, actor, invitation, InvitationStatus.revoked, "partner_member.invitation_revoked"
    )


def _close(session: Session, invitation: PartnerInvitation, status: InvitationStatus) -> None:
    invitation.status = status
    invitation.responded_at = utcnow()
    session.add(invitation)
    session.flush()


def _close_unanswered(
    session: Session, actor: Principal, invitation: PartnerInvitation, status: InvitationStatus, action: str
) -> PartnerInvitation:
    """Revoked by the partner or declined by the person asked: closed, and recorded alike (no member)."""
    _close(session, invitation, status)
    service.audit(
        session, actor, action, {"partner_id": invitation.partner_id, "invitation_id": invitation.id}
    )
    return invitation


def _phone_hash_of(session: Session, user: Principal) -> str:
    account = session.get(User, user.id)
    if account is None:  # pragma: no cover - the access token's account was read this request
        raise NotFound("No such user.", code="user_not_found")
    return account.phone_hash


def pending_for(session: Session, user: Principal) -> list[tuple[PartnerInvitation, Partner]]:
    """The invitations waiting for the signed-in person's phone number, newest first."""
    rows = session.exec(
        select(PartnerInvitation, Partner)
        .join(Partner, col(Partner.id) == col(PartnerInvitation.partner_id))
        .where(
            PartnerInvitation.phone_hash == _phone_hash_of(session, user),
            PartnerInvitation.status == InvitationStatus.pending,
            col(PartnerInvitation.expires_at) > utcnow(),
        )
        .order_by(col(PartnerInvitation.id).desc())
    ).all()
    return [(i, p) for i, p in rows]


def _addressed_to(session: Session, user: Principal, invitation_id: str) -> PartnerInvitation:
    """The invitation, if it was sent to this person's number; 404 for anyone else's."""
    invitation = session.get(PartnerInvitation, invitation_id)
    if invitation is None or invitation.phone_hash != _phone_hash_of(session, user):
        raise NotFound(
            "No invitation with this id for you.", code="invitation_not_found", param="invitation_id"
        )
    status = status_of(invitation)
    if status == InvitationStatus.expired:
        raise InvitationExpired("This invitation expired; ask for a new one.", param="invitation_id")
    if status != InvitationStatus.pending:
        raise Conflict(f"This invitation was {status.value}.", code=f"invitation_{status.value}")
    return invitation


def accept(session: Session, user: Principal, invitation_id: str) -> tuple[PartnerMember, Partner]:
    invitation = _addressed_to(session, user, invitation_id)
    partner = partners_service.get_partner(session, invitation.partner_id)
    if partner.status != PartnerStatus.active:
        raise Forbidden("This partner is suspended; its members cannot act.", code="partner_suspended")
    if service.is_member(session, partner.id, user.id):
        raise Conflict("You are already a member of this partner.", code="already_member")
    role = MemberRole(invitation.role)
    member = PartnerMember(
        partner_id=partner.id, user_id=user.id, role=role, invited_by=invitation.invited_by
    )
    session.add(member)
    session.flush()
    invitation.member_id = member.id
    _close(session, invitation, InvitationStatus.accepted)
    service.audit(
        session,
        service.member_principal(partner, user.id, role),
        "partner_member.joined",
        {
            "partner_id": partner.id,
            "invitation_id": invitation.id,
            "member_id": member.id,
            "role": role.value,
        },
    )
    return member, partner


def decline(session: Session, user: Principal, invitation_id: str) -> PartnerInvitation:
    invitation = _addressed_to(session, user, invitation_id)
    return _close_unanswered(
        session, user, invitation, InvitationStatus.declined, "partner_member.invitation_declined"
    )
