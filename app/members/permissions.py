"""What a member may do: the one place the role matrix is defined (README, Partner members).

An action is allowed when the member's role grants it *and* the partner's kind has that kind of thing:
scanner devices for partners that verify passes, webhook endpoints for those that receive webhooks, loan
products for banks (read from the scopes each kind may hold, app.partners.service.ALLOWED_SCOPES).
"""

from __future__ import annotations

from enum import StrEnum

from app.members.models import MemberRole
from app.partners.models import PartnerKind
from app.partners.service import ALLOWED_SCOPES


class Action(StrEnum):
    members_read = "members:read"
    members_manage = "members:manage"  # invite, change roles, remove
    api_keys_read = "api_keys:read"
    api_keys_manage = "api_keys:manage"  # create, revoke
    scanner_devices_read = "scanner_devices:read"
    scanner_devices_manage = "scanner_devices:manage"  # issue, revoke
    webhooks_read = "webhooks:read"
    webhooks_manage = "webhooks:manage"  # create, change, delete, rotate the secret
    loan_products_read = "loan_products:read"
    loan_products_manage = "loan_products:manage"  # publish, change
    referrals_read = "referrals:read"  # 信易贷 referrals, their decisions and repayment outcomes
    referrals_decide = "referrals:decide"  # approve or decline, report repayment outcomes
    reports_read = "reports:read"  # an enterprise's credit report: a disclosure on its audit chain
    verifications_read = "verifications:read"  # scans per day, eligible rate per scenario
    rentals_read = "rentals:read"  # rentals and the default rate
    records_read = "records:read"  # batches and import runs
    records_write = "records:write"  # submit a batch, upload a file
    objections_read = "objections:read"  # objections to the partner's records and their outcomes


ROLE_ACTIONS: dict[MemberRole, frozenset[Action]] = {
    MemberRole.owner: frozenset(Action),
    MemberRole.manager: frozenset(Action) - {Action.members_manage},
    MemberRole.clerk: frozenset(
        {
            # Who is in the team and which keys exist is the managers' business: a clerk at the counter
            # needs neither (least privilege; the team list shows colleagues' phones, masked though they are).
            Action.scanner_devices_read,
            Action.scanner_devices_manage,  # the counter's own devices
            Action.webhooks_read,
            Action.loan_products_read,
            # A clerk reads and scans; deciding, fetching a credit report (a disclosure of the enterprise's
            # data) and sending records that move scores take a manager.
            Action.referrals_read,
            Action.verifications_read,
            Action.rentals_read,
            Action.records_read,
            Action.objections_read,
        }
    ),
}

# The scope a partner's kind must be allowed for it to have this kind of thing at all.
_NEEDS_SCOPE: dict[str, str] = {
    "scanner_devices": "verifications:write",
    "webhooks": "webhooks:manage",
    "loan_products": "loan_products:write",
    "referrals": "referrals:read",
    "reports": "reports:read",
    "verifications": "verifications:write",
    "rentals": "rentals:write",
    "records": "records:write",
    "objections": "objections:read",
}


def resource_of(action: Action) -> str:
    """``scanner_devices:manage`` -> ``scanner_devices``."""
    return action.value.partition(":")[0]


def kind_has(kind: PartnerKind, action: Action) -> bool:
    scope = _NEEDS_SCOPE.get(resource_of(action))
    return scope is None or scope in ALLOWED_SCOPES[kind]


def permitted(role: MemberRole, kind: PartnerKind) -> list[Action]:
    """What a member of this role may do at a partner of this kind, in a stable order."""
    return [a for a in Action if a in ROLE_ACTIONS[role] and kind_has(kind, a)]


def roles_granting(action: Action) -> list[MemberRole]:
    return [role for role in MemberRole if action in ROLE_ACTIONS[role]]
