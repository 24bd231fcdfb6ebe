"""Asking for a pass: who may, what it costs the database (nothing), who may see its QR, the rate limit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.clock import utcnow
from app.core.sms import RecordingSender
from app.core.store import KeyValueStore, MemoryStore, RedisStore
from app.passes.service import PASSES_PER_MINUTE
from tests.core.test_errors import assert_problem
from tests.helpers import make_phone, sign_in, table_snapshot
from tests.passes.helpers import issue, partner, resident


def test_a_pass_needs_a_signed_in_resident_with_a_bound_id(client: TestClient, sms: RecordingSender) -> None:
    assert_problem(client.post("/v1/me/passes"), 401, "missing_credentials", "Authorization")
    unbound = sign_in(client, sms, make_phone())
    assert_problem(client.post("/v1/me/passes", headers=unbound["headers"]), 409, "identity_not_bound")


def test_issuing_a_pass_writes_no_row(client: TestClient, db: Session, holder: dict[str, Any]) -> None:
    issue(client, holder)  # the first pass may make the first signing key
    before = table_snapshot(db)
    second = issue(client, holder)
    assert table_snapshot(db) == before
    assert second["refresh_after"] < second["expires_at"]
    lifetime = datetime.fromisoformat(second["expires_at"]) - utcnow()
    assert second["expires_in"] in {int(lifetime.total_seconds()), int(lifetime.total_seconds()) + 1}
    assert 60 <= second["expires_in"] <= 120


def test_only_the_holder_sees_a_pass_qr(
    client: TestClient, sms: RecordingSender, holder: dict[str, Any]
) -> None:
    issued = issue(client, holder)
    other = resident(client, sms)
    for url in (issued["qr"]["svg_url"], issued["qr"]["png_url"]):
        assert client.get(url, headers=holder["headers"]).status_code == 200
        assert_problem(client.get(url, headers=other["headers"]), 404, "pass_not_found", "pass_id")
    assert_problem(
        client.delete(f"/v1/me/passes/{issued['id']}", headers=other["headers"]),
        404,
        "pass_not_found",
        "pass_id",
    )
    assert_problem(
        client.get("/v1/me/passes/pas_nothing.svg", headers=holder["headers"]),
        404,
        "pass_not_found",
        "pass_id",
    )


def passmeta_keys(store: KeyValueStore) -> set[str]:
    """The online pass records in the test's store (each test has its own prefix or store)."""
    if isinstance(store, MemoryStore):
        return {key for key in store._data if "passmeta:" in key}
    assert isinstance(store, RedisStore)
    return {str(key) for key in store._client.scan_iter(match=store._prefix + "passmeta:*")}


def test_passes_are_rate_limited_per_resident(
    client: TestClient, store: KeyValueStore, holder: dict[str, Any]
) -> None:
    for _ in range(PASSES_PER_MINUTE):
        issue(client, holder)
    keys_before = passmeta_keys(store)
    refused = client.post("/v1/me/passes", headers=holder["headers"])
    assert_problem(refused, 429, "rate_limited")
    assert refused.headers["retry-after"] == "60"
    assert passmeta_keys(store) == keys_before  # no pass record is left behind


def test_a_retried_pass_request_with_its_idempotency_key_gets_the_same_pass(
    client: TestClient, holder: dict[str, Any]
) -> None:
    # Given a pass asked for with an Idempotency-Key
    headers = {**holder["headers"], "Idempotency-Key": "pass-1"}
    first = client.post("/v1/me/passes", headers=headers)
    assert first.status_code == 201
    assert first.headers["cache-control"] == "no-store"

    # When the phone retries with the same key, and then asks with another
    retry = client.post("/v1/me/passes", headers=headers)
    other = client.post("/v1/me/passes", headers={**holder["headers"], "Idempotency-Key": "pass-2"})

    # Then the retry is the same pass, replayed; the other key gets a new one
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


def test_a_partner_key_cannot_ask_for_a_pass(client: TestClient, db: Session) -> None:
    merchant = partner(db, "merchant")
    assert_problem(client.post("/v1/me/passes", headers=merchant["headers"]), 403, "user_required")
