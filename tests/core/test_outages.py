"""Issue 17, finding 5: with Redis or PostgreSQL down, every route answers 503 + Retry-After with a stable
code (never a 500, never "eligible"), /readyz names what is down, and service resumes by itself.

Each test kills an instance it owns: a throwaway redis-server, or a throwaway PostgreSQL cluster made with
initdb (as the postgres user when run as root). The test is skipped only when those programs are absent.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app.core.config import Settings
from app.core.migrate import upgrade
from app.core.outages import RETRY_AFTER_SECONDS
from app.core.principal import Principal
from app.core.sms import RecordingSender
from app.core.store import MemoryStore
from app.main import create_app
from app.partners import service as partners_service
from app.verifications.models import Verification
from tests.helpers import make_phone
from tests.passes.helpers import resident

SETUP = Principal(type="system", id="test-setup")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _eventually(check: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "did not recover in time"
        time.sleep(0.1)


def _unavailable(response: Any, code: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert response.json()["code"] == code


class ThrowawayRedis:
    def __init__(self) -> None:
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _eventually(lambda: _answers(self.port), 10)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()


class ThrowawayPostgres:
    def __init__(self, bin_dir: str) -> None:
        self.bin_dir = bin_dir
        self.port = _free_port()
        self.data = tempfile.mkdtemp(prefix="xinyi-outage-pg-")
        self.user: str | None = "postgres" if os.geteuid() == 0 else None
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.data, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [os.path.join(self.bin_dir, program), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd="/")  # noqa: S603

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", self.data, "-o", options, "-w", "-l", f"{self.data}/log", "start")

    def kill(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.kill()
        shutil.rmtree(self.data, ignore_errors=True)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.fixture
def own_redis() -> Iterator[ThrowawayRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = ThrowawayRedis()
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.kill()


@pytest.fixture
def own_postgres() -> Iterator[ThrowawayPostgres]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL's initdb is not installed")
    server = ThrowawayPostgres(os.path.dirname(found[-1]))
    try:
        server.start()
        yield server
    finally:
        server.remove()


def _merchant(engine: Engine) -> tuple[str, dict[str, str]]:
    with Session(engine, expire_on_commit=False) as session:
        partner = partners_service.create_partner(
            session, SETUP, f"停电测试 {uuid.uuid4().hex[:6]}", "merchant"
        )
        issued = partners_service.create_api_key(session, SETUP, partner.id, "test", None)
        session.commit()
    return partner.id, {"Authorization": f"Bearer {issued.secret}"}


def _verifications(engine: Engine, partner_id: str) -> int:
    with Session(engine) as session:
        statement = (
            select(func.count()).select_from(Verification).where(Verification.partner_id == partner_id)
        )
        return session.exec(statement).one()


def test_redis_down_is_503_everywhere_then_service_resumes(
    own_redis: ThrowawayRedis, committed_engine: Engine, settings: Settings, sms: RecordingSender
) -> None:
    app = create_app(settings.model_copy(update={"redis_url": own_redis.url}), sms_sender=sms)
    with TestClient(app, raise_server_exceptions=False) as client:
        # given a resident with a pass and a merchant
        holder = resident(client, sms)
        merchant_id, merchant = _merchant(committed_engine)
        token = client.post("/v1/me/passes", headers=holder["headers"]).json()["token"]
        before = _verifications(committed_engine, merchant_id)

        # when Redis dies
        own_redis.kill()

        # then each call that needs it is a 503 with Retry-After, and the scan decided nothing
        scan = client.post(
            "/v1/verifications", json={"token": token, "scenario": "deposit_free_rental"}, headers=merchant
        )
        _unavailable(scan, "store_unavailable")
        assert _verifications(committed_engine, merchant_id) == before
        _unavailable(client.post("/v1/me/passes", headers=holder["headers"]), "store_unavailable")
        _unavailable(client.post("/v1/auth/otp", json={"phone": "13800138000"}), "store_unavailable")
        ready = client.get("/readyz")
        assert (ready.status_code, ready.json()["checks"]) == (
            503,
            {"database": "ok", "store": "unavailable"},
        )
        assert ready.headers["retry-after"] == str(RETRY_AFTER_SECONDS)

        # and once Redis is back (empty: the old pass is gone with it), service resumes by itself
        own_redis.start()
        _eventually(lambda: client.get("/readyz").status_code == 200)
        fresh = client.post("/v1/me/passes", headers=holder["headers"])
        assert fresh.status_code == 201, fresh.text
        scan = client.post(
            "/v1/verifications",
            json={"token": fresh.json()["token"], "scenario": "deposit_free_rental"},
            headers=merchant,
        )
        assert scan.status_code == 201, scan.text


def test_postgresql_down_is_503_everywhere_then_service_resumes(
    own_postgres: ThrowawayPostgres, settings: Settings, sms: RecordingSender
) -> None:
    upgrade(url=own_postgres.url)
    from sqlalchemy import create_engine

    engine = create_engine(own_postgres.url)
    app = create_app(
        settings.model_copy(update={"database_url": own_postgres.url}), store=MemoryStore(), sms_sender=sms
    )
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            # given a resident and a merchant on this database
            holder = resident(client, sms)
            _, merchant = _merchant(engine)
            token = client.post("/v1/me/passes", headers=holder["headers"]).json()["token"]
            engine.dispose()

            # when PostgreSQL stops hard
            own_postgres.kill()

            # then reads, writes, sign-in and the scan are 503 with Retry-After
            _unavailable(client.get("/v1/me", headers=holder["headers"]), "database_unavailable")
            _unavailable(client.post("/v1/me/passes", headers=holder["headers"]), "database_unavailable")
            scan = client.post(
                "/v1/verifications",
                json={"token": token, "scenario": "deposit_free_rental"},
                headers=merchant,
            )
            _unavailable(scan, "database_unavailable")
            phone = make_phone()
            requested = client.post("/v1/auth/otp", json={"phone": phone})  # the store only
            assert requested.status_code == 202, requested.text
            signing_in = client.post(
                "/v1/auth/token",
                json={"phone": phone, "code": sms.codes[phone], "challenge": requested.json()["challenge"]},
            )
            _unavailable(signing_in, "database_unavailable")
            ready = client.get("/readyz")
            assert (ready.status_code, ready.json()["checks"]) == (
                503,
                {"database": "unavailable", "store": "ok"},
            )

            # and once it is back, service resumes by itself
            own_postgres.start()
            _eventually(lambda: client.get("/v1/me", headers=holder["headers"]).status_code == 200)
            assert client.get("/readyz").status_code == 200
            assert client.post("/v1/me/passes", headers=holder["headers"]).status_code == 201
    finally:
        engine.dispose()


class SilentRedis:
    """A Redis that hangs: it takes connections and commands and never answers."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"
        self.heard = threading.Event()  # a command arrived
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):  # the listener was closed
            while True:
                connection, _ = self.listener.accept()
                self.connections.append(connection)
                threading.Thread(target=self._swallow, args=(connection,), daemon=True).start()

    def _swallow(self, connection: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while connection.recv(4096):
                self.heard.set()

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            connection.close()


def test_a_hanging_redis_holds_up_only_the_requests_that_wait_for_it(
    committed_engine: Engine, settings: Settings, sms: RecordingSender
) -> None:
    silent = SilentRedis()
    app = create_app(settings.model_copy(update={"redis_url": silent.url}), sms_sender=sms)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            # given a merchant whose scan waits on the store (its Idempotency-Key is claimed there first)
            merchant_id, merchant = _merchant(committed_engine)
            before = _verifications(committed_engine, merchant_id)
            answers: queue.Queue[Any] = queue.Queue()
            scan = threading.Thread(
                target=lambda: answers.put(
                    client.post(
                        "/v1/verifications",
                        json={"token": "eyJ.eyJ.sig", "scenario": "deposit_free_rental"},
                        headers={**merchant, "Idempotency-Key": "hung-1"},
                    )
                )
            )

            # when Redis takes the scan's command and does not answer
            scan.start()
            assert silent.heard.wait(timeout=20), "the scan never reached the store"

            # then the process still serves other requests meanwhile: the wait is the scan's alone
            assert client.get("/healthz").status_code == 200
            assert answers.empty() and scan.is_alive()

            # and the scan ends as an outage once the store's timeout is over, having decided nothing
            scan.join(timeout=30)
            _unavailable(answers.get_nowait(), "store_unavailable")
            assert _verifications(committed_engine, merchant_id) == before
    finally:
        silent.close()
