"""The partner SDK verifies offline codes across a signing-key rotation, against the real JWKS endpoint."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session
from xinyi_partner import OfflineVerifier, PartnerClient

from app.core.clock import utcnow
from app.core.store import KeyValueStore
from app.passes import denylist
from app.signing import service as signing_service
from app.signing.models import SigningKey
from tests.passes.helpers import SETUP

BASE_URL = "http://testserver"


def kid_of(token: str) -> str:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"]


def offline_code(client: TestClient, holder: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        "/v1/me/passes/offline", json={"scenario": "library", "count": 1}, headers=holder["headers"]
    )
    assert response.status_code == 201, response.text
    return response.json()["data"][0]


class Clock:
    """Real time plus an offset the test moves forward (past the SDK's refetch cooldown)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return utcnow().timestamp() + self.offset


def test_the_sdk_verifies_offline_across_a_key_rotation(
    client: TestClient,
    app: FastAPI,
    db: Session,
    holder: dict[str, Any],
    merchant: dict[str, Any],
    store: KeyValueStore,
    tmp_path: Path,
) -> None:
    # given a kiosk's offline verifier that fetched the key set and deny list, and a code signed by the key
    # in use
    clock = Clock()
    verifier = OfflineVerifier(BASE_URL, http=client, clock=clock, cache_dir=tmp_path)
    before = offline_code(client, holder)
    old_kid = kid_of(before["token"])
    verifier.refresh()
    assert old_kid in verifier.keys.kids
    assert verifier.verify(before["token"], "library").accepted

    # when an operator rotates the key (`xinyi keys rotate`): the new key is published first
    new = signing_service.rotate(db, app.state.crypto.cipher, SETUP, delay=timedelta(hours=12))
    db.commit()
    app.state.keyring.invalidate()
    assert new.kid != old_kid
    # and, once the delay has passed, signs the new codes
    old = db.get(SigningKey, old_kid)
    assert old is not None
    moment = utcnow() - timedelta(seconds=1)
    new.activates_at = old.retired_at = moment
    old.unpublish_at = moment + signing_service.DEFAULT_RETENTION
    db.add_all([new, old])
    db.commit()
    app.state.keyring.invalidate()
    after = offline_code(client, holder)
    assert kid_of(after["token"]) == new.kid

    # then within the SDK's refetch cooldown the unknown key is refused, not fetched again
    early = verifier.verify(after["token"], "library")
    assert (early.decision, early.code) == ("refused", "token_unknown_key")
    # and after it the SDK fetches the JWKS once more and accepts the new code, offline
    clock.offset = verifier.keys.refetch_cooldown + 1
    accepted = verifier.verify(after["token"], "library")
    assert (accepted.decision, accepted.kid) == ("accepted", new.kid)
    assert {old_kid, new.kid} <= verifier.keys.kids
    # and the code signed by the retired key, still published, is accepted too
    assert verifier.verify(before["token"], "library").accepted
    # and so is the next deny list, signed by the new key (the list of this minute is built afresh)
    store.delete(f"denylist:{int(utcnow().timestamp()) // denylist.PERIOD_SECONDS}")
    assert kid_of(verifier.refresh().jws) == new.kid

    # and both uses are reconciled by the platform
    used_at = utcnow().replace(microsecond=0).isoformat()
    with PartnerClient(BASE_URL, merchant["headers"]["Authorization"][7:], http=client) as partner:
        answer = partner.report_offline_uses(
            [{"token": c["token"], "scenario": "library", "used_at": used_at} for c in (before, after)]
        )
    assert [(item.status, item.code) for item in answer] == [("recorded", None), ("recorded", None)]
    verifier.close()
