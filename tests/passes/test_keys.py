"""Signing keys: JWKS shape, rotation (publish first, sign later, keep the old key published), the CLI."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app.audit.models import AuditEntry
from app.core.clock import utcnow
from app.core.config import Settings, get_settings
from app.core.db import make_engine
from app.core.errors import InvalidInput
from app.core.migrate import upgrade
from app.core.security import Crypto, b64url, b64url_decode
from app.signing import service as signing_service
from app.signing.cli import app as keys_cli
from app.signing.keyring import Keyring
from app.signing.models import SigningKey
from tests.core.test_errors import assert_problem
from tests.passes.helpers import SETUP, issue, now_s, verify


def kid_of(token: str) -> str:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"]


def test_the_jwks_publishes_okp_ed25519_keys_named_by_their_thumbprint(client: TestClient) -> None:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    keys = response.json()["keys"]
    assert len(keys) >= 1
    for key in keys:
        assert set(key) == {"kty", "crv", "x", "kid", "alg", "use"}
        assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
        assert len(key["kid"]) == 43
        assert key["kid"] == signing_service.thumbprint(key["x"])
    # RFC 7638's own example shape: SHA-256 over {"crv","kty","x"} with no spaces, in that order
    x = keys[0]["x"]
    canonical = '{"crv":"Ed25519","kty":"OKP","x":"' + x + '"}'
    assert keys[0]["kid"] == b64url(hashlib.sha256(canonical.encode()).digest())


def test_private_keys_are_stored_encrypted(client: TestClient, db: Session, holder: dict[str, Any]) -> None:
    token = issue(client, holder)["token"]
    key = db.get(SigningKey, kid_of(token))
    assert key is not None
    assert len(b64url_decode(key.private_ciphertext)) == 12 + 43 + 16  # nonce, sealed base64url, tag
    opened = signing_service.private_key(client.app.state.crypto.cipher, key)  # type: ignore[attr-defined]
    assert signing_service.public_x(opened.public_key()) == key.public_x


def test_rotation_publishes_first_signs_after_the_delay_and_keeps_the_retired_key(
    client: TestClient, app: FastAPI, db: Session, holder: dict[str, Any], merchant: dict[str, Any]
) -> None:
    # given passes signed by the current key
    before = issue(client, holder)["token"]
    old_kid = kid_of(before)

    # when an operator rotates with a 12-hour delay
    new = signing_service.rotate(db, app.state.crypto.cipher, SETUP, delay=timedelta(hours=12))
    db.commit()
    app.state.keyring.invalidate()

    # then the new key is published at once, before it signs
    kids = [k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]]
    assert kids[:2] == [new.kid, old_kid]
    assert kid_of(issue(client, holder)["token"]) == old_kid

    # when the delay has passed
    old = db.get(SigningKey, old_kid)
    assert old is not None and old.retired_at == new.activates_at
    assert old.unpublish_at == new.activates_at + signing_service.DEFAULT_RETENTION
    moment = utcnow() - timedelta(seconds=1)
    new.activates_at = old.retired_at = moment
    old.unpublish_at = moment + signing_service.DEFAULT_RETENTION
    db.add_all([new, old])
    db.commit()
    app.state.keyring.invalidate()

    # then new passes are signed with the new key, and a pass signed with the old one still verifies
    assert kid_of(issue(client, holder)["token"]) == new.kid
    assert verify(client, merchant, before).status_code == 201
    assert old_kid in [k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]]

    # when the retention has passed too, the old key is withdrawn and what it signs is refused
    old.unpublish_at = utcnow() - timedelta(seconds=1)
    db.add(old)
    db.commit()
    app.state.keyring.invalidate()
    assert old_kid not in [k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]]
    late = app.state.keyring.sign_with(db, old_kid, {"h": "A" * 16, "nbf": now_s() - 5, "exp": now_s() + 90})
    assert_problem(verify(client, merchant, late), 422, "token_unknown_key", "token")

    # and every rotation is on the system audit chain
    actions = db.exec(select(AuditEntry.action).where(col(AuditEntry.action).like("signing_key.%"))).all()
    assert "signing_key.rotated" in actions


def test_the_first_key_signs_in_a_process_whose_clock_is_a_minute_behind_its_maker(
    settings: Settings, db: Session
) -> None:
    # given a platform without keys, whose first key one process makes now
    for key in signing_service.list_keys(db):
        db.delete(key)
    db.flush()
    cipher = Crypto(settings).cipher
    now = utcnow()
    made = signing_service.ensure_key(db, cipher, now=now)

    # when another process, its clock a minute behind, signs a token first thing
    behind = Keyring(cipher)
    token = behind.sign(db, {"sub": "x"}, now - timedelta(minutes=1))

    # then the first key signs it, and verifies it, there
    assert kid_of(token) == made.kid
    assert behind.verify(db, token, now - timedelta(minutes=1)) == {"sub": "x"}


def test_retention_must_outlive_the_longest_token(settings: Settings, db: Session) -> None:
    with pytest.raises(InvalidInput) as refused:
        signing_service.rotate(db, Crypto(settings).cipher, SETUP, retention=timedelta(hours=24))
    assert refused.value.code == "retention_too_short"


@pytest.fixture
def cli_db(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade(url=url)
    get_settings.cache_clear()  # the CLI reads XINYI_DATABASE_URL through the cached settings
    yield url
    get_settings.cache_clear()


def run(url: str, *args: str) -> Any:
    result = CliRunner().invoke(keys_cli, list(args), env={"XINYI_DATABASE_URL": url})
    get_settings.cache_clear()
    return result


def test_xinyi_keys_rotate_makes_the_first_key_then_a_pending_one(cli_db: str) -> None:
    first = run(cli_db, "rotate")
    assert first.exit_code == 0, first.output
    second = run(cli_db, "rotate", "--delay", "3600")
    assert second.exit_code == 0, second.output
    listed = run(cli_db, "list")
    states = [line.split()[2] for line in listed.stdout.strip().splitlines()]
    assert states == ["active", "pending"]
    engine = make_engine(cli_db)
    with Session(engine) as session:
        keys = signing_service.list_keys(session)
        assert keys[0].retired_at == keys[1].activates_at
        assert keys[1].activates_at - keys[1].created_at >= timedelta(seconds=3599)
    engine.dispose()
    refused = run(cli_db, "rotate", "--retain-hours", "12")
    assert refused.exit_code == 1
    assert "retention_too_short" in refused.output


def test_a_pass_token_is_a_compact_eddsa_jws_with_only_alg_and_kid_in_its_header(
    client: TestClient, holder: dict[str, Any]
) -> None:
    token = issue(client, holder)["token"]
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "EdDSA", "kid": kid_of(token)}
    assert token.split(".")[0] == b64url(f'{{"alg":"EdDSA","kid":"{kid_of(token)}"}}'.encode())
    assert len(token) == 256
