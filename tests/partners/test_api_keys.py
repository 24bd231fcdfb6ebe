"""API keys: shown once, stored hashed, scoped, revocable; they authenticate the partner API."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from app.audit.models import AuditEntry
from app.core.principal import SYSTEM
from app.core.security import sha256_hex
from app.partners import service
from app.partners.models import ApiKey
from tests.clock import PINNED
from tests.helpers import table_snapshot
from tests.partners.helpers import bearer, create_key, create_partner

KEY_SHAPE = re.compile(r"^(xyk_[0-9A-HJKMNP-TV-Z]{8})_[A-Za-z0-9_-]{43}$")


def test_an_operator_issues_a_key_that_authenticates(client, db, operator):
    partner = create_partner(client, operator, name="芜湖充电宝", kind="merchant")

    response = client.post(
        f"/v1/admin/partners/{partner['id']}/api-keys", json={"name": "kiosk 7"}, headers=operator["headers"]
    )

    assert response.status_code == 201, response.text
    assert response.headers["Cache-Control"] == "no-store"
    key = response.json()
    shape = KEY_SHAPE.match(key["secret"])
    assert shape is not None
    assert key == {
        "id": key["id"],
        "object": "api_key",
        "partner_id": partner["id"],
        "name": "kiosk 7",
        "prefix": shape.group(1),
        "scopes": ["rentals:write", "verifications:write"],
        "created_by": operator["id"],
        "created_at": key["created_at"],
        "last_used_at": None,
        "revoked_at": None,
        "secret": key["secret"],
    }

    me = client.get("/v1/partner/me", headers=bearer(key["secret"]))

    assert me.status_code == 200, me.text
    assert me.json() == {
        "id": partner["id"],
        "object": "partner",
        "name": "芜湖充电宝",
        "kind": "merchant",
        "status": "active",
        "api_key": {
            "id": key["id"],
            "name": "kiosk 7",
            "prefix": key["prefix"],
            "scopes": ["rentals:write", "verifications:write"],
        },
    }
    row = db.get(ApiKey, key["id"])
    assert row is not None and row.last_used_at is not None


def test_each_kind_gets_its_default_scopes(client, operator):
    expected = {
        "merchant": ["rentals:write", "verifications:write"],
        "bank": [
            "loan_products:write",
            "referrals:read",
            "referrals:write",
            "reports:read",
            "webhooks:manage",
        ],
        "government_counter": ["verifications:write"],
        "data_provider": ["objections:read", "records:write", "webhooks:manage"],
    }
    for kind, scopes in expected.items():
        partner = create_partner(client, operator, kind=kind)
        assert create_key(client, operator, partner["id"])["scopes"] == scopes, kind


def test_requested_scopes_within_the_kind_are_granted_sorted_once(client, operator):
    partner = create_partner(client, operator, kind="data_provider")

    key = create_key(
        client, operator, partner["id"], scopes=["records:write", "records:read", "records:write"]
    )

    assert key["scopes"] == ["records:read", "records:write"]
    me = client.get("/v1/partner/me", headers=bearer(key["secret"])).json()
    assert me["api_key"]["scopes"] == ["records:read", "records:write"]


def test_a_scope_outside_the_kind_is_refused_and_nothing_changes(client, db, operator):
    partner = create_partner(client, operator, kind="government_counter")
    before = table_snapshot(db)

    response = client.post(
        f"/v1/admin/partners/{partner['id']}/api-keys",
        json={"scopes": ["verifications:write", "reports:read"]},
        headers=operator["headers"],
    )

    assert response.status_code == 422
    problem = response.json()
    assert (problem["code"], problem["param"]) == ("scope_not_allowed", "scopes")
    assert problem["allowed_scopes"] == ["verifications:write"]
    assert table_snapshot(db) == before


def test_an_empty_scope_list_is_refused(client, db, operator):
    partner = create_partner(client, operator, kind="bank")
    before = table_snapshot(db)

    response = client.post(
        f"/v1/admin/partners/{partner['id']}/api-keys", json={"scopes": []}, headers=operator["headers"]
    )

    assert response.status_code == 422
    assert (response.json()["code"], response.json()["param"]) == ("invalid_scopes", "scopes")
    assert table_snapshot(db) == before


def test_a_key_for_an_unknown_partner_is_404(client, db, operator):
    before = table_snapshot(db)

    response = client.post("/v1/admin/partners/ptn_nope/api-keys", json={}, headers=operator["headers"])

    assert response.status_code == 404
    assert response.json()["code"] == "partner_not_found"
    assert table_snapshot(db) == before


def test_a_revoked_key_is_refused_at_once_and_the_refusal_changes_nothing(client, db, operator):
    partner = create_partner(client, operator)
    key = create_key(client, operator, partner["id"])
    assert client.get("/v1/partner/me", headers=bearer(key["secret"])).status_code == 200

    revoked = client.post(
        f"/v1/admin/partners/{partner['id']}/api-keys/{key['id']}/revoke", headers=operator["headers"]
    )
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert "secret" not in revoked.json()
    before = table_snapshot(db)

    response = client.get("/v1/partner/me", headers=bearer(key["secret"]))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["code"] == "api_key_revoked"
    assert table_snapshot(db) == before


def test_revoking_twice_changes_nothing_the_second_time(client, db, operator):
    partner = create_partner(client, operator)
    key = create_key(client, operator, partner["id"])
    path = f"/v1/admin/partners/{partner['id']}/api-keys/{key['id']}/revoke"
    first = client.post(path, headers=operator["headers"])
    before = table_snapshot(db)

    second = client.post(path, headers=operator["headers"])

    assert second.status_code == 200
    assert second.json() == first.json()
    assert table_snapshot(db) == before


def test_a_key_is_revoked_only_through_its_own_partner(client, db, operator):
    mine = create_partner(client, operator, name="Mine")
    other = create_partner(client, operator, name="Other")
    key = create_key(client, operator, mine["id"])
    before = table_snapshot(db)

    response = client.post(
        f"/v1/admin/partners/{other['id']}/api-keys/{key['id']}/revoke", headers=operator["headers"]
    )

    assert response.status_code == 404
    assert response.json()["code"] == "api_key_not_found"
    assert table_snapshot(db) == before


def test_unknown_and_malformed_keys_are_refused(client, db, operator):
    partner = create_partner(client, operator)
    key = create_key(client, operator, partner["id"])
    before = table_snapshot(db)
    wrong_secret = key["prefix"] + "_" + "A" * 43
    unknown_prefix = "xyk_00000000_" + key["secret"][13:]
    for token in (wrong_secret, unknown_prefix, "xyk_short", key["secret"] + "x", key["secret"].lower()):
        response = client.get("/v1/partner/me", headers=bearer(token))
        assert response.status_code == 401, token
        assert response.json()["code"] == "invalid_api_key", token
        assert key["secret"] not in response.text

    assert table_snapshot(db) == before


def test_a_revoked_key_with_a_wrong_secret_says_only_that_it_is_unknown(client, operator):
    partner = create_partner(client, operator)
    key = create_key(client, operator, partner["id"])
    client.post(
        f"/v1/admin/partners/{partner['id']}/api-keys/{key['id']}/revoke", headers=operator["headers"]
    )

    response = client.get("/v1/partner/me", headers=bearer(key["prefix"] + "_" + "B" * 43))

    assert response.json()["code"] == "invalid_api_key"


def test_several_keys_per_partner_are_listed_without_secrets(client, db, operator):
    partner = create_partner(client, operator, kind="bank")
    first = create_key(client, operator, partner["id"], name="referrals")
    second = create_key(client, operator, partner["id"], name="reports", scopes=["reports:read"])
    client.post(
        f"/v1/admin/partners/{partner['id']}/api-keys/{first['id']}/revoke", headers=operator["headers"]
    )
    assert client.get("/v1/partner/me", headers=bearer(second["secret"])).status_code == 200

    response = client.get(f"/v1/admin/partners/{partner['id']}/api-keys", headers=operator["headers"])

    assert response.status_code == 200
    listing = response.json()
    assert listing["has_more"] is False
    assert [(k["id"], k["name"], k["scopes"]) for k in listing["data"]] == [
        (second["id"], "reports", ["reports:read"]),
        (
            first["id"],
            "referrals",
            ["loan_products:write", "referrals:read", "referrals:write", "reports:read", "webhooks:manage"],
        ),
    ]
    assert listing["data"][0]["revoked_at"] is None and listing["data"][0]["last_used_at"] is not None
    assert listing["data"][1]["revoked_at"] is not None and listing["data"][1]["last_used_at"] is None
    assert all("secret" not in k for k in listing["data"])
    for secret in (first["secret"], second["secret"]):
        assert secret not in response.text
        assert secret.split("_", 2)[2] not in response.text

    page = client.get(
        f"/v1/admin/partners/{partner['id']}/api-keys?limit=1", headers=operator["headers"]
    ).json()
    assert ([k["id"] for k in page["data"]], page["has_more"]) == ([second["id"]], True)


def test_the_database_holds_only_the_hash_of_a_key(client, db, operator):
    partner = create_partner(client, operator)
    key = create_key(client, operator, partner["id"])
    client.get("/v1/partner/me", headers=bearer(key["secret"]))

    dump = repr(table_snapshot(db))

    assert key["secret"] not in dump
    assert key["secret"].split("_", 2)[2] not in dump
    assert key["prefix"] in dump
    row = db.get(ApiKey, key["id"])
    assert row is not None and row.secret_hash == sha256_hex(key["secret"])


def test_key_creation_and_revocation_are_in_the_system_audit_chain(client, db, operator):
    partner = create_partner(client, operator)
    key = create_key(client, operator, partner["id"], scopes=["verifications:write"])
    client.post(
        f"/v1/admin/partners/{partner['id']}/api-keys/{key['id']}/revoke", headers=operator["headers"]
    )

    entries = db.exec(
        select(AuditEntry).where(AuditEntry.actor_id == operator["id"]).order_by(col(AuditEntry.seq))
    ).all()

    assert [(e.chain, e.action, e.details) for e in entries] == [
        ("system", "partner.created", {"partner_id": partner["id"], "kind": "merchant"}),
        (
            "system",
            "api_key.created",
            {"partner_id": partner["id"], "api_key_id": key["id"], "scopes": ["verifications:write"]},
        ),
        ("system", "api_key.revoked", {"partner_id": partner["id"], "api_key_id": key["id"]}),
    ]
    assert {e.actor_type for e in entries} == {"operator"}


def test_last_used_is_written_at_most_once_a_minute(client, db, operator, pinned_clock):
    partner = create_partner(client, operator)
    key = create_key(client, operator, partner["id"])
    start = PINNED + timedelta(hours=1)

    def used_at(now: datetime) -> datetime | None:
        pinned_clock.move_to(now, tick=False)
        assert client.get("/v1/partner/me", headers=bearer(key["secret"])).status_code == 200
        db.expire_all()
        row = db.get(ApiKey, key["id"])
        assert row is not None
        return row.last_used_at

    assert used_at(start) == start
    assert used_at(start + timedelta(seconds=59)) == start
    assert used_at(start + timedelta(seconds=61)) == start + timedelta(seconds=61)


def test_the_principal_of_a_key_carries_the_partner_kind_and_key_scopes(client, db, operator):
    partner = create_partner(client, operator, kind="bank")
    key = create_key(client, operator, partner["id"], scopes=["reports:read"])

    principal = service.principal_from_api_key(db, key["secret"])

    assert (principal.type, principal.id, principal.partner_kind, principal.scopes) == (
        "partner",
        partner["id"],
        "bank",
        frozenset({"reports:read"}),
    )


def test_concurrent_uses_of_one_key_never_wait_for_each_other(committed_engine):
    if committed_engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite has a single writer)")
    with Session(committed_engine, expire_on_commit=False) as setup:
        partner = service.create_partner(setup, SYSTEM, "Concurrent Rentals Co.", "merchant")
        issued = service.create_api_key(setup, SYSTEM, partner.id)
        setup.commit()

    with Session(committed_engine) as first, Session(committed_engine) as second:
        service.principal_from_api_key(first, issued.secret)  # writes last_used_at, holds the row lock
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        service.principal_from_api_key(second, issued.secret)  # would raise if it waited for the lock
        second.commit()
        first.commit()

    with Session(committed_engine) as check:
        row = check.get(ApiKey, issued.api_key.id)
        assert row is not None and row.last_used_at is not None
