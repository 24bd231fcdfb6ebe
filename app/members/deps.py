"""The signed-in user acting for the partner named in the path (``/v1/partners/{partner_id}/…``) with a
role that allows the call: 404 to anyone who is not its member, 403 for a suspended partner, a kind of
partner without that kind of thing, or a role without the action (app.members.permissions)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path

from app.core.db import SessionDep
from app.core.principal import Principal
from app.deps import CurrentUser
from app.members import service
from app.members.permissions import Action

PartnerIdPath = Annotated[str, Path(max_length=32, description="The partner you act for (ptn_…).")]


def acting_for(action: Action | None) -> Callable[..., Principal]:
    def acting_member(partner_id: PartnerIdPath, user: CurrentUser, session: SessionDep) -> Principal:
        return service.acting_member(session, user, partner_id, action)

    return acting_member


# Any member, whatever the role: leaving a partner needs no permission
AnyMember = Annotated[Principal, Depends(acting_for(None))]
MembersReader = Annotated[Principal, Depends(acting_for(Action.members_read))]
MembersManager = Annotated[Principal, Depends(acting_for(Action.members_manage))]
ApiKeysReader = Annotated[Principal, Depends(acting_for(Action.api_keys_read))]
ApiKeysManager = Annotated[Principal, Depends(acting_for(Action.api_keys_manage))]
DevicesReader = Annotated[Principal, Depends(acting_for(Action.scanner_devices_read))]
DevicesManager = Annotated[Principal, Depends(acting_for(Action.scanner_devices_manage))]
WebhooksReader = Annotated[Principal, Depends(acting_for(Action.webhooks_read))]
WebhooksManager = Annotated[Principal, Depends(acting_for(Action.webhooks_manage))]
ProductsReader = Annotated[Principal, Depends(acting_for(Action.loan_products_read))]
ProductsManager = Annotated[Principal, Depends(acting_for(Action.loan_products_manage))]
ReferralsReader = Annotated[Principal, Depends(acting_for(Action.referrals_read))]
ReferralsDecider = Annotated[Principal, Depends(acting_for(Action.referrals_decide))]
ReportsReader = Annotated[Principal, Depends(acting_for(Action.reports_read))]
ScansReader = Annotated[Principal, Depends(acting_for(Action.verifications_read))]
RentalsReader = Annotated[Principal, Depends(acting_for(Action.rentals_read))]
RecordsReader = Annotated[Principal, Depends(acting_for(Action.records_read))]
RecordsWriter = Annotated[Principal, Depends(acting_for(Action.records_write))]
ObjectionsReader = Annotated[Principal, Depends(acting_for(Action.objections_read))]
