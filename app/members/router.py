"""People in partner organisations over HTTP: invitations, members, and a person's own memberships.

A member names the partner in the path (``/v1/partners/{partner_id}/…``): a person may belong to several.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.core.db import SessionDep
from app.core.idempotency import AppRoute, IdempotencyDep
from app.core.pagination import Page, PageParamsDep, page_of
from app.deps import CryptoDep, CurrentUser, OperatorDep
from app.members import invitations, schemas, service
from app.members.deps import AnyMember, MembersManager, MembersReader
from app.members.models import MemberRole, PartnerInvitation, PartnerMember
from app.partners import service as partners_service
from app.partners.models import Partner, PartnerStatus

router = APIRouter(route_class=AppRoute, tags=["partner members"])


def _partner_ref(partner: Partner) -> schemas.PartnerRef:
    return schemas.PartnerRef(
        id=partner.id,
        name=partner.name,
        kind=partners_service.kind_of(partner),
        status=PartnerStatus(partner.status),
    )


def _invitation_out(invitation: PartnerInvitation) -> schemas.InvitationOut:
    return schemas.InvitationOut(
        id=invitation.id,
        partner_id=invitation.partner_id,
        phone=invitation.phone_masked,
        role=MemberRole(invitation.role),
        status=invitations.status_of(invitation),
        invited_by=invitation.invited_by,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        responded_at=invitation.responded_at,
        member_id=invitation.member_id,
    )


def _member_out(member: PartnerMember, phone: str) -> schemas.MemberOut:
    return schemas.MemberOut(
        id=member.id,
        partner_id=member.partner_id,
        user_id=member.user_id,
        phone=phone,
        role=MemberRole(member.role),
        invited_by=member.invited_by,
        created_at=member.created_at,
        updated_at=member.updated_at,
    )


def _members_page(session: SessionDep, partner_id: str, page: PageParamsDep) -> Page[schemas.MemberOut]:
    rows, has_more = service.list_members(session, partner_id, page)
    return Page(data=[_member_out(m, phone) for m, phone in rows], has_more=has_more)


# --- operators ---------------------------------------------------------------------------------------


@router.post("/v1/admin/partners/{partner_id}/invitations", status_code=201)
def invite_owner(
    partner_id: str,
    body: schemas.InviteOwner,
    op: OperatorDep,
    idem: IdempotencyDep,
    session: SessionDep,
    crypto: CryptoDep,
) -> schemas.InvitationOut:
    """Invite an owner (a partner's first): whoever signs in with this number accepts within 7 days."""
    return _invitation_out(invitations.invite(session, crypto, op, partner_id, body.phone, MemberRole.owner))


@router.get("/v1/admin/partners/{partner_id}/members")
def partner_members(
    partner_id: str, op: OperatorDep, session: SessionDep, page: PageParamsDep
) -> Page[schemas.MemberOut]:
    """A partner's members, newest first."""
    return _members_page(session, partner_id, page)


@router.get("/v1/admin/partners/{partner_id}/invitations")
def partner_invitations(
    partner_id: str, op: OperatorDep, session: SessionDep, page: PageParamsDep
) -> Page[schemas.InvitationOut]:
    """A partner's invitations, newest first, whatever their status."""
    return page_of(invitations.list_for_partner(session, partner_id, page), _invitation_out)


# --- the signed-in person --------------------------------------------------------------------------------


@router.get("/v1/me/memberships")
def my_memberships(user: CurrentUser, session: SessionDep) -> Page[schemas.Membership]:
    """The partners you belong to, your role at each and what you may do there now."""
    return Page(
        data=[
            schemas.Membership(
                id=member.id,
                partner=_partner_ref(partner),
                role=MemberRole(member.role),
                permitted_actions=service.actions_of(member, partner),
                created_at=member.created_at,
            )
            for member, partner in service.memberships_of(session, user.id)
        ],
        has_more=False,
    )


@router.get("/v1/me/invitations")
def my_invitations(user: CurrentUser, session: SessionDep) -> Page[schemas.MyInvitation]:
    """Invitations waiting for the number you signed in with."""
    return Page(
        data=[
            schemas.MyInvitation(
                id=i.id, partner=_partner_ref(p), role=MemberRole(i.role), expires_at=i.expires_at
            )
            for i, p in invitations.pending_for(session, user)
        ],
        has_more=False,
    )


@router.post(
    "/v1/me/invitations/{invitation_id}/accept",
    status_code=201,
    responses={410: {"description": "invitation_expired"}},
)
def accept_invitation(invitation_id: str, user: CurrentUser, session: SessionDep) -> schemas.Membership:
    """Become a member of the inviting partner with the invited role."""
    member, partner = invitations.accept(session, user, invitation_id)
    return schemas.Membership(
        id=member.id,
        partner=_partner_ref(partner),
        role=MemberRole(member.role),
        permitted_actions=service.actions_of(member, partner),
        created_at=member.created_at,
    )


@router.post(
    "/v1/me/invitations/{invitation_id}/decline",
    status_code=204,
    responses={410: {"description": "invitation_expired"}},
)
def decline_invitation(invitation_id: str, user: CurrentUser, session: SessionDep) -> Response:
    invitations.decline(session, user, invitation_id)
    return Response(status_code=204)


# --- members of a partner ----------------------------------------------------------------------------


@router.get("/v1/partners/{partner_id}/members")
def list_members(member: MembersReader, session: SessionDep, page: PageParamsDep) -> Page[schemas.MemberOut]:
    return _members_page(session, member.id, page)


@router.patch("/v1/partners/{partner_id}/members/{member_id}")
def change_role(
    member_id: str, body: schemas.ChangeRole, member: MembersManager, session: SessionDep
) -> schemas.MemberOut:
    """Owners only. 409 ``last_owner``: a partner always keeps an owner."""
    changed = service.change_role(session, member, member_id, body.role)
    return _member_out(changed, service.phones_of(session, [changed.user_id]).get(changed.user_id, ""))


@router.delete("/v1/partners/{partner_id}/members/{member_id}", status_code=204)
def remove_member(member_id: str, member: AnyMember, session: SessionDep) -> Response:
    """An owner removes a member, or a member leaves. Their next call is refused. 409 ``last_owner``."""
    service.remove(session, member, member_id)
    return Response(status_code=204)


@router.post("/v1/partners/{partner_id}/invitations", status_code=201)
def invite_member(
    body: schemas.InviteMember,
    member: MembersManager,
    idem: IdempotencyDep,
    session: SessionDep,
    crypto: CryptoDep,
) -> schemas.InvitationOut:
    """Owners only: whoever signs in with this number accepts within 7 days."""
    return _invitation_out(invitations.invite(session, crypto, member, member.id, body.phone, body.role))


@router.get("/v1/partners/{partner_id}/invitations")
def list_invitations(
    member: MembersReader, session: SessionDep, page: PageParamsDep
) -> Page[schemas.InvitationOut]:
    return page_of(invitations.list_for_partner(session, member.id, page), _invitation_out)


@router.post("/v1/partners/{partner_id}/invitations/{invitation_id}/revoke")
def revoke_invitation(
    invitation_id: str, member: MembersManager, session: SessionDep
) -> schemas.InvitationOut:
    return _invitation_out(invitations.revoke(session, member, invitation_id))
