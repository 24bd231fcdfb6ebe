"""The native reference's four steps (``benchmarks/native/app.py``) on the app's own stack instead of the
raw driver: SQLModel on SQLAlchemy, as ORM (``session.get`` and ``session.add``) or as Core statements
(``session.execute(text(…))``), each async (``AsyncSession`` on asyncpg, ``async def``, redis.asyncio) or
sync (``Session`` on psycopg, ``def`` handler and session dependency on anyio's threads, redis-py), the
request owning the transaction as in the app. ``make bench-stack`` measures them beside the native one:
what the stack itself costs before any of the app's rules, so it says which designs could reach
``bench-verify``'s targets at all.

Run as ``uvicorn benchmarks.native.stack:from_env --factory`` with the native reference's variables and
``STACK_MODE`` (one of ``MODES``).
"""

# No ``from __future__ import annotations``: FastAPI must resolve the handlers' Annotated dependencies,
# which are local to the factory functions, when the routes are made.

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import redis
import redis.asyncio as aredis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import Field, Session, SQLModel, create_engine

from benchmarks.native.app import ScanIn, ScanOut, claim_ttl, read_claims
from benchmarks.native.tokens import load_public_key

MODES = ("orm-async", "core-async", "orm-sync", "core-sync")


class _Native(SQLModel):
    metadata = MetaData()  # the reference's tables only, never among the app's


class Subject(_Native, table=True):
    __tablename__ = "subjects"
    __table_args__ = {"schema": "native"}
    id: str = Field(primary_key=True)
    standing: str


class Scan(_Native, table=True):
    __tablename__ = "scans"
    __table_args__ = {"schema": "native"}
    id: uuid.UUID = Field(primary_key=True)
    subject_id: str
    handle: str
    scenario: str
    decision: str


SUBJECT_BY_ID = text("SELECT id, standing FROM native.subjects WHERE id = :id")
INSERT_SCAN = text(
    "INSERT INTO native.scans (id, subject_id, handle, scenario, decision)"
    " VALUES (:id, :subject_id, :handle, :scenario, :decision)"
)


def _scan(claims: dict[str, Any], scenario: str, standing: str | None) -> Scan:
    """The scan to store for the pass's subject, of ``standing`` (None: no such subject, a 422)."""
    if standing is None:
        raise HTTPException(422, "token_unknown_subject")
    decision = "eligible" if standing == "good" else "not_eligible"
    return Scan(
        id=uuid.uuid4(), subject_id=claims["sub"], handle=claims["jti"], scenario=scenario, decision=decision
    )


def _out(row: Scan) -> ScanOut:
    return ScanOut(id=row.id, decision=row.decision, subject=row.subject_id, scenario=row.scenario)


def create_app(
    mode: str,
    database_url: str,
    redis_url: str,
    public_key: Ed25519PublicKey,
    *,
    redis_prefix: str = "stack:",
    pool_size: int = 10,
) -> FastAPI:
    """``mode``: one of ``MODES``. ``database_url``: ``postgresql://…``."""
    if mode not in MODES:
        raise ValueError(f"STACK_MODE must be one of {MODES}")
    core = mode.startswith("core")
    if mode.endswith("async"):
        return _async_app(core, database_url, redis_url, public_key, redis_prefix, pool_size)
    return _sync_app(core, database_url, redis_url, public_key, redis_prefix)


def _async_app(
    core: bool, database_url: str, redis_url: str, key: Ed25519PublicKey, prefix: str, pool_size: int
) -> FastAPI:
    engine = create_async_engine(
        database_url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=pool_size, max_overflow=0
    )
    # SQLAlchemy's own AsyncSession (SQLModel's subclass only adds exec(), and flags execute() as deprecated)
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.redis = aredis.Redis.from_url(redis_url)
        try:
            yield
        finally:
            await app.state.redis.aclose()
            await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    async def session_dep() -> AsyncIterator[AsyncSession]:
        async with sessions() as session:
            yield session
            await session.commit()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/scans", status_code=201)
    async def scan(body: ScanIn, session: Annotated[AsyncSession, Depends(session_dep)]) -> ScanOut:
        claims = read_claims(body.token, key)
        if not await app.state.redis.set(f"{prefix}claim:{claims['jti']}", 1, nx=True, ex=claim_ttl(claims)):
            raise HTTPException(409, "token_replayed")
        if core:
            found = (await session.execute(SUBJECT_BY_ID, {"id": claims["sub"]})).first()
            standing = None if found is None else str(found.standing)
        else:
            subject = await session.get(Subject, claims["sub"])
            standing = None if subject is None else subject.standing
        row = _scan(claims, body.scenario, standing)
        if core:
            await session.execute(INSERT_SCAN, row.model_dump())
        else:
            session.add(row)
            await session.flush()
        return _out(row)

    return app


def _sync_app(core: bool, database_url: str, redis_url: str, key: Ed25519PublicKey, prefix: str) -> FastAPI:
    # The app's own pool sizes (app.core.db.make_engine): larger than anyio's 40 worker threads
    engine = create_engine(
        database_url.replace("postgresql://", "postgresql+psycopg://", 1), pool_size=45, max_overflow=5
    )
    store = redis.Redis.from_url(redis_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()
            engine.dispose()

    app = FastAPI(lifespan=lifespan)

    def session_dep() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as session:
            yield session
            session.commit()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/scans", status_code=201)
    def scan(body: ScanIn, session: Annotated[Session, Depends(session_dep)]) -> ScanOut:
        claims = read_claims(body.token, key)
        if not store.set(f"{prefix}claim:{claims['jti']}", 1, nx=True, ex=claim_ttl(claims)):
            raise HTTPException(409, "token_replayed")
        if core:
            found = session.execute(SUBJECT_BY_ID, {"id": claims["sub"]}).first()
            standing = None if found is None else str(found.standing)
        else:
            subject = session.get(Subject, claims["sub"])
            standing = None if subject is None else subject.standing
        row = _scan(claims, body.scenario, standing)
        if core:
            session.execute(INSERT_SCAN, row.model_dump())
        else:
            session.add(row)
            session.flush()
        return _out(row)

    return app


def from_env() -> FastAPI:
    return create_app(
        os.environ["STACK_MODE"],
        os.environ["NATIVE_DATABASE_URL"],
        os.environ["NATIVE_REDIS_URL"],
        load_public_key(os.environ["NATIVE_PUBLIC_KEY"]),
        pool_size=int(os.environ.get("NATIVE_POOL_SIZE", "10")),
    )
