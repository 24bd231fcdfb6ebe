"""The native reference server: ``POST /v1/scans`` does exactly four things, as a FastAPI service on
asyncpg and redis.asyncio would: verify the pass token's EdDSA signature (PyJWT), claim its handle once
(Redis ``SET NX``), read the subject by primary key (PostgreSQL), and insert the scan (its own implicit
transaction: PostgreSQL commits it when the statement ends, with the same WAL flush as a ``COMMIT``).

Run by ``make bench-verify`` as ``uvicorn benchmarks.native.app:from_env --factory --workers 1`` with
``NATIVE_DATABASE_URL`` (``postgresql://…``), ``NATIVE_REDIS_URL`` and ``NATIVE_PUBLIC_KEY`` (base64url of
the raw Ed25519 public key); ``NATIVE_POOL_SIZE`` (default 10, asyncpg's own default) sizes the pool.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import jwt
import redis.asyncio as redis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

from benchmarks.native.tokens import load_public_key

SCHEMA = Path(__file__).with_name("schema.sql")
LEEWAY_SECONDS = 5


class ScanIn(BaseModel):
    token: str = Field(max_length=4096)
    scenario: str = Field(max_length=40)


class ScanOut(BaseModel):
    id: uuid.UUID
    decision: str
    subject: str
    scenario: str


def read_claims(token: str, public_key: Ed25519PublicKey) -> dict[str, Any]:
    """The pass's claims, its EdDSA signature and times checked (PyJWT), or a 422."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            public_key,
            algorithms=["EdDSA"],
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "jti", "sub"]},
        )
    except jwt.PyJWTError:
        raise HTTPException(422, "token_invalid") from None
    return claims


def claim_ttl(claims: dict[str, Any]) -> int:
    """How long the handle's claim lasts: until the pass expires, with the leeway."""
    return max(1, int(claims["exp"]) + LEEWAY_SECONDS - int(time.time()))


async def create_schema(database_url: str, subjects: dict[str, str]) -> None:
    """The reference's tables, made anew, and its subjects (id -> standing)."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(SCHEMA.read_text())
        await conn.copy_records_to_table(
            "subjects", schema_name="native", columns=["id", "standing"], records=list(subjects.items())
        )
    finally:
        await conn.close()


def create_app(
    database_url: str,
    redis_url: str,
    public_key: Ed25519PublicKey,
    *,
    redis_prefix: str = "native:",
    pool_size: int = 10,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(database_url, min_size=pool_size, max_size=pool_size)
        app.state.redis = redis.Redis.from_url(redis_url)
        try:
            yield
        finally:
            await app.state.redis.aclose()
            await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/scans", status_code=201)
    async def scan(body: ScanIn, request: Request) -> ScanOut:
        claims = read_claims(body.token, public_key)
        claimed = await request.app.state.redis.set(
            f"{redis_prefix}claim:{claims['jti']}", 1, nx=True, ex=claim_ttl(claims)
        )
        if not claimed:
            raise HTTPException(409, "token_replayed")
        async with request.app.state.pool.acquire() as conn:
            subject = await conn.fetchrow(
                "SELECT id, standing FROM native.subjects WHERE id = $1", claims["sub"]
            )
            if subject is None:
                raise HTTPException(422, "token_unknown_subject")
            decision = "eligible" if subject["standing"] == "good" else "not_eligible"
            scan_id = uuid.uuid4()
            await conn.execute(
                "INSERT INTO native.scans (id, subject_id, handle, scenario, decision)"
                " VALUES ($1, $2, $3, $4, $5)",
                scan_id,
                subject["id"],
                claims["jti"],
                body.scenario,
                decision,
            )
        return ScanOut(id=scan_id, decision=decision, subject=subject["id"], scenario=body.scenario)

    return app


def from_env() -> FastAPI:
    return create_app(
        os.environ["NATIVE_DATABASE_URL"],
        os.environ["NATIVE_REDIS_URL"],
        load_public_key(os.environ["NATIVE_PUBLIC_KEY"]),
        pool_size=int(os.environ.get("NATIVE_POOL_SIZE", "10")),
    )
