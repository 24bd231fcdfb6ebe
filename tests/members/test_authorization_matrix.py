"""Every members endpoint × every role: owner, manager and clerk of partner A, the owner of partner B,
a resident, an operator, and anonymous. A refused call is answered as the API answers it (401 without
credentials, 404 to whoever is not a member of A, 403 to a member whose role lacks the action, 403 to
anyone but an operator on operator calls), as problem+json, and changes nothing in any table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.clock import business_date
from app.core.config import Settings
from app.core.principal import Principal
from app.core.security import Crypto
from app.core.sms import RecordingSender
from app.loans import products, referrals
from app.members import invitations, service
from app.members.models import MemberRole
from app.partners import service as partners_service
from app.scanners import service as scanners_service
from app.webhooks import service as webhooks_service
from tests.clock import days_ago
from tests.helpers import make_phone, table_snapshot
from tests.loans import helpers as loan_helpers
from tests.loans.helpers import PRODUCT
from tests.members.helpers import idem, member, partner, person
from tests.records.helpers import csv_text, new_id_number, penalty

ROLES = ("owner", "manager", "clerk", "other_partner_owner", "resident", "operator", "anonymous")
MANAGERS = {"owner", "manager"}
MEMBERS = {"owner", "manager", "clerk"}
SIGNED_IN = set(ROLES) - {"anonymous"}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    allowed: set[str]
    ok: int = 200
    body: dict[str, Any] | None = None
    kind: str = "merchant"
    # who answers a refusal: "member" (a member route), "operator", "me" (any signed-in person),
    # "invitee" (only the invited number's person, nobody here)
    guard: str = "member"
    headers: dict[str, str] = field(default_factory=dict)
    # bank calls on a referral: the world holds one (referred, or already approved for outcomes)
    approved: bool = False


_P = "/v1/partners/{partner}"
DECLINE = {"decision": "declined", "reason": "credit_history"}
UPLOAD = {"file": "records.csv"}  # sent as multipart, a new row in each world
OUTCOME = {"kind": "on_time", "occurred_on": "today", "reference": "repay-2026-01"}
CALLS = [
    # people
    Call("GET", _P + "/members", MANAGERS),
    Call("PATCH", _P + "/members/{member}", {"owner"}, body={"role": "manager"}),
    Call("DELETE", _P + "/members/{member}", {"owner"}, ok=204),
    Call("POST", _P + "/invitations", {"owner"}, ok=201, body={"phone": "new", "role": "clerk"}),
    Call("GET", _P + "/invitations", MANAGERS),
    Call("POST", _P + "/invitations/{invitation}/revoke", {"owner"}),
    Call(
        "POST",
        "/v1/admin/partners/{partner}/invitations",
        {"operator"},
        201,
        {"phone": "new"},
        guard="operator",
    ),
    Call("GET", "/v1/admin/partners/{partner}/members", {"operator"}, guard="operator"),
    Call("GET", "/v1/admin/partners/{partner}/invitations", {"operator"}, guard="operator"),
    Call("GET", "/v1/me/memberships", SIGNED_IN, guard="me"),
    Call("GET", "/v1/me/invitations", SIGNED_IN, guard="me"),
    Call("POST", "/v1/me/invitations/{invitation}/accept", set(), guard="invitee"),
    Call("POST", "/v1/me/invitations/{invitation}/decline", set(), guard="invitee"),
    # API keys
    Call("POST", _P + "/api-keys", MANAGERS, ok=201, body={"name": "收银台"}),
    Call("GET", _P + "/api-keys", MANAGERS),
    Call("POST", _P + "/api-keys/{api_key}/revoke", MANAGERS),
    # scanner devices (a merchant's)
    Call("POST", _P + "/scanner-devices", MEMBERS, ok=201, body={"name": "前台 1号机"}),
    Call("GET", _P + "/scanner-devices", MEMBERS),
    Call("POST", _P + "/scanner-devices/{device}/revoke", MEMBERS),
    # webhook endpoints (a bank's)
    Call("POST", _P + "/webhook-endpoints", MANAGERS, 201, {"url": "http://127.0.0.1:9/hooks"}, "bank"),
    Call("GET", _P + "/webhook-endpoints", MEMBERS, kind="bank"),
    Call("PATCH", _P + "/webhook-endpoints/{endpoint}", MANAGERS, body={"enabled": False}, kind="bank"),
    Call("DELETE", _P + "/webhook-endpoints/{endpoint}", MANAGERS, kind="bank"),
    Call("POST", _P + "/webhook-endpoints/{endpoint}/rotate-secret", MANAGERS, body={}, kind="bank"),
    # loan products (a bank's)
    Call("POST", _P + "/loan-products", MANAGERS, ok=201, body=PRODUCT, kind="bank"),
    Call("GET", _P + "/loan-products", MEMBERS, kind="bank"),
    Call("PATCH", _P + "/loan-products/{product}", MANAGERS, body={"active": False}, kind="bank"),
    # 信易贷 referrals (a bank's)
    Call("GET", _P + "/referrals", MEMBERS, kind="bank"),
    Call("GET", _P + "/referrals/{referral}", MEMBERS, kind="bank"),
    Call("GET", _P + "/referrals/{referral}/report", MANAGERS, kind="bank"),
    Call("POST", _P + "/referrals/{referral}/decision", MANAGERS, body=DECLINE, kind="bank"),
    Call("POST", _P + "/referrals/{referral}/outcomes", MANAGERS, 201, OUTCOME, "bank", approved=True),
    # scans (partners that verify passes) and rentals (merchants)
    Call("GET", _P + "/scan-statistics", MEMBERS),
    Call("GET", _P + "/scan-statistics", MEMBERS, kind="government_counter"),
    Call("GET", _P + "/rentals", MEMBERS),
    Call("GET", _P + "/rental-statistics", MEMBERS),
    # records and objections (a data provider's)
    Call("POST", _P + "/record-batches", MANAGERS, 201, {"records": "new"}, "data_provider"),
    Call("POST", _P + "/record-files", MANAGERS, 201, UPLOAD, "data_provider"),
    Call("GET", _P + "/record-batches", MEMBERS, kind="data_provider"),
    Call("GET", _P + "/objections", MEMBERS, kind="data_provider"),
]


def _world(
    client: TestClient, sms: RecordingSender, db: Session, settings: Settings, call: Call
) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Partner A of the call's kind with one thing of each sort, its people, and everyone else; their
    headers and the ids the paths name."""
    kind = call.kind
    crypto = Crypto(settings)
    a, b = partner(db, kind), partner(db, kind)
    people = {role: member(db, settings, a, role)["headers"] for role in ("owner", "manager", "clerk")}
    people["other_partner_owner"] = member(db, settings, b, "owner")["headers"]
    people["resident"] = person(db, settings)["headers"]
    people["operator"] = person(db, settings, roles=["operator"])["headers"]
    people["anonymous"] = {}
    actor = service.member_principal(partners_service.get_partner(db, a), "test-setup", MemberRole.owner)
    ids = {
        "partner": a,
        "member": member(db, settings, a, "clerk")["member_id"],
        "invitation": invitations.invite(db, crypto, actor, a, make_phone(), MemberRole.clerk).id,
        "api_key": partners_service.create_api_key(db, actor, a, "till").api_key.id,
    }
    if kind == "merchant":
        ids["device"] = scanners_service.issue_device(db, actor, "后台", can_rent=True).device.id
    if kind == "bank":
        endpoint, _ = webhooks_service.create_endpoint(
            db, crypto.cipher, settings, actor, url="http://127.0.0.1:9/x", description=None, event_types=None
        )
        ids["endpoint"] = endpoint.id
        ids["product"] = products.create(db, actor, {**PRODUCT, "industries": [], "regions": []}).id
        db.commit()
        ids["referral"] = _referral(client, sms, db, actor, approved=call.approved)
    db.commit()
    return people, ids


