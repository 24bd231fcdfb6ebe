"""Single use of an online pass survives a lost store key: the database's unique index refuses a second
accepted verification (issue 17, finding 4). Redis stays the fast path; this is the floor under it."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.core.sms import RecordingSender
from app.core.store import KeyValueStore
from app.verifications.models import Verification
from tests.core.test_errors import assert_problem
from tests.helpers import table_snapshot
from tests.passes import helpers
from tests.passes.helpers import issue, verify


def handle_of(token: str) -> str:
    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["h"])


def test_a_replay_after_the_store_lost_the_claim_is_refused_and_stores_nothing(
    client: TestClient,
    db: Session,
    store: KeyValueStore,
    holder: dict[str, Any],
    merchant: dict[str, Any],
) -> None:
    # given a pass accepted once
    issued = issue(client, holder)
    assert verify(client, merchant, issued["token"]).status_code == 201
    # when its claim in the store is lost (evicted, a failover to a replica that never saw it)
    assert store.delete(f"pass:{handle_of(issued['token'])}") is True
    before = table_snapshot(db)
    replay = verify(client, merchant, issued["token"])
    # then the replay is refused as one, and nothing was written
    assert_problem(replay, 409, "token_replayed", "token")
    assert table_snapshot(db) == before
    rows = db.exec(select(Verification).where(Verification.pass_id == issued["id"])).all()
    assert [(row.mode, row.decision) for row in rows] == [("online", "eligible")]


@pytest.mark.parametrize("idempotency_key", [None, "replay-after-lost-key"])
def test_with_real_commits_a_replay_after_a_lost_claim_is_refused_by_the_commit(
    live: TestClient,
    committed_engine: Engine,
    sms: RecordingSender,
    store: KeyValueStore,
    idempotency_key: str | None,
) -> None:
    # given a pass accepted once over the whole stack (PostgreSQL: the row is written with the COMMIT)
    holder = helpers.resident(live, sms)
    with Session(committed_engine, expire_on_commit=False) as session:
        merchant = helpers.partner(session)
    issued = issue(live, holder)
    assert verify(live, merchant, issued["token"]).status_code == 201
    # when the claim is lost and the pass is scanned again (with a fresh Idempotency-Key, or none)
    store.delete(f"pass:{handle_of(issued['token'])}")
    extra = {} if idempotency_key is None else {"Idempotency-Key": idempotency_key}
    replay = verify(live, merchant, issued["token"], **extra)
    # then it is a replay, still one verification is stored, and the key is free for a fixed request
    assert_problem(replay, 409, "token_replayed", "token")
    with Session(committed_engine) as session:
        rows = session.exec(select(Verification).where(Verification.pass_id == issued["id"])).all()
    assert len(rows) == 1
    # and the refusal held nothing: the same request again is the same refusal, not "in progress"
    assert_problem(verify(live, merchant, issued["token"], **extra), 409, "token_replayed", "token")
