"""Scanner devices: issued by a partner, enrolled with a one-time code, verify-only, revocable."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.clock import utcnow
from app.core.sms import RecordingSender
from app.passes import qr
from app.scanners.models import ScannerDevice
from tests.helpers import table_snapshot
from tests.passes import helpers
from tests.rentals import helpers as rentals


def issue_device(client: TestClient, partner: dict[str, Any], name: str = "前台 1号机") -> dict[str, Any]:
    response = client.post("/v1/partner/scanner-devices", json={"name": name}, headers=partner["headers"])
    assert response.status_code == 201, response.text
    return response.json()


def enrol(client: TestClient, code: str) -> dict[str, Any]:
    response = client.post("/v1/scanner/enrolment", json={"code": code})
    assert response.status_code == 201, response.text
    body = response.json()
    body["headers"] = {"Authorization": f"Bearer {body['credential']}"}
    return body


@pytest.fixture
def merchant(db: Session) -> dict[str, Any]:
    return helpers.partner(db, "merchant", ["verifications:write", "rentals:write"])


@pytest.fixture
def device(client: TestClient, merchant: dict[str, Any]) -> dict[str, Any]:
    return enrol(client, issue_device(client, merchant)["enrolment_code"])


def test_a_partner_issues_a_device_that_enrols_once_with_its_code(
    client: TestClient, merchant: dict[str, Any]
):
    issued = issue_device(client, merchant)
    assert issued["status"] == "awaiting_enrolment"
    assert issued["scopes"] == ["verifications:write", "rentals:counter"]
    assert issued["enrolment_page"].endswith("/scan")
    assert len(issued["enrolment_code"]) == 19  # XXXX-XXXX-XXXX-XXXX
    # the same code as a QR code for the device's camera (tests/browser/test_scan_enrolment.py reads it)
    assert issued["enrolment_qr_svg_data_url"] == qr.svg_data_url(
        qr.svg(qr.encode_text(f"XINYI-ENROL:{issued['enrolment_code']}"))
    )

    enrolled = enrol(client, issued["enrolment_code"].lower().replace("-", " "))  # as a person types it
    assert enrolled["credential"].startswith("xyk_")
    merchant_key = merchant["headers"]["Authorization"].removeprefix("Bearer ")
    assert enrolled["credential"] != merchant_key
    assert enrolled["device"]["name"] == "前台 1号机"
    assert enrolled["device"]["can_rent"] is True
    assert enrolled["device"]["scenario"] is None
    assert [s["id"] for s in enrolled["device"]["scenarios"]] == [
        "deposit_free_rental",
        "library",
        "parking",
        "pay_after_treatment",
        "travel",
    ]

    again = client.post("/v1/scanner/enrolment", json={"code": issued["enrolment_code"]})
    assert again.status_code == 401
    assert again.json()["code"] == "invalid_enrolment_code"
    listed = client.get("/v1/partner/scanner-devices", headers=merchant["headers"]).json()["data"]
    assert [(d["id"], d["status"]) for d in listed] == [(issued["id"], "enrolled")]


def test_an_expired_enrolment_code_is_refused(client: TestClient, merchant: dict[str, Any], db: Session):
    issued = issue_device(client, merchant)
    row = db.get(ScannerDevice, issued["id"])
    assert row is not None
    row.enrolment_expires_at -= timedelta(hours=25)
    db.add(row)
    db.commit()
    before = table_snapshot(db)

    response = client.post("/v1/scanner/enrolment", json={"code": issued["enrolment_code"]})

    assert response.status_code == 410
    assert response.json()["code"] == "enrolment_code_expired"
    assert table_snapshot(db) == before


def test_the_device_chooses_its_scenario_among_those_its_kind_may_verify(
    client: TestClient, device: dict[str, Any]
):
    refused = client.put(
        "/v1/scanner/me/scenario", json={"scenario": "priority_service"}, headers=device["headers"]
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "scenario_not_allowed_for_partner"

    chosen = client.put(
        "/v1/scanner/me/scenario", json={"scenario": "deposit_free_rental"}, headers=device["headers"]
    )
    assert chosen.status_code == 200, chosen.text
    assert client.get("/v1/scanner/me", headers=device["headers"]).json()["scenario"] == "deposit_free_rental"


def test_a_device_verifies_and_opens_and_returns_rentals_and_nothing_else(
    client: TestClient, sms: RecordingSender, db: Session, merchant: dict[str, Any], device: dict[str, Any]
):
    holder = rentals.resident(client, sms)  # with a saved card, as a rental needs
    token = helpers.issue(client, holder)["token"]
    verified = helpers.verify(client, device, token)
    assert verified.status_code == 201, verified.text
    assert verified.json()["decision"] == "eligible"
    due = (utcnow() + timedelta(hours=4)).isoformat()
    opened = client.post(
        "/v1/rentals",
        json={
            "verification_id": verified.json()["id"],
            "item": {"kind": "power_bank"},
            "deposit_fen": 9900,
            "due_at": due,
        },
        headers={**device["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert opened.status_code == 201, opened.text
    assert opened.json()["status"] == "open"

    # What a device may not do: report a default, read the partner's rentals, manage devices or webhooks
    helpers.touch(client, device)
    before = table_snapshot(db)
    rental_id = opened.json()["id"]
    refusals = [
        client.post(
            f"/v1/rentals/{rental_id}/default",
            json={"evidence": {"description": "未归还"}},
            headers={**device["headers"], "Idempotency-Key": uuid.uuid4().hex},
        ),
        client.get("/v1/rentals", headers=device["headers"]),
        client.get(f"/v1/rentals/{rental_id}", headers=device["headers"]),
        client.post("/v1/partner/scanner-devices", json={"name": "偷偷加一台"}, headers=device["headers"]),
        client.get("/v1/partner/scanner-devices", headers=device["headers"]),
        client.post(
            f"/v1/partner/scanner-devices/{device['device']['id']}/revoke", headers=device["headers"]
        ),
        client.get("/v1/partner/webhook-endpoints", headers=device["headers"]),
    ]
    assert [(r.status_code, r.json()["code"]) for r in refusals] == [(403, "scope_required")] * 7
    assert table_snapshot(db) == before

    returned = client.post(f"/v1/rentals/{rental_id}/return", headers=device["headers"])
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned"


def test_a_government_counter_device_may_only_verify(client: TestClient, db: Session):
    counter = helpers.partner(db, "government_counter")
    device = enrol(client, issue_device(client, counter, "政务窗口 3")["enrolment_code"])
    assert device["device"]["can_rent"] is False
    assert [s["id"] for s in device["device"]["scenarios"]] == ["priority_service"]
    assert device["device"]["scopes"] == ["verifications:write"]


def test_a_revoked_device_is_refused_at_its_next_scan(
    client: TestClient, sms: RecordingSender, db: Session, merchant: dict[str, Any], device: dict[str, Any]
):
    holder = helpers.resident(client, sms)
    assert helpers.verify(client, device, helpers.issue(client, holder)["token"]).status_code == 201

    revoked = client.post(
        f"/v1/partner/scanner-devices/{device['device']['id']}/revoke", headers=merchant["headers"]
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"

    before = table_snapshot(db)
    refused = helpers.verify(client, device, helpers.issue(client, holder)["token"])
    assert refused.status_code == 401
    assert refused.json()["code"] == "api_key_revoked"
    after = table_snapshot(db)
    # Issuing the pass wrote its own rows; the refused scan wrote no verification
    assert after["verifications"] == before["verifications"]
    assert client.get("/v1/scanner/me", headers=device["headers"]).status_code == 401


def test_devices_are_isolated_between_partners(
    client: TestClient, db: Session, merchant: dict[str, Any], device: dict[str, Any]
):
    other = helpers.partner(db, "merchant")
    theirs = issue_device(client, other, "别家的")
    before = table_snapshot(db)

    assert (
        client.post(
            f"/v1/partner/scanner-devices/{device['device']['id']}/revoke", headers=other["headers"]
        ).json()["code"]
        == "scanner_device_not_found"
    )
    listed = client.get("/v1/partner/scanner-devices", headers=other["headers"]).json()["data"]
    assert [d["id"] for d in listed] == [theirs["id"]]
    mine = client.get("/v1/partner/scanner-devices", headers=merchant["headers"]).json()["data"]
    assert [d["id"] for d in mine] == [device["device"]["id"]]
    assert table_snapshot(db) == before
    assert client.get("/v1/scanner/me", headers=device["headers"]).json()["partner"]["id"] == merchant["id"]


def test_a_partner_key_is_not_a_scanner(client: TestClient, merchant: dict[str, Any]):
    response = client.get("/v1/scanner/me", headers=merchant["headers"])
    assert response.status_code == 403
    assert response.json()["code"] == "scanner_device_required"