def _referral(
    client: TestClient, sms: RecordingSender, db: Session, bank: Principal, *, approved: bool
) -> str:
    """An enterprise applies and is referred to the bank (its consent valid for 30 days)."""
    application = loan_helpers.apply(client, loan_helpers.enterprise(client, sms), [bank.id])
    assert application.status_code == 201, application.text
    referral_id: str = application.json()["referrals"][0]["id"]
    if approved:
        referrals.decide(db, bank, referral_id, referrals.Decision("approved", 400_000_00, 395, 12))
    return referral_id


def _body(body: dict[str, Any] | None) -> dict[str, Any] | None:
    """Bodies that must be new or dated today in each world."""
    if body is None:
        return None
    if body.get("phone") == "new":
        return {**body, "phone": make_phone()}
    if body.get("records") == "new":
        return {"records": [penalty(new_id_number(), decision_date=days_ago(30).isoformat())]}
    if body.get("occurred_on") == "today":
        return {**body, "occurred_on": business_date().isoformat()}
    return body


def _csv_file() -> tuple[str, bytes, str]:
    row = penalty(new_id_number(), decision_date=days_ago(30).isoformat())
    return "records.csv", csv_text(row).encode(), "text/csv"


def _refusal(call: Call, role: str) -> tuple[int, str]:
    if role == "anonymous":
        return 401, "missing_credentials"
    if call.guard == "operator":
        return 403, "role_required"
    if call.guard == "invitee":
        return 404, "invitation_not_found"
    if role in MEMBERS:
        return 403, "role_required"
    return 404, "partner_not_found"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.method} {c.path}")
def test_each_call_as_each_role(
    client: TestClient, sms: RecordingSender, db: Session, settings: Settings, call: Call, role: str
) -> None:
    people, ids = _world(client, sms, db, settings, call)
    body = _body(call.body)
    headers = {**people[role], **(idem() if call.method == "POST" else {})}
    before = table_snapshot(db)

    if call.body is UPLOAD:
        response = client.post(call.path.format(**ids), files={"file": _csv_file()}, headers=headers)
    else:
        response = client.request(call.method, call.path.format(**ids), json=body, headers=headers)

    if role in call.allowed:
        assert response.status_code == call.ok, response.text
        return
    status, code = _refusal(call, role)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert table_snapshot(db) == before
