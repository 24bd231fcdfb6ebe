"""compose.yaml's services started as local processes, in compose's order, where no container engine runs.

postgres -> a fresh database on a local server; redis -> redis-server on a free port with compose's own
arguments (noeviction); migrate -> compose's command, twice at once (two replicas racing); a one-off
``xinyi keys rotate`` (the first deployment's signing key); api -> compose's command with 2 workers; worker ->
compose's command. Then /readyz, a resident's sign-in and a pass. Everything is stopped and the database
dropped at the end. Run: ``scripts/compose-smoke`` (``--help``); exit 0 when the system worked.

The processes run with ``XINYI_ENV=development`` only so that the sign-in code is written to the API's log
(production sends it by SMS); every other setting is a production one: PostgreSQL, Redis, fresh secrets.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
XINYI = str(Path(sys.executable).with_name("xinyi"))
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PHONE = "13900000042"
STARTED = time.monotonic()
# A ceiling, not a wait: two API processes importing the app on a loaded two-core box took up to a minute.
READY_WITHIN_S = 180.0
CODE_IN_LOG = re.compile(r"sign-in code is (\d{6})")


def start_order(services: dict[str, Any]) -> list[str]:
    """Services in the order compose starts them: each after everything it depends on."""
    order: list[str] = []
    pending = dict(services)
    while pending:
        ready = sorted(n for n, s in pending.items() if set(s.get("depends_on", {})) <= set(order))
        if not ready:
            raise SystemExit(f"compose.yaml: a depends_on cycle among {sorted(pending)}")
        order += ready
        for name in ready:
            del pending[name]
    return order


def interpolate(word: str) -> str:
    """compose's ${NAME:-default}, resolved to the default (the smoke sets its own values)."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", word)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(what: str, check: Any, deadline_s: float = 60.0) -> Any:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise SystemExit(f"compose-smoke: {what} not within {deadline_s:.0f} s")


def id_number(serial: int) -> str:
    """A valid 18-character 身份证号 (GB 11643-1999 check digit) for a test resident."""
    body = f"11010519900307{serial % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


