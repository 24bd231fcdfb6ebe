"""The request's session (``SessionDep``) as the app runs it, not the tests' override: it commits after
the handler returned, rolls back when the handler raised, and takes no connection when nothing is read."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

from app.core.db import SessionDep
from app.core.errors import InvalidInput, install_error_handlers


@pytest.fixture
def chain() -> str:
    return f"test-session:{uuid.uuid4().hex}"


@pytest.fixture
def real_session_client(committed_engine: Engine, chain: str) -> Iterator[TestClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.state.engine = committed_engine
    insert = text("INSERT INTO audit_chain_heads (chain, last_seq, last_hash) VALUES (:chain, 1, 'h')")

    @app.post("/write", status_code=201)
    def write(session: SessionDep) -> dict[str, str]:
        session.execute(insert, {"chain": chain})
        return {"ok": "yes"}

    @app.post("/write-then-refuse")
    def write_then_refuse(session: SessionDep) -> dict[str, str]:
        session.execute(insert, {"chain": chain})
        raise InvalidInput("refused after writing", code="refused")

    @app.get("/nothing")
    def nothing(session: SessionDep) -> dict[str, str]:
        return {"ok": "yes"}

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    with committed_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_chain_heads WHERE chain = :chain"), {"chain": chain})


def _stored(engine: Engine, chain: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM audit_chain_heads WHERE chain = :chain"), {"chain": chain}
            ).scalar_one()
        )


def test_a_handler_that_returned_is_committed_before_the_response(
    real_session_client: TestClient, committed_engine: Engine, chain: str
) -> None:
    response = real_session_client.post("/write")
    assert response.status_code == 201
    assert _stored(committed_engine, chain) == 1


def test_a_handler_that_raised_is_rolled_back(
    real_session_client: TestClient, committed_engine: Engine, chain: str
) -> None:
    response = real_session_client.post("/write-then-refuse")
    assert response.status_code == 422
    assert response.json()["code"] == "refused"
    assert _stored(committed_engine, chain) == 0
    # and the connection went back to the pool
    assert committed_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_handler_that_reads_nothing_takes_no_connection(
    real_session_client: TestClient, committed_engine: Engine
) -> None:
    checkouts: list[object] = []

    def count(*_: object) -> None:
        checkouts.append(object())

    event.listen(committed_engine, "checkout", count)
    try:
        assert real_session_client.get("/nothing").status_code == 200
    finally:
        event.remove(committed_engine, "checkout", count)
    assert checkouts == []
