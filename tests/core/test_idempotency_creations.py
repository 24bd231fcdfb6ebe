"""Idempotency on the POSTs that create secrets (issue 17, finding 10): an API key and a webhook endpoint
are made once per Idempotency-Key, the replay is the first response, the fingerprint is over the parsed
body (keys reordered: still the same request), and the stored response holds no secret in plain text."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.core.store import KeyValueStore
from app.partners.models import ApiKey
from app.webhooks.models import WebhookEndpoint
from tests.core.test_errors import assert_problem
from tests.helpers import table_snapshot
from tests.passes import helpers as pass_helpers
from tests.test_subjects_admin import make_operator


def stored_record(store: KeyValueStore, principal: str, key: str) -> str:
    value = store.get(f"idem:{principal}:{hashlib.sha256(key.encode()).hexdigest()}")
    assert value is not None
    return value


def assert_holds_no_plain(raw: str, secret: str) -> None:
    """The stored record: the response body only sealed, the secret nowhere in it, nor in its bytes."""
    record = json.loads(raw)
    assert set(record) == {"state", "fingerprint", "status", "media_type", "sealed_body"}
    assert secret not in raw
    assert secret.encode() not in base64.b64decode(record["sealed_body"])


def test_an_api_key_is_issued_once_per_idempotency_key_and_its_secret_is_not_stored_in_plain(
    client: TestClient, db: Session, sms, store: KeyValueStore
) -> None:
    operator = make_operator(client, sms, db)
    bank = pass_helpers.partner(db, "bank")
    path = f"/v1/admin/partners/{bank['id']}/api-keys"
    headers = {
        **operator["headers"],
        "Idempotency-Key": "key-for-the-branch",
        "Content-Type": "application/json",
    }

    first = client.post(path, content=b'{"name": "branch", "scopes": ["referrals:read"]}', headers=headers)
    assert first.status_code == 201, first.text
    before = table_snapshot(db)
    # the same request, its JSON keys in another order and spaced differently
    again = client.post(path, content=b'{ "scopes" : ["referrals:read"], "name":"branch" }', headers=headers)

    assert again.status_code == 201
    assert again.json() == first.json()
    assert (again.headers["idempotent-replayed"], again.headers["cache-control"]) == ("true", "no-store")
    assert table_snapshot(db) == before
    assert (
        len(db.exec(select(ApiKey).where(ApiKey.partner_id == bank["id"], ApiKey.name == "branch")).all())
        == 1
    )
    assert_holds_no_plain(
        stored_record(store, f"user:{operator['user_id']}", "key-for-the-branch"), first.json()["secret"]
    )
    # another request with the same key is refused, and makes nothing
    other = client.post(path, json={"name": "another"}, headers=headers)
    assert_problem(other, 422, "idempotency_key_reused", "Idempotency-Key")
    assert table_snapshot(db) == before


def test_a_webhook_endpoint_is_registered_once_per_idempotency_key(
    client: TestClient, db: Session, store: KeyValueStore
) -> None:
    bank = pass_helpers.partner(db, "bank")
    headers = {**bank["headers"], "Idempotency-Key": "hook-1"}
    body: dict[str, Any] = {"url": "https://bank.example/hooks", "event_types": ["referral.created"]}

    first = client.post("/v1/partner/webhook-endpoints", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post("/v1/partner/webhook-endpoints", json=dict(reversed(body.items())), headers=headers)

    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["secret"] == first.json()["secret"]
    assert db.exec(select(WebhookEndpoint).where(WebhookEndpoint.partner_id == bank["id"])).all() != []
    assert len(db.exec(select(WebhookEndpoint).where(WebhookEndpoint.partner_id == bank["id"])).all()) == 1
    assert_holds_no_plain(stored_record(store, f"partner:{bank['id']}", "hook-1"), first.json()["secret"])


def test_a_retried_secret_rotation_rotates_once(client: TestClient, db: Session) -> None:
    bank = pass_helpers.partner(db, "bank")
    created = client.post(
        "/v1/partner/webhook-endpoints", json={"url": "https://bank.example/hooks"}, headers=bank["headers"]
    ).json()
    path = f"/v1/partner/webhook-endpoints/{created['id']}/rotate-secret"
    headers = {**bank["headers"], "Idempotency-Key": "rotate-1"}
    first = client.post(path, json={"grace_period_seconds": 3600}, headers=headers)
    before = table_snapshot(db)
    again = client.post(path, json={"grace_period_seconds": 3600}, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["secret"] == first.json()["secret"] != created["secret"]
    assert table_snapshot(db) == before
