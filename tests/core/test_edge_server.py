"""Issue 17, finding 1, against a real uvicorn process: a 100 MB body to an unauthenticated JSON route is
refused at once with 413, the worker keeps its PID and its memory, and other requests keep answering."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from app.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
HUNDRED_MB = 100 * 1000 * 1000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture
def server(
    committed_engine: Engine, settings: Settings, tmp_path: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """One uvicorn process serving the app on the test database (already migrated)."""
    port = _free_port()
    env = {
        **os.environ,
        "XINYI_ENV": "test",
        "XINYI_DATABASE_URL": settings.database_url,
        "XINYI_REDIS_URL": settings.redis_url,
        "XINYI_SECRET_KEY": settings.secret_key,
        "XINYI_ID_ENCRYPTION_KEYS": json.dumps(settings.id_encryption_keys),
        "XINYI_ID_ENCRYPTION_ACTIVE_KID": settings.id_encryption_active_kid,
        "XINYI_ID_HASH_KEY": settings.id_hash_key,
        "XINYI_AUDIT_HMAC_KEYS": json.dumps(settings.audit_hmac_keys),
        "XINYI_AUDIT_HMAC_ACTIVE_KID": settings.audit_hmac_active_kid,
        "XINYI_EVIDENCE_DIR": str(tmp_path),
    }
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 (our own app)
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        cwd=tmp_path,  # no .env of the developer's
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a loaded CI box may take a while to import the app
    while True:
        assert process.poll() is None, (tmp_path / "server.log").read_text()
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the server did not start within 120 s"
        time.sleep(0.05)
    try:
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _read_status_line(sock: socket.socket) -> tuple[str, bytes]:
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    head, _, rest = received.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def _send_quietly(sock: socket.socket, total: int, chunked: bool) -> None:
    """Keep sending until the server hangs up, as an attacker would."""
    block = b"x" * 65536
    sent = 0
    try:
        while sent < total:
            sock.sendall(b"10000\r\n" + block + b"\r\n" if chunked else block)
            sent += len(block)
    except OSError:
        pass


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_100_mb_body_is_refused_at_once_and_the_worker_lives_on(
    server: tuple[str, subprocess.Popen[bytes]], chunked: bool
) -> None:
    base, process = server
    port = int(base.rsplit(":", 1)[1])
    pid, rss_before = process.pid, _rss_kib(process.pid)
    framing = b"Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {HUNDRED_MB}\r\n".encode()

    # when an unauthenticated client sends 100 MB of JSON to the sign-in call
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    started = time.monotonic()
    sock.sendall(
        b"POST /v1/auth/otp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + framing + b"\r\n"
    )
    sender = threading.Thread(target=_send_quietly, args=(sock, HUNDRED_MB, chunked), daemon=True)
    sender.start()
    head, rest = _read_status_line(sock)
    refused_after = time.monotonic() - started

    # then 413 problem+json, well before 100 MB could have been read
    assert head.startswith("HTTP/1.1 413"), head
    assert "content-type: application/problem+json" in head.lower()
    assert b"payload_too_large" in rest or b"payload_too_large" in sock.recv(65536)
    # while it is still being sent, another client is answered
    assert httpx.get(base + "/healthz", timeout=2).status_code == 200
    sock.close()
    sender.join(timeout=10)

    # and the same worker serves on, without having taken the body into memory
    assert process.poll() is None and process.pid == pid
    assert httpx.get(base + "/healthz", timeout=2).status_code == 200
    grown_mib = (_rss_kib(pid) - rss_before) / 1024
    assert grown_mib < 20, grown_mib
    print(
        f"\n100 MB body ({'chunked' if chunked else 'Content-Length'}): 413 after {refused_after * 1000:.1f} ms, RSS +{grown_mib:.1f} MiB"
    )
    assert refused_after < 5.0  # tens of milliseconds on an idle machine