@contextmanager
def fresh_database(server: str, label: str = "smoke") -> Iterator[str]:
    """A new, empty database on ``server`` (dropped afterwards, even with connections left); yields its URL."""
    url = make_url(server)
    name = f"xinyi_{label}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Processes:
    """Started processes, each logging to its own file; all stopped (TERM, then KILL) on exit."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        print(
            f"compose-smoke: {time.monotonic() - STARTED:5.1f} s start {name}: {' '.join(argv)}", flush=True
        )
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)  # noqa: S603
        self.running.append((name, process))
        return process

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for _, process in reversed(self.running):
            if process.poll() is None:
                process.terminate()
        for _, process in reversed(self.running):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def call(base: str, method: str, path: str, body: Any = None, token: str = "") -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.request(method, base + path, json=body, headers=headers, timeout=10)
    except httpx.TransportError:
        return 0, None
    is_json = response.headers.get("content-type", "").endswith("json")
    return response.status_code, response.json() if is_json else response.content


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"compose-smoke: FAILED: {message}")


def run(server: str, port: int, keep_logs: bool) -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    order = start_order(services)
    print(f"compose-smoke: compose start order: {' -> '.join(order)}", flush=True)
    logs = Path(tempfile.mkdtemp(prefix="xinyi-compose-smoke-"))
    processes = Processes(logs)
    base = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        stack.callback(lambda: None if keep_logs else shutil.rmtree(logs, ignore_errors=True))
        stack.callback(processes.stop_all)
        env = dict(os.environ)
        # compose's own settings for the app, then what differs on this host (service names -> local).
        env.update({k: interpolate(str(v)) for k, v in services["api"]["environment"].items()})
        env.update(
            XINYI_ENV="development",
            XINYI_SECRET_KEY=secrets.token_urlsafe(48),
            XINYI_ID_ENCRYPTION_KEYS=json.dumps({"k1": base64.urlsafe_b64encode(os.urandom(32)).decode()}),
            XINYI_ID_ENCRYPTION_ACTIVE_KID="k1",
            XINYI_ID_HASH_KEY=secrets.token_urlsafe(32),
            XINYI_AUDIT_HMAC_KEYS=json.dumps({"a1": secrets.token_urlsafe(48)}),
            XINYI_AUDIT_HMAC_ACTIVE_KID="a1",
            XINYI_EVIDENCE_DIR=str(logs / "evidence"),
            XINYI_TRUSTED_PROXIES='["127.0.0.1"]',
            # development writes the sign-in code to the API's log, where this script reads it
            XINYI_SMS_PROVIDER="",
        )
        for name in order:
            service = services[name]
            if name == "postgres":
                env["XINYI_DATABASE_URL"] = stack.enter_context(fresh_database(server))
            elif name == "redis":
                redis_port = free_port()
                argv = [interpolate(str(word)) for word in service["command"]]
                argv += ["--port", str(redis_port), "--bind", "127.0.0.1", "--dir", str(logs), "--save", ""]
                processes.start("redis", argv, env)
                env["XINYI_REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
                wait_until("redis", lambda port=redis_port: _redis_answers(port), 20)
            elif name == "migrate":
                racers = [processes.start(f"migrate-{i}", _xinyi(service["command"]), env) for i in (1, 2)]
                codes = [racer.wait(timeout=180) for racer in racers]
                check(codes == [0, 0], f"migrate exited {codes}: {processes.log('migrate-1')[-2000:]}")
                rotate = processes.start("keys-rotate", [XINYI, "keys", "rotate"], env)
                check(rotate.wait(timeout=60) == 0, f"keys rotate: {processes.log('keys-rotate')[-2000:]}")
            elif name == "api":
                argv = _xinyi(service["command"])
                argv[argv.index("--host") + 1] = "127.0.0.1"
                argv[argv.index("--port") + 1] = str(port)
                argv[argv.index("--workers") + 1] = "2"
                processes.start("api", argv, env)
                status = wait_until(
                    "/readyz 200", lambda: call(base, "GET", "/readyz")[0] == 200 or None, READY_WITHIN_S
                )
                check(status, "/readyz")
                print("compose-smoke: /readyz 200", flush=True)
            elif name == "worker":
                processes.start("worker", _xinyi(service["command"]), env)
            else:
                print(f"compose-smoke: skip {name} (not needed without containers)", flush=True)
        _resident_signs_in_and_gets_a_pass(base, processes)
        for name, process in processes.running:
            if name in {"redis", "api", "worker"}:
                check(process.poll() is None, f"{name} exited early: {processes.log(name)[-2000:]}")
        print("compose-smoke: OK", flush=True)


def _xinyi(command: list[str]) -> list[str]:
    argv = [interpolate(str(word)) for word in command]
    assert argv[0] == "xinyi", argv
    return [XINYI, *argv[1:]]


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _resident_signs_in_and_gets_a_pass(base: str, processes: Processes) -> None:
    status, asked = call(base, "POST", "/v1/auth/otp", {"phone": PHONE})
    check(status == 202, f"POST /v1/auth/otp answered {status}")
    code = wait_until(
        "the sign-in code in the API log", lambda: CODE_IN_LOG.findall(processes.log("api")), 10
    )
    answer = {"phone": PHONE, "code": code[-1], "challenge": asked["challenge"]}
    status, tokens = call(base, "POST", "/v1/auth/token", answer)
    check(status == 200, f"POST /v1/auth/token answered {status}: {tokens}")
    access = tokens["access_token"]
    status, identity = call(
        base, "PUT", "/v1/me/identity", {"name": "张三", "id_number": id_number(7)}, token=access
    )
    check(status == 200, f"PUT /v1/me/identity answered {status}: {identity}")
    status, issued = call(base, "POST", "/v1/me/passes", {}, token=access)
    check(status == 201, f"POST /v1/me/passes answered {status}: {issued}")
    check(issued["qr"]["version"] == 10 and issued["token"].count(".") == 2, f"the pass: {issued}")
    status, png = call(base, "GET", issued["qr"]["png_url"], token=access)
    check(status == 200 and png[:8] == b"\x89PNG\r\n\x1a\n", f"the pass's PNG: {status}")
    print(f"compose-smoke: resident signed in, pass {issued['id']} issued", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-server",
        default=os.environ.get("XINYI_SMOKE_DATABASE_SERVER", DEFAULT_SERVER),
        help="A PostgreSQL URL whose user may create databases (a fresh one is made and dropped).",
    )
    parser.add_argument("--port", type=int, default=0, help="The API's port (default: a free one).")
    parser.add_argument("--keep-logs", action="store_true", help="Keep each process's log (path printed).")
    args = parser.parse_args()
    run(args.database_server, args.port or free_port(), args.keep_logs)
    print(f"compose-smoke: {time.monotonic() - STARTED:.1f} s in all", flush=True)


if __name__ == "__main__":
    main()
