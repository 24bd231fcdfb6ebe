"""The native reference of make bench-verify does its four steps: a valid pass is accepted once (201, one
scan stored), a replay and a forged signature are refused and store nothing; and so does each of its
variants on the app's stack that make bench-stack measures beside it. On the external leg only: they run on
PostgreSQL and Redis, in a schema and under keys of their own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import pytest
import redis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from benchmarks.common import psycopg_url
from benchmarks.native import stack, tokens
from benchmarks.native.app import create_app, create_schema
from tests.clock import PINNED
from tests.conftest import EXTERNAL

pytestmark = pytest.mark.skipif(not EXTERNAL, reason="the native reference runs on PostgreSQL and Redis")

NOW = int(PINNED.timestamp())
SCENARIO = "deposit_free_rental"
SCAN = {"scenario": SCENARIO}
T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a thread of its own: in a worker that ran the browser tests, Playwright's sync API
    has left an event loop going on this one, where another cannot start."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main).result()


@dataclass
class Native:
    client: TestClient
    dsn: str
    key: Ed25519PrivateKey  # the key the server trusts

    def scan(self, token: str) -> tuple[int, dict[str, str]]:
        answer = self.client.post("/v1/scans", json={"token": token, **SCAN})
        return answer.status_code, answer.json()


@pytest.fixture(params=["native", *stack.MODES])
def native(request: pytest.FixtureRequest, database_url: str, redis_url: str) -> Iterator[Native]:
    dsn = psycopg_url(database_url)
    run(create_schema(dsn, {"sub_good": "good", "sub_bad": "blacklisted"}))
    key = tokens.new_key()
    prefix = f"native-test:{uuid.uuid4().hex}:"
    public_key = tokens.load_public_key(tokens.public_key_text(key))
    if request.param == "native":
        app = create_app(dsn, redis_url, public_key, redis_prefix=prefix)
    else:
        app = stack.create_app(request.param, dsn, redis_url, public_key, redis_prefix=prefix)
    try:
        with TestClient(app) as client:
            yield Native(client, dsn, key)
    finally:
        store = redis.Redis.from_url(redis_url)
        for name in store.scan_iter(match=prefix + "*"):
            store.delete(name)
        store.close()
        run(_execute(dsn, "DROP SCHEMA native CASCADE"))


async def _execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def scans(dsn: str) -> list[tuple[str, str, str]]:
    async def read() -> list[tuple[str, str, str]]:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch("SELECT subject_id, scenario, decision FROM native.scans")
        finally:
            await conn.close()
        return [tuple(row) for row in rows]

    return run(read())


def test_a_valid_pass_is_accepted_once_and_its_scan_stored(native: Native) -> None:
    token = tokens.sign(native.key, "sub_good", NOW)

    status, body = native.scan(token)

    assert status == 201
    assert (body["decision"], body["subject"], body["scenario"]) == ("eligible", "sub_good", SCENARIO)
    assert scans(native.dsn) == [("sub_good", SCENARIO, "eligible")]

    assert native.scan(token) == (409, {"detail": "token_replayed"})
    assert scans(native.dsn) == [("sub_good", SCENARIO, "eligible")]  # nothing more stored


def test_the_subjects_standing_is_read(native: Native) -> None:
    status, body = native.scan(tokens.sign(native.key, "sub_bad", NOW))

    assert (status, body["decision"]) == (201, "not_eligible")
    assert scans(native.dsn) == [("sub_bad", SCENARIO, "not_eligible")]


def test_a_pass_signed_by_another_key_is_refused(native: Native) -> None:
    forged = tokens.sign(tokens.new_key(), "sub_good", NOW)

    assert native.scan(forged) == (422, {"detail": "token_invalid"})
    assert scans(native.dsn) == []


def test_an_expired_pass_is_refused(native: Native) -> None:
    expired = tokens.sign(native.key, "sub_good", NOW - tokens.TTL_SECONDS - 60)

    assert native.scan(expired) == (422, {"detail": "token_invalid"})
    assert scans(native.dsn) == []
