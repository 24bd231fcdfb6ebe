"""Live streams are bounded (issue 17, finding 8): per-account and per-process caps (429 problem+json),
heartbeats, an idle timeout, and a SIGTERM ends open streams so the process exits within seconds."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.core.config import Settings
from app.core.security import Crypto
from app.core.sms import RecordingSender
from app.core.store import KeyValueStore
from app.main import create_app
from app.subjects import service as subjects_service
from app.verifications import stream
from tests.core.test_errors import assert_problem
from tests.helpers import make_phone, process_env
from tests.passes import helpers

PATH = "/v1/me/verifications/stream"


@pytest.fixture
def capped(
    committed_engine: Engine, settings: Settings, store: KeyValueStore, sms: RecordingSender
) -> Iterator[TestClient]:
    """The whole stack on the committed database, with small caps: 1 stream per account, 2 per process."""
    small = settings.model_copy(update={"sse_max_streams_per_user": 1, "sse_max_streams_per_process": 2})
    with TestClient(create_app(small, store=store, sms_sender=sms), raise_server_exceptions=False) as client:
        yield client


def opens_within(client: TestClient, headers: dict[str, str], seconds: float) -> None:
    """A new stream is accepted again within ``seconds`` (the closed one's slot was given back)."""
    deadline = time.monotonic() + seconds
    while True:
        with client.stream("GET", PATH, headers=headers) as response:
            if response.status_code == 200:
                return
        assert time.monotonic() < deadline, "the closed stream's slot was never given back"
        time.sleep(0.05)


def test_one_account_cannot_hold_more_streams_than_its_cap(capped: TestClient, sms: RecordingSender) -> None:
    resident = helpers.resident(capped, sms)
    with capped.stream("GET", PATH, headers=resident["headers"]) as first:
        assert first.status_code == 200
        second = capped.get(PATH, headers=resident["headers"])
        assert_problem(second, 429, "too_many_streams_for_user")
        assert second.headers["content-type"] == "application/problem+json"
        assert int(second.headers["retry-after"]) >= 1
    opens_within(capped, resident["headers"], 5)


def test_the_process_cap_refuses_a_stream_past_it(capped: TestClient, sms: RecordingSender) -> None:
    first, second, third = (helpers.resident(capped, sms) for _ in range(3))
    with (
        capped.stream("GET", PATH, headers=first["headers"]) as a,
        capped.stream("GET", PATH, headers=second["headers"]) as b,
    ):
        assert (a.status_code, b.status_code) == (200, 200)
        assert_problem(capped.get(PATH, headers=third["headers"]), 429, "too_many_streams")
    opens_within(capped, third["headers"], 5)


def test_a_stream_sends_heartbeats_and_ends_when_idle(
    committed_engine: Engine,
    settings: Settings,
    store: KeyValueStore,
    sms: RecordingSender,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0.3)
    idle = settings.model_copy(update={"sse_idle_seconds": 1.0})
    with TestClient(create_app(idle, store=store, sms_sender=sms)) as client:
        resident = helpers.resident(client, sms)
        started = time.monotonic()
        with client.stream("GET", PATH, headers=resident["headers"]) as response:
            lines = [line for line in response.iter_lines() if line]
        took = time.monotonic() - started
    assert lines[0] == "retry: 1000" and ": connected" in lines
    assert ": keep-alive" in lines
    assert lines[-1] == ": idle; reconnect"
    assert 1.0 <= took < 4.0


# --- a real server and SIGTERM ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(settings: Settings) -> dict[str, str]:
    return {**process_env(settings), "XINYI_REDIS_URL": settings.redis_url}


def a_resident_token(engine: Engine, settings: Settings) -> str:
    """An access token of a resident with a bound ID, made in the committed database."""
    with Session(engine, expire_on_commit=False) as session:
        crypto = Crypto(settings)
        subject = subjects_service.get_or_create_person(
            session, crypto, helpers.unique_id_number(), name="陈静"
        )
        user = User(
            phone_hash=crypto.phone_hash(make_phone()), phone_masked="138****0000", subject_id=subject.id
        )
        session.add(user)
        session.flush()
        token = accounts_service.issue_tokens(session, settings, user).access_token
        session.commit()
    return token


def test_sigterm_ends_open_streams_and_the_server_exits_within_seconds(
    committed_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    token = a_resident_token(committed_engine, settings)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(  # noqa: S603 (our own venv's xinyi, fixed arguments)
        [str(Path(sys.executable).parent / "xinyi"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=server_env(settings),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120  # importing the app takes seconds, more on a loaded machine
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (
                tmp_path / "server.log"
            ).read_text()
            time.sleep(0.1)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.stream("GET", base + PATH, headers=headers, timeout=10) as response:
            assert response.status_code == 200
            lines = response.iter_lines()
            assert ": connected" in (next(lines), next(lines))
            # when the process is told to stop while the stream is open
            server.send_signal(signal.SIGTERM)
            stopped = time.monotonic()
            rest = [line for line in lines if line]
        # then the stream ends with a word to reconnect, and the process is gone within seconds
        assert rest[-1] == ": server restarting; reconnect"
        # (uvicorn re-raises the signal once it has shut down cleanly: the status says SIGTERM)
        assert server.wait(timeout=10) in (0, -signal.SIGTERM)
        assert time.monotonic() - stopped < 5.0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()
