from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.members.models import InvitationStatus, MemberRole
from app.members.permissions import Action
from app.partners.models import PartnerKind, PartnerStatus


class InviteOwner(BaseModel):
    phone: str = Field(max_length=20, description="The mobile number the partner's owner signs in with.")


class InviteMember(BaseModel):
    phone: str = Field(max_length=20, description="The mobile number the new member signs in with.")
    role: MemberRole = Field(description="owner, manager or clerk (README, Partner members).")


class InvitationOut(BaseModel):
    id: str
    object: Literal["partner_invitation"] = "partner_invitation"
    partner_id: str
    phone: str = Field(description="Masked.")
    role: MemberRole
    status: InvitationStatus
    invited_by: str = Field(description="The operator's or the owner's user id.")
    created_at: datetime
    expires_at: datetime
    responded_at: datetime | None
    member_id: str | None = Field(description="The membership it made, once accepted.")


class PartnerRef(BaseModel):
    id: str
    name: str
    kind: PartnerKind
    status: PartnerStatus


class MyInvitation(BaseModel):
    """An invitation waiting for you: which partner, which role, until when."""

    id: str
    object: Literal["partner_invitation"] = "partner_invitation"
    partner: PartnerRef
    role: MemberRole
    expires_at: datetime


class MemberOut(BaseModel):
    id: str
    object: Literal["partner_member"] = "partner_member"
    partner_id: str
    user_id: str
    phone: str = Field(description="Masked.")
    role: MemberRole
    invited_by: str
    created_at: datetime
    updated_at: datetime


class ChangeRole(BaseModel):
    role: MemberRole


class Membership(BaseModel):
    """A partner you belong to, your role there and what you may do now (a console shows just these)."""

    id: str = Field(description="The membership (member) id.")
    object: Literal["membership"] = "membership"
    partner: PartnerRef
    role: MemberRole
    permitted_actions: list[Action] = Field(
        description="Empty while the partner is suspended. Each names a resource and read or manage."
    )
    created_at: datetime
