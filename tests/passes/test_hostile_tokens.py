"""Tokens an attacker or a broken scanner might send: each refused with its own code, nothing written."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.security import b64url_decode
from app.passes import tokens
from app.signing import service as signing_service
from tests.core.test_errors import assert_problem
from tests.helpers import table_snapshot
from tests.passes.helpers import issue, now_s, sign, touch, verify


def b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))


@pytest.fixture
def genuine(client: TestClient, holder: dict[str, Any], merchant: dict[str, Any]) -> str:
    """A real pass; the merchant's key is used once so a snapshot is not moved by its last-used time."""
    touch(client, merchant)
    return issue(client, holder)["token"]


def tampered_signature(token: str) -> str:
    head, body, signature = token.split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return f"{head}.{body}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"


def alg_none(token: str) -> str:
    header, claims = parts(token)
    return f"{b64({'alg': 'none', 'kid': header['kid']})}.{b64(claims)}."


def hs256_with_public_key(token: str, client: TestClient) -> str:
    """The classic confusion: HMAC-sign with the published public key as the secret."""
    header, claims = parts(token)
    jwk = next(k for k in client.get("/.well-known/jwks.json").json()["keys"] if k["kid"] == header["kid"])
    signing_input = f"{b64({'alg': 'HS256', 'kid': header['kid']})}.{b64(claims)}"
    secret = b64url_decode(jwk["x"])
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def unknown_key(token: str) -> str:
    _, claims = parts(token)
    stranger = Ed25519PrivateKey.generate()
    kid = signing_service.thumbprint(signing_service.public_x(stranger.public_key()))
    return jwt.encode(claims, stranger, algorithm="EdDSA", headers={"kid": kid, "typ": None})


def test_each_hostile_token_gets_its_own_code_and_changes_nothing(
    client: TestClient, app: FastAPI, db: Session, merchant: dict[str, Any], genuine: str
) -> None:
    _, claims = parts(genuine)
    hostile = {
        "tampered signature": (tampered_signature(genuine), "token_invalid_signature"),
        "tampered payload": (
            f"{genuine.split('.')[0]}.{b64({**claims, 'exp': claims['exp'] + 3600})}.{genuine.split('.')[2]}",
            "token_invalid_signature",
        ),
        "alg none": (alg_none(genuine), "token_algorithm_not_allowed"),
        "HS256 with the public key": (hs256_with_public_key(genuine, client), "token_algorithm_not_allowed"),
        "unknown kid": (unknown_key(genuine), "token_unknown_key"),
        "expired": (sign(app, db, {**claims, "exp": now_s() - 60, "nbf": now_s() - 155}), "token_expired"),
        "not yet valid": (
            sign(app, db, {**claims, "nbf": now_s() + 60, "exp": now_s() + 155}),
            "token_not_yet_valid",
        ),
        "extra claim": (sign(app, db, {**claims, "sub": "usr_1"}), "token_malformed"),
        "not a JWS": ("not-a-token", "token_malformed"),
        "garbage header": ("eyJhbGciOi.e30.AAAA", "token_malformed"),
    }
    before = table_snapshot(db)
    for name, (token, code) in hostile.items():
        response = verify(client, merchant, token)
        assert (name, response.status_code, response.json()["code"]) == (name, 422, code)
        assert_problem(response, 422, code, "token")
    assert table_snapshot(db) == before
    # and the genuine pass, untouched by all of that, still verifies once
    assert verify(client, merchant, genuine).json()["decision"] == "eligible"


def test_a_replayed_pass_is_refused_and_the_replay_writes_nothing(
    client: TestClient, db: Session, merchant: dict[str, Any], genuine: str
) -> None:
    first = verify(client, merchant, genuine)
    assert first.status_code == 201
    before = table_snapshot(db)
    again = verify(client, merchant, genuine)
    assert_problem(again, 409, "token_replayed", "token")
    assert table_snapshot(db) == before


def test_the_leeway_is_thirty_seconds_on_each_side(
    client: TestClient, app: FastAPI, db: Session, merchant: dict[str, Any], holder: dict[str, Any]
) -> None:
    # a pass that expired 20 s ago (within the leeway) verifies; its handle is known to the store
    issued = issue(client, holder)
    _, claims = parts(issued["token"])
    assert tokens.LEEWAY_SECONDS == 30
    late = sign(app, db, {**claims, "nbf": now_s() - 115, "exp": now_s() - 20})
    assert verify(client, merchant, late).status_code == 201
    # the same handle again, whatever the token bytes: single use is keyed on the handle
    assert_problem(verify(client, merchant, issued["token"]), 409, "token_replayed", "token")


def test_the_scenario_is_checked_after_the_token_and_before_the_claim(
    client: TestClient, db: Session, merchant: dict[str, Any], genuine: str
) -> None:
    before = table_snapshot(db)
    # a bad token with an unknown scenario: the token is checked first
    assert_problem(
        verify(client, merchant, tampered_signature(genuine), "no_such"),
        422,
        "token_invalid_signature",
        "token",
    )
    assert_problem(verify(client, merchant, genuine, "no_such_scenario"), 422, "unknown_scenario", "scenario")
    # a merchant may not verify a government counter's scenario
    assert_problem(
        verify(client, merchant, genuine, "priority_service"),
        403,
        "scenario_not_allowed_for_partner",
        "scenario",
    )
    assert table_snapshot(db) == before
    # none of it claimed the pass
    assert verify(client, merchant, genuine).status_code == 201


def test_only_partners_with_the_verifications_scope_may_verify(
    client: TestClient, db: Session, holder: dict[str, Any], genuine: str
) -> None:
    from tests.passes.helpers import partner

    bank = partner(db, "bank")
    assert_problem(verify(client, bank, genuine, "xinyidai"), 403, "scope_required")
    assert_problem(verify(client, holder, genuine), 403, "partner_required")
    assert_problem(
        client.post("/v1/verifications", json={"token": genuine, "scenario": "library"}),
        401,
        "missing_credentials",
        "Authorization",
    )
