"""What members do for their partner and what stops them: roles, removal, suspension, other partners."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit.models import AuditEntry
from app.core.config import Settings
from app.passes import qr
from app.scanners.models import ScannerDevice
from tests.helpers import table_snapshot
from tests.members.helpers import idem, member, partner, person


def _post(client: TestClient, path: str, who: dict[str, Any], body: dict[str, Any] | None = None) -> Any:
    return client.post(path, json=body, headers={**who["headers"], **idem()})


def test_a_member_acts_as_the_partner_and_the_audit_log_names_the_member(
    client: TestClient, db: Session, settings: Settings
) -> None:
    partner_id = partner(db, "merchant")
    manager = member(db, settings, partner_id, "manager")

    created = _post(client, f"/v1/partners/{partner_id}/api-keys", manager, {"name": "收银台"})
    assert created.status_code == 201, created.text
    key = created.json()
    assert created.headers["cache-control"] == "no-store"
    assert (key["partner_id"], key["created_by"], key["scopes"]) == (
        partner_id,
        manager["id"],
        ["rentals:write", "verifications:write"],
    )
    # the key works as the partner's
    me = client.get("/v1/partner/me", headers={"Authorization": f"Bearer {key['secret']}"})
    assert me.json()["id"] == partner_id
    listed = client.get(f"/v1/partners/{partner_id}/api-keys", headers=manager["headers"]).json()["data"]
    assert [(k["id"], "secret" in k) for k in listed] == [(key["id"], False)]
    device = _post(
        client, f"/v1/partners/{partner_id}/scanner-devices", manager, {"name": "前台 1号机"}
    ).json()
    assert (device["status"], device["scopes"]) == (
        "awaiting_enrolment",
        ["verifications:write", "rentals:counter"],
    )
    assert device["enrolment_qr_svg_data_url"] == qr.svg_data_url(
        qr.svg(qr.encode_text(f"XINYI-ENROL:{device['enrolment_code']}"))
    )
    revoked = client.post(
        f"/v1/partners/{partner_id}/api-keys/{key['id']}/revoke", headers=manager["headers"]
    )
    assert revoked.json()["revoked_at"] is not None

    entries = db.exec(
        select(AuditEntry).where(
            AuditEntry.action.in_(["api_key.created", "scanner_device.created", "api_key.revoked"])  # type: ignore[attr-defined]
        )
    ).all()
    # (other tests' committed entries may be in the table too: only this partner's count)
    ours = [e for e in entries if e.details["partner_id"] == partner_id]
    assert sorted((e.action, e.actor_type, e.actor_id, e.details["partner_id"]) for e in ours) == [
        ("api_key.created", "member", manager["id"], partner_id),
        ("api_key.revoked", "member", manager["id"], partner_id),
        ("scanner_device.created", "member", manager["id"], partner_id),
    ]
    assert db.get(ScannerDevice, device["id"]).created_by == manager["id"]  # type: ignore[union-attr]


def test_a_member_of_one_partner_never_reaches_another_partners_things(
    client: TestClient, db: Session, settings: Settings
) -> None:
    mine, theirs = partner(db, "merchant"), partner(db, "merchant")
    owner = member(db, settings, mine, "owner")
    stranger = member(db, settings, theirs, "owner")
    their_key = _post(client, f"/v1/partners/{theirs}/api-keys", stranger, {"name": "x"}).json()
    their_device = _post(client, f"/v1/partners/{theirs}/scanner-devices", stranger, {"name": "x"}).json()
    before = table_snapshot(db)

    for method, path, code in (
        ("POST", f"/v1/partners/{mine}/api-keys/{their_key['id']}/revoke", "api_key_not_found"),
        (
            "POST",
            f"/v1/partners/{mine}/scanner-devices/{their_device['id']}/revoke",
            "scanner_device_not_found",
        ),
        ("PATCH", f"/v1/partners/{mine}/members/{stranger['member_id']}", "member_not_found"),
        ("DELETE", f"/v1/partners/{mine}/members/{stranger['member_id']}", "member_not_found"),
        ("GET", f"/v1/partners/{theirs}/api-keys", "partner_not_found"),
        ("DELETE", f"/v1/partners/{theirs}/members/{stranger['member_id']}", "partner_not_found"),
    ):
        body = {"role": "clerk"} if method == "PATCH" else None
        response = client.request(method, path, json=body, headers=owner["headers"])
        assert (response.status_code, response.json()["code"]) == (404, code), path

    assert table_snapshot(db) == before
    assert client.get(f"/v1/partners/{mine}/api-keys", headers=owner["headers"]).json()["data"] == []


def test_a_person_in_two_partners_names_the_one_they_act_for(
    client: TestClient, db: Session, settings: Settings
) -> None:
    bank, shop = partner(db, "bank"), partner(db, "merchant")
    who = member(db, settings, bank, "clerk")
    member_id = member(db, settings, shop, "owner")["member_id"]  # another person
    from tests.members.helpers import make_member

    make_member(db, shop, who, "manager")
    mine = client.get("/v1/me/memberships", headers=who["headers"]).json()["data"]
    assert [(m["partner"]["id"], m["role"], m["permitted_actions"]) for m in mine] == [
        (
            bank,
            "clerk",
            ["webhooks:read", "loan_products:read", "referrals:read"],
        ),
        (
            shop,
            "manager",
            [
                "members:read",
                "api_keys:read",
                "api_keys:manage",
                "scanner_devices:read",
                "scanner_devices:manage",
                "verifications:read",
                "rentals:read",
            ],
        ),
    ]
    assert _post(client, f"/v1/partners/{shop}/api-keys", who, {"name": "x"}).status_code == 201
    refused = _post(client, f"/v1/partners/{bank}/api-keys", who, {"name": "x"})
    assert (refused.status_code, refused.json()["code"]) == (403, "role_required")
    assert member_id


def test_a_partner_kind_without_a_thing_refuses_it(
    client: TestClient, db: Session, settings: Settings
) -> None:
    shop = partner(db, "merchant")
    owner = member(db, settings, shop, "owner")
    before = table_snapshot(db)
    for path, body in (
        (f"/v1/partners/{shop}/webhook-endpoints", {"url": "http://127.0.0.1:9/x"}),
        (f"/v1/partners/{shop}/loan-products", {"name": "贷"}),
    ):
        response = _post(client, path, owner, body)
        assert (response.status_code, response.json()["code"]) == (403, "not_for_partner_kind")
    bank = partner(db, "bank")
    banker = member(db, settings, bank, "owner")
    response = _post(client, f"/v1/partners/{bank}/scanner-devices", banker, {"name": "x"})
    assert (response.status_code, response.json()["code"]) == (403, "not_for_partner_kind")
    assert table_snapshot(db)["api_keys"] == before["api_keys"]


def test_a_removed_member_loses_access_at_once_and_a_changed_role_applies_at_once(
    client: TestClient, db: Session, settings: Settings
) -> None:
    shop = partner(db, "merchant")
    owner = member(db, settings, shop, "owner")
    manager = member(db, settings, shop, "manager")
    assert client.get(f"/v1/partners/{shop}/api-keys", headers=manager["headers"]).status_code == 200

    demoted = client.patch(
        f"/v1/partners/{shop}/members/{manager['member_id']}",
        json={"role": "clerk"},
        headers=owner["headers"],
    )
    assert (demoted.status_code, demoted.json()["role"]) == (200, "clerk")
    refused = _post(client, f"/v1/partners/{shop}/api-keys", manager, {"name": "x"})
    assert (refused.status_code, refused.json()["code"]) == (403, "role_required")

    removed = client.delete(f"/v1/partners/{shop}/members/{manager['member_id']}", headers=owner["headers"])
    assert removed.status_code == 204
    gone = client.get(f"/v1/partners/{shop}/api-keys", headers=manager["headers"])  # the same access token
    assert (gone.status_code, gone.json()["code"]) == (404, "partner_not_found")
    assert client.get("/v1/me/memberships", headers=manager["headers"]).json()["data"] == []


def test_a_partner_always_keeps_an_owner(client: TestClient, db: Session, settings: Settings) -> None:
    shop = partner(db, "merchant")
    owner = member(db, settings, shop, "owner")
    clerk = member(db, settings, shop, "clerk")
    before = table_snapshot(db)
    for response in (
        client.patch(
            f"/v1/partners/{shop}/members/{owner['member_id']}",
            json={"role": "manager"},
            headers=owner["headers"],
        ),
        client.delete(f"/v1/partners/{shop}/members/{owner['member_id']}", headers=owner["headers"]),
    ):
        assert (response.status_code, response.json()["code"]) == (409, "last_owner")
    assert table_snapshot(db) == before

    promoted = client.patch(
        f"/v1/partners/{shop}/members/{clerk['member_id']}", json={"role": "owner"}, headers=owner["headers"]
    )
    assert promoted.json()["role"] == "owner"
    left = client.delete(f"/v1/partners/{shop}/members/{owner['member_id']}", headers=owner["headers"])
    assert left.status_code == 204
    members = client.get(f"/v1/partners/{shop}/members", headers=clerk["headers"]).json()["data"]
    assert [(m["user_id"], m["role"]) for m in members] == [(clerk["id"], "owner")]


def test_any_member_may_leave(client: TestClient, db: Session, settings: Settings) -> None:
    shop = partner(db, "merchant")
    member(db, settings, shop, "owner")
    clerk = member(db, settings, shop, "clerk")
    assert (
        client.delete(
            f"/v1/partners/{shop}/members/{clerk['member_id']}", headers=clerk["headers"]
        ).status_code
        == 204
    )
    assert client.get("/v1/me/memberships", headers=clerk["headers"]).json()["data"] == []


def test_a_clerk_may_leave_but_not_read_the_team_or_remove_another(
    client: TestClient, db: Session, settings: Settings
) -> None:
    shop = partner(db, "merchant")
    owner = member(db, settings, shop, "owner")
    clerk = member(db, settings, shop, "clerk")
    before = table_snapshot(db)
    for response in (
        client.get(f"/v1/partners/{shop}/members", headers=clerk["headers"]),
        client.get(f"/v1/partners/{shop}/invitations", headers=clerk["headers"]),
        client.get(f"/v1/partners/{shop}/api-keys", headers=clerk["headers"]),
        client.delete(f"/v1/partners/{shop}/members/{owner['member_id']}", headers=clerk["headers"]),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "role_required")
    assert table_snapshot(db) == before


def test_members_of_a_suspended_partner_cannot_act(
    client: TestClient, db: Session, settings: Settings
) -> None:
    shop = partner(db, "merchant")
    owner = member(db, settings, shop, "owner")
    operator = person(db, settings, roles=["operator"])
    assert client.post(f"/v1/admin/partners/{shop}/suspend", headers=operator["headers"]).status_code == 200
    before = table_snapshot(db)

    for method, path in (
        ("GET", f"/v1/partners/{shop}/members"),
        ("POST", f"/v1/partners/{shop}/api-keys"),
        ("POST", f"/v1/partners/{shop}/scanner-devices"),
    ):
        response = client.request(method, path, json={"name": "x"}, headers=owner["headers"])
        assert (response.status_code, response.json()["code"]) == (403, "partner_suspended")
    mine = client.get("/v1/me/memberships", headers=owner["headers"]).json()["data"]
    assert [(m["partner"]["status"], m["permitted_actions"]) for m in mine] == [("suspended", [])]
    assert table_snapshot(db) == before

    assert (
        client.post(f"/v1/admin/partners/{shop}/reactivate", headers=operator["headers"]).status_code == 200
    )
    assert client.get(f"/v1/partners/{shop}/members", headers=owner["headers"]).status_code == 200
