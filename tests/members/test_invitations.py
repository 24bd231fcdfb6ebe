"""Invitations end to end over HTTP, with the real sign-in (challenge + the code the test SMS sender got):
an operator invites a partner's first owner, the owner invites a clerk, each accepts after signing in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit.models import AuditEntry
from app.core.sms import RecordingSender
from app.members.models import PartnerMember
from tests.helpers import make_phone, sign_in, sign_in_with_role, table_snapshot
from tests.members.helpers import idem


def _partner(client: TestClient, operator: dict[str, str], kind: str = "merchant") -> str:
    response = client.post(
        "/v1/admin/partners", json={"name": "乌鲁木齐充电宝", "kind": kind}, headers=operator
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _invite(client: TestClient, path: str, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(path, json=body, headers={**headers, **idem()})
    assert response.status_code == 201, response.text
    invitation: dict[str, Any] = response.json()
    return invitation


def _accept(client: TestClient, who: dict[str, Any], invitation_id: str) -> dict[str, Any]:
    response = client.post(f"/v1/me/invitations/{invitation_id}/accept", headers=who["headers"])
    assert response.status_code == 201, response.text
    membership: dict[str, Any] = response.json()
    return membership


def test_an_operator_invites_the_first_owner_who_invites_a_clerk(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    operator = sign_in_with_role(client, sms, db, "operator")
    partner_id = _partner(client, operator)
    owner_phone, clerk_phone = make_phone(), make_phone()

    invited = _invite(client, f"/v1/admin/partners/{partner_id}/invitations", operator, phone=owner_phone)
    assert invited["phone"] == owner_phone[:3] + "****" + owner_phone[-4:]
    assert (invited["role"], invited["status"], invited["member_id"]) == ("owner", "pending", None)

    owner = sign_in(client, sms, owner_phone)
    waiting = client.get("/v1/me/invitations", headers=owner["headers"]).json()["data"]
    assert [(i["id"], i["partner"]["id"], i["role"]) for i in waiting] == [
        (invited["id"], partner_id, "owner")
    ]
    membership = _accept(client, owner, invited["id"])
    assert membership["partner"] == {
        "id": partner_id,
        "name": "乌鲁木齐充电宝",
        "kind": "merchant",
        "status": "active",
    }
    assert membership["role"] == "owner"
    assert membership["permitted_actions"] == [
        "members:read",
        "members:manage",
        "api_keys:read",
        "api_keys:manage",
        "scanner_devices:read",
        "scanner_devices:manage",
        "verifications:read",
        "rentals:read",
    ]
    assert client.get("/v1/me/invitations", headers=owner["headers"]).json()["data"] == []

    to_clerk = _invite(
        client, f"/v1/partners/{partner_id}/invitations", owner["headers"], phone=clerk_phone, role="clerk"
    )
    clerk = sign_in(client, sms, clerk_phone)
    joined = _accept(client, clerk, to_clerk["id"])
    assert (joined["role"], joined["permitted_actions"]) == (
        "clerk",
        [
            "scanner_devices:read",
            "scanner_devices:manage",
            "verifications:read",
            "rentals:read",
        ],
    )
    mine = client.get("/v1/me/memberships", headers=clerk["headers"]).json()["data"]
    assert [(m["partner"]["id"], m["role"]) for m in mine] == [(partner_id, "clerk")]

    members = client.get(f"/v1/partners/{partner_id}/members", headers=owner["headers"]).json()["data"]
    assert [(m["user_id"], m["role"], m["phone"]) for m in members] == [
        (clerk["user_id"], "clerk", clerk_phone[:3] + "****" + clerk_phone[-4:]),
        (owner["user_id"], "owner", owner_phone[:3] + "****" + owner_phone[-4:]),
    ]
    listed = client.get(f"/v1/partners/{partner_id}/invitations", headers=owner["headers"]).json()["data"]
    assert [(i["id"], i["status"], i["member_id"]) for i in listed] == [
        (to_clerk["id"], "accepted", joined["id"]),
        (invited["id"], "accepted", membership["id"]),
    ]
    # the audit log names the people, never a phone number
    entries = db.exec(
        select(AuditEntry).where(AuditEntry.action.startswith("partner_member."))  # type: ignore[attr-defined]
    ).all()
    entries = [e for e in entries if e.details["partner_id"] == partner_id]  # not other tests' committed ones
    assert sorted((e.action, e.actor_type, e.actor_id) for e in entries) == sorted(
        [
            ("partner_member.invited", "operator", invited["invited_by"]),
            ("partner_member.joined", "member", owner["user_id"]),
            ("partner_member.invited", "member", owner["user_id"]),
            ("partner_member.joined", "member", clerk["user_id"]),
        ]
    )
    assert not any(owner_phone in str(e.details) or clerk_phone in str(e.details) for e in entries)


def test_an_invitation_is_only_for_the_invited_number_and_only_once(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    operator = sign_in_with_role(client, sms, db, "operator")
    partner_id = _partner(client, operator)
    phone = make_phone()
    invited = _invite(client, f"/v1/admin/partners/{partner_id}/invitations", operator, phone=phone)
    stranger = sign_in(client, sms, make_phone())
    before = table_snapshot(db)

    refused = client.post(f"/v1/me/invitations/{invited['id']}/accept", headers=stranger["headers"])
    assert (refused.status_code, refused.json()["code"]) == (404, "invitation_not_found")
    assert client.get("/v1/me/invitations", headers=stranger["headers"]).json()["data"] == []
    assert table_snapshot(db) == before

    owner = sign_in(client, sms, phone)
    _accept(client, owner, invited["id"])
    again = client.post(f"/v1/me/invitations/{invited['id']}/accept", headers=owner["headers"])
    assert (again.status_code, again.json()["code"]) == (409, "invitation_accepted")
    twice = client.post(
        f"/v1/admin/partners/{partner_id}/invitations", json={"phone": phone}, headers={**operator, **idem()}
    )
    assert (twice.status_code, twice.json()["code"]) == (409, "already_member")


def test_an_invitation_expires_after_seven_days(
    client: TestClient, sms: RecordingSender, db: Session, pinned_clock: time_machine.TimeMachineFixture
) -> None:
    operator = sign_in_with_role(client, sms, db, "operator")
    partner_id = _partner(client, operator)
    phone = make_phone()
    invited = _invite(client, f"/v1/admin/partners/{partner_id}/invitations", operator, phone=phone)
    pinned_clock.shift(timedelta(days=7, seconds=1))
    owner = sign_in(client, sms, phone)
    before = table_snapshot(db)

    refused = client.post(f"/v1/me/invitations/{invited['id']}/accept", headers=owner["headers"])

    assert (refused.status_code, refused.json()["code"]) == (410, "invitation_expired")
    assert table_snapshot(db) == before
    assert client.get("/v1/me/memberships", headers=owner["headers"]).json()["data"] == []
    operator = sign_in_with_role(client, sms, db, "operator")  # the first one's access token expired
    listed = client.get(f"/v1/admin/partners/{partner_id}/invitations", headers=operator).json()["data"]
    assert [i["status"] for i in listed] == ["expired"]
    # an expired invitation no longer blocks a new one
    _invite(client, f"/v1/admin/partners/{partner_id}/invitations", operator, phone=phone)


def test_a_revoked_or_declined_invitation_cannot_be_accepted(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    operator = sign_in_with_role(client, sms, db, "operator")
    partner_id = _partner(client, operator)
    owner_phone, first, second = make_phone(), make_phone(), make_phone()
    owner = sign_in(client, sms, owner_phone)
    _accept(
        client,
        owner,
        _invite(client, f"/v1/admin/partners/{partner_id}/invitations", operator, phone=owner_phone)["id"],
    )
    path = f"/v1/partners/{partner_id}/invitations"
    revoked = _invite(client, path, owner["headers"], phone=first, role="manager")
    declined = _invite(client, path, owner["headers"], phone=second, role="clerk")

    pending = client.post(
        path, json={"phone": first, "role": "clerk"}, headers={**owner["headers"], **idem()}
    )
    assert (pending.status_code, pending.json()["code"]) == (409, "invitation_pending")
    response = client.post(f"{path}/{revoked['id']}/revoke", headers=owner["headers"])
    assert (response.status_code, response.json()["status"]) == (200, "revoked")
    second_person = sign_in(client, sms, second)
    response = client.post(f"/v1/me/invitations/{declined['id']}/decline", headers=second_person["headers"])
    assert response.status_code == 204

    first_person = sign_in(client, sms, first)
    for who, invitation, code in (
        (first_person, revoked, "invitation_revoked"),
        (second_person, declined, "invitation_declined"),
    ):
        refused = client.post(f"/v1/me/invitations/{invitation['id']}/accept", headers=who["headers"])
        assert (refused.status_code, refused.json()["code"]) == (409, code)
    assert db.exec(select(PartnerMember).where(PartnerMember.partner_id == partner_id)).all() != []
    assert [
        m.user_id for m in db.exec(select(PartnerMember).where(PartnerMember.partner_id == partner_id))
    ] == [owner["user_id"]]
