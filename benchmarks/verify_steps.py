"""Where a verification's CPU goes, step by step (``make bench-verify-steps``): a diagnostic beside
``make bench-verify``, not a benchmark with a target.

The app runs in this process (Starlette's TestClient) on PostgreSQL and Redis with production's settings,
set up as ``bench-verify`` sets it up. It verifies passes one at a time, each with an ``Idempotency-Key``,
and adds up the thread CPU time spent in each step of the hot path: wrappers put around the app's own
functions for the run (never a library's). One request at a time, so that a step's CPU is its own and not
another request's, and in process, because py-spy loses the callers of the database work at the greenlet
switch of ``AsyncSession.run_sync``. A request costs more CPU here than under ``bench-verify``'s load (the
event loop wakes up for each round trip of one request instead of serving many), so read the shares, not
the milliseconds. Knobs: ``BENCH_VERIFICATIONS`` (600), ``BENCH_DATABASE_URL``, ``BENCH_REDIS_URL``.
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

# (module, attribute, what it is): the hot path's steps; an indented label is part of the one above it.
STEPS = [
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
SCENARIO = "deposit_free_rental"


class Steps:
    def __init__(self) -> None:
        self.cpu: collections.defaultdict[str, float] = collections.defaultdict(float)
        self.on = False

    def wrap(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                started = time.thread_time()
                try:
                    return await function(*args, **kwargs)
                finally:
                    self.add(label, started)

            return timed_async

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.add(label, started)

        return timed

    def add(self, label: str, started: float) -> None:
        if self.on:
            self.cpu[label] += time.thread_time() - started

    def install(self) -> None:
        for module_name, attribute, label in STEPS:
            owner: Any = importlib.import_module(module_name)
            *path, name = attribute.split(".")
            for part in path:
                owner = getattr(owner, part)
            setattr(owner, name, self.wrap(label, getattr(owner, name)))

    def timed_app(self, app: ASGIApp) -> ASGIApp:
        async def timed(scope: Scope, receive: Receive, send: Send) -> None:
            started = time.thread_time()
            try:
                await app(scope, receive, send)
            finally:
                if scope["type"] == "http":
                    self.add("whole request (the ASGI app)", started)

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
        tokens = passes(client, codes, count + 50)
        merchant = {"Authorization": f"Bearer {api_key}"}
        for number, token in enumerate(tokens):
            steps.on = number >= 50  # the first 50 warm the caches and the pools
            answer = client.post(
                "/v1/verifications",
                json={"token": token, "scenario": SCENARIO},
                headers={**merchant, "Idempotency-Key": uuid.uuid4().hex},
            )
            if answer.status_code != 201:
                raise SystemExit(f"POST /v1/verifications: {answer.status_code} {answer.text[:300]}")
    sms.stop()
    report(steps.cpu, count)


def passes(client: TestClient, codes: Any, count: int) -> list[str]:
    """``count`` pass tokens, from as many residents as the per-minute limit needs."""

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
            tokens.append(call("POST", "/v1/me/passes", 201, headers=bearer)["token"])
    return tokens


def report(cpu: dict[str, float], count: int) -> None:
    whole = cpu.pop("whole request (the ASGI app)")
    print(f"\n{count} verifications, one at a time: {1000 * whole / count:.2f} ms of server CPU each")
    print(f"{'ms':>7}  {'share':>6}  step")
    for _, _, label in STEPS:
        print(f"{1000 * cpu[label] / count:7.3f}  {100 * cpu[label] / whole:5.1f}%  {label}")
    top = [label for _, _, label in STEPS if not label.startswith((" ", "["))]
    rest = whole - sum(cpu[label] for label in top)
    print(
        f"{1000 * rest / count:7.3f}  {100 * rest / whole:5.1f}%  the rest: middleware, routing, the session's opening, the access log, the response"
    )


if __name__ == "__main__":
    main()
