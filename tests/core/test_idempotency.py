"""Idempotency-Key with Stripe's semantics, through a real endpoint and a deliberately slow one."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter, Depends, Request
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.core.idempotency import AppRoute, IdempotencyDep, IdempotencyRequiredDep
from app.core.sms import RecordingSender
from app.enterprises.models import Enterprise
from tests.core.test_errors import assert_problem
from tests.enterprises.test_enterprises import verified_resident
from tests.helpers import make_uscc, table_snapshot


def test_same_key_same_body_replays_the_first_response(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    admin = verified_resident(client, sms)
    headers = {**admin["headers"], "Idempotency-Key": "reg-1"}
    body = {"name": "天山小微科技", "uscc": make_uscc()}
    first = client.post("/v1/enterprises", json=body, headers=headers)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    before = table_snapshot(db)
    again = client.post("/v1/enterprises", json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert table_snapshot(db) == before
    assert len(db.exec(select(Enterprise).where(Enterprise.uscc == body["uscc"])).all()) == 1


def test_same_key_other_body_is_refused(client: TestClient, sms: RecordingSender, db: Session) -> None:
    admin = verified_resident(client, sms)
    headers = {**admin["headers"], "Idempotency-Key": "reg-2"}
    client.post("/v1/enterprises", json={"name": "甲公司", "uscc": make_uscc()}, headers=headers)
    before = table_snapshot(db)
    response = client.post("/v1/enterprises", json={"name": "乙公司", "uscc": make_uscc()}, headers=headers)
    assert_problem(response, 422, "idempotency_key_reused", "Idempotency-Key")
    assert table_snapshot(db) == before


def test_keys_belong_to_one_caller(client: TestClient, sms: RecordingSender) -> None:
    first, second = verified_resident(client, sms), verified_resident(client, sms)
    a = client.post(
        "/v1/enterprises",
        json={"name": "甲公司", "uscc": make_uscc()},
        headers={**first["headers"], "Idempotency-Key": "k"},
    )
    b = client.post(
        "/v1/enterprises",
        json={"name": "乙公司", "uscc": make_uscc()},
        headers={**second["headers"], "Idempotency-Key": "k"},
    )
    assert (a.status_code, b.status_code) == (201, 201)
    assert "idempotent-replayed" not in b.headers


def test_a_refused_request_does_not_burn_the_key(client: TestClient, sms: RecordingSender) -> None:
    admin = verified_resident(client, sms)
    headers = {**admin["headers"], "Idempotency-Key": "reg-3"}
    refused = client.post(
        "/v1/enterprises", json={"name": "甲公司", "uscc": "91350100M000100Y44"}, headers=headers
    )
    assert refused.status_code == 422
    fixed = client.post("/v1/enterprises", json={"name": "甲公司", "uscc": make_uscc()}, headers=headers)
    assert fixed.status_code == 201


def test_malformed_key_is_refused(client: TestClient, sms: RecordingSender, db: Session) -> None:
    admin = verified_resident(client, sms)
    before = table_snapshot(db)
    response = client.post(
        "/v1/enterprises",
        json={"name": "甲公司", "uscc": make_uscc()},
        headers={**admin["headers"], "Idempotency-Key": "x" * 256},
    )
    assert_problem(response, 422, "invalid_idempotency_key", "Idempotency-Key")
    assert table_snapshot(db) == before


def _slow_app(app):  # type: ignore[no-untyped-def]
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []
    router = APIRouter(route_class=AppRoute)

    def as_test_principal(request: Request) -> None:
        request.state.principal_id = "test:slow"

    @router.post("/slow", status_code=201, dependencies=[Depends(as_test_principal)])
    def slow(payload: dict, idem: IdempotencyRequiredDep) -> dict:
        calls.append(1)
        started.set()
        assert release.wait(10)
        return {"calls": len(calls), "payload": payload}

    @router.post("/optional", status_code=201, dependencies=[Depends(as_test_principal)])
    def optional(payload: dict, idem: IdempotencyDep) -> dict:
        calls.append(1)
        return {"calls": len(calls)}

    app.include_router(router)
    return started, release, calls


def test_a_concurrent_duplicate_gets_409_and_runs_nothing(app, client: TestClient) -> None:
    started, release, calls = _slow_app(app)
    headers = {"Idempotency-Key": "slow-1"}
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(client.post, "/slow", json={"a": 1}, headers=headers)
        assert started.wait(10)
        duplicate = client.post("/slow", json={"a": 1}, headers=headers)
        release.set()
        assert first.result().status_code == 201
    assert_problem(duplicate, 409, "idempotency_request_in_progress", "Idempotency-Key")
    assert calls == [1]
    replay = client.post("/slow", json={"a": 1}, headers=headers)
    assert replay.json() == {"calls": 1, "payload": {"a": 1}}
    assert replay.headers["idempotent-replayed"] == "true"


def test_required_key_missing_is_refused(app, client: TestClient) -> None:
    _, release, calls = _slow_app(app)
    release.set()
    assert_problem(client.post("/slow", json={}), 422, "idempotency_key_required", "Idempotency-Key")
    assert calls == []


def test_without_a_key_every_request_runs(app, client: TestClient) -> None:
    _, _, calls = _slow_app(app)
    assert client.post("/optional", json={}).json() == {"calls": 1}
    assert client.post("/optional", json={}).json() == {"calls": 2}
    assert len(calls) == 2
