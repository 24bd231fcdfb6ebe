"""Where the CPU of the two hot paths goes, step by step (``make bench-verify-steps``): a diagnostic
beside ``make bench-verify``, not a benchmark with a target.

The app runs in this process (Starlette's TestClient) on PostgreSQL and Redis with production's settings,
set up as ``bench-verify`` sets it up. It issues passes one at a time, then verifies them one at a time,
each verification with an ``Idempotency-Key``, and adds up the thread CPU time spent in each step of
either path: wrappers put around the app's own functions for the run (never a library's), each counting
only during its own path's requests. One request at a time, so that a step's CPU is its own and not
another request's, and in process, because py-spy loses the callers of the database work at the greenlet
switch of ``AsyncSession.run_sync``. A verification costs more CPU here than under ``bench-verify``'s
load (the event loop wakes up for each round trip of one request instead of serving many), so read the
shares, not the milliseconds. Knobs: ``BENCH_VERIFICATIONS`` (600, also the passes timed),
``BENCH_DATABASE_URL``, ``BENCH_REDIS_URL``.
"""

from __future__ import annotations

import collections
import functools
import importlib
import inspect
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from benchmarks import common
from benchmarks.app_side import PASSES_PER_MINUTE, id_number, production_env, set_up_merchant
from benchmarks.common import knob, machine, recreate_database, service_versions
from tests.accounts.sms_standin import TencentSmsStandIn

# (module, attribute, what it is): each hot path's steps; an indented label is part of the one above it.
VERIFY_STEPS = [
    ("app.deps", "authenticate", "API key look-up (1 SELECT)"),
    ("app.core.idempotency", "begin", "Idempotency-Key claim (Redis SET NX)"),
    ("app.verifications.service", "verify", "the check: token, claim, decision"),
    ("app.passes.tokens", "read", "  token: EdDSA signature and claims"),
    ("app.verifications.service", "decide", "  decision: standing, scan and audit entry"),
    ("app.scenarios.service", "subject_standing", "    standing (2 SELECTs)"),
    ("app.verifications.service", "record", "    scan INSERT (flush) and audit entry built"),
    ("app.core.request_session", "_finish_async", "commit and session close"),
    ("app.audit.service", "_append_all", "  audit chain append at commit (3 statements)"),
    ("app.core.idempotency", "IdempotencyContext.complete", "Idempotency-Key completion (seal, Redis SET)"),
    ("app.verifications.stream", "notify", "scan notice (Redis INCR)"),
    ("app.core.store", "RedisStoreOnLoop.batch", "[every Redis round trip above, together]"),
]
PASS_STEPS = [
    ("app.deps", "authenticate", "access token and account look-up (1 SELECT)"),
    ("app.core.idempotency", "begin", "Idempotency-Key (none sent: the check that there is none)"),
    ("app.passes.service", "issue_online", "the pass: token, store, QR symbol and SVG"),
    ("app.signing.keyring", "Keyring.sign", "  token: EdDSA signature"),
    ("app.core.store", "RedisStoreOnLoop.batch", "  rate count and pass record (Redis)"),
    ("app.passes.qr", "encode", "  QR symbol (qrcode, version 10-M)"),
    ("app.passes.qr", "svg", "  SVG drawn from the modules"),
    ("app.passes.router", "_pass_out", "the response's model (SVG as a data URL)"),
    ("app.core.request_session", "_finish_async", "commit and session close"),
]
PATHS = {"verification": VERIFY_STEPS, "pass": PASS_STEPS}
WHOLE = "whole request (the ASGI app)"
SCENARIO = "deposit_free_rental"


class Steps:
    """CPU time per (path, step label), counted while ``path`` names the path whose request is running."""

    def __init__(self) -> None:
        self.cpu: collections.defaultdict[tuple[str, str], float] = collections.defaultdict(float)
        self.path: str | None = None

    def wrap(self, path: str, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                started = time.thread_time()
                try:
                    return await function(*args, **kwargs)
                finally:
                    self.add(path, label, started)

            return timed_async

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.add(path, label, started)

        return timed

    def add(self, path: str, label: str, started: float) -> None:
        if self.path == path:
            self.cpu[path, label] += time.thread_time() - started

    def install(self) -> None:
        for path, steps in PATHS.items():
            for module_name, attribute, label in steps:
                owner: Any = importlib.import_module(module_name)
                *parents, name = attribute.split(".")
                for part in parents:
                    owner = getattr(owner, part)
                setattr(owner, name, self.wrap(path, label, getattr(owner, name)))

    def timed_app(self, app: ASGIApp) -> ASGIApp:
        async def timed(scope: Scope, receive: Receive, send: Send) -> None:
            started = time.thread_time()
            try:
                await app(scope, receive, send)
            finally:
                if scope["type"] == "http" and self.path is not None:
                    self.add(self.path, WHOLE, started)

        return timed


def main() -> None:
    count = int(knob("BENCH_VERIFICATIONS", "600"))
    database_url, redis_url = common.database_url(), common.redis_url()
    recreate_database(database_url)
    redis.Redis.from_url(redis_url).flushdb()
    print(f"machine: {machine()}; {service_versions(database_url, redis_url)}")
    sms = TencentSmsStandIn()
    env = production_env(database_url, redis_url, sms, sms.start(), Path(tempfile.mkdtemp()), "INFO")
    api_key = set_up_merchant(env)
    os.environ.update(env)
    steps = Steps()
    steps.install()

    from app.core.config import Settings
    from app.core.sms import RecordingSender
    from app.main import create_app

    codes = RecordingSender()
    app = create_app(Settings(), sms_sender=codes)
    with TestClient(steps.timed_app(app)) as client:
        for handler in logging.getLogger().handlers:  # the access log is written as in production, unread
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 (for the process's life)
        tokens = passes(client, codes, count + 50, steps)
        merchant = {"Authorization": f"Bearer {api_key}"}
        for number, token in enumerate(tokens):
            steps.path = "verification" if number >= 50 else None  # the first 50 warm the caches and pools
            answer = client.post(
                "/v1/verifications",
                json={"token": token, "scenario": SCENARIO},
                headers={**merchant, "Idempotency-Key": uuid.uuid4().hex},
            )
            if answer.status_code != 201:
                raise SystemExit(f"POST /v1/verifications: {answer.status_code} {answer.text[:300]}")
    sms.stop()
    for path, path_steps in PATHS.items():
        report(path, path_steps, steps.cpu, count)


def passes(client: TestClient, codes: Any, count: int, steps: Steps) -> list[str]:
    """``count`` pass tokens, from as many residents as the per-minute limit needs; the passes after the
    first 50 are counted as the pass path's."""

    def call(method: str, path: str, wanted: int, **kwargs: Any) -> Any:
        answer = client.request(method, path, **kwargs)
        if answer.status_code != wanted:
            raise SystemExit(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json()

    tokens: list[str] = []
    for serial in range(-(-count // PASSES_PER_MINUTE)):
        phone = f"139{serial:08d}"
        challenge = call("POST", "/v1/auth/otp", 202, json={"phone": phone})["challenge"]
        answer = {"phone": phone, "code": codes.codes[phone], "challenge": challenge}
        bearer = {
            "Authorization": f"Bearer {call('POST', '/v1/auth/token', 200, json=answer)['access_token']}"
        }
        identity = {"name": "基准用户", "id_number": id_number(serial)}
        call("PUT", "/v1/me/identity", 200, json=identity, headers=bearer)
        for _ in range(min(PASSES_PER_MINUTE, count - len(tokens))):
            steps.path = "pass" if len(tokens) >= 50 else None
            tokens.append(call("POST", "/v1/me/passes", 201, headers=bearer)["token"])
            steps.path = None
    return tokens


def report(
    path: str, path_steps: list[tuple[str, str, str]], cpu: dict[tuple[str, str], float], count: int
) -> None:
    """One path's table: ``count`` requests timed (all but the first 50), each step's CPU and share."""
    whole = cpu[path, WHOLE]
    print(f"\n{count} {path} requests, one at a time: {1000 * whole / count:.2f} ms of server CPU each")
    print(f"{'ms':>7}  {'share':>6}  step")
    for _, _, label in path_steps:
        print(f"{1000 * cpu[path, label] / count:7.3f}  {100 * cpu[path, label] / whole:5.1f}%  {label}")
    top = [label for _, _, label in path_steps if not label.startswith((" ", "["))]
    rest = whole - sum(cpu[path, label] for label in top)
    print(
        f"{1000 * rest / count:7.3f}  {100 * rest / whole:5.1f}%  the rest: middleware, routing, the session's opening, the access log, the response"
    )


if __name__ == "__main__":
    main()
