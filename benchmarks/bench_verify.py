"""``make bench-verify``: the full pass verification against a native reference, under one load generator.

Two servers, one uvicorn worker each, on the same PostgreSQL and Redis: the app as production runs it
(``benchmarks/app_side.py``), and the native reference (``benchmarks/native/``: FastAPI + asyncpg +
redis.asyncio + PyJWT doing the EdDSA verify, the ``SET NX`` claim, one primary-key read and one INSERT).
wrk (C; ``passes.lua``) drives both at 64 connections, every request a distinct single-use pass: the app's
passes asked for by its residents over HTTP just before each of its rounds, the native ones signed here.
The rounds alternate, app then native, at least three each, after one warm-up round each; every response
must be the expected 201, or the round is reported as failed and left out of the medians. For each side:
req/s, p50 and p99 (wrk's exact percentiles) and the server process's CPU time per request (``/proc``),
the medians over the rounds, and the ratios against their targets. Pass issuance (token + QR + SVG) is
timed over HTTP, one pass at a time, in slices before the first round and after each pair.

Knobs (environment, or Make variables): BENCH_SECONDS (per round, 10), BENCH_ROUNDS (per side, 3),
BENCH_CONNECTIONS (64), BENCH_THREADS (wrk's, 2), BENCH_ISSUANCE (passes timed, 300), BENCH_HEADROOM
(tokens issued per round over the best rate so far × seconds, 1.5), BENCH_ACCESS_LOG (1: each server
writes its access line per request, as in production; 0: neither), BENCH_NATIVE_POOL (asyncpg pool, 10),
BENCH_DATABASE_URL (recreated), BENCH_REDIS_URL (emptied: give it a database of its own), BENCH_PROFILE
(a directory: py-spy records the app during its rounds). Everything binds to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import make_url

from benchmarks import common, load
from benchmarks.app_side import XINYI, Residents, issue_passes, production_env, set_up_merchant, time_issuance
from benchmarks.common import ROOT, free_port, knob, machine, psycopg_url, recreate_database, service_versions
from benchmarks.native import tokens
from benchmarks.native.app import create_schema
from tests.accounts.sms_standin import TencentSmsStandIn

SCENARIO = "deposit_free_rental"
NATIVE_SUBJECTS = 1000
WARM_UP_SECONDS = 3
WARM_UP_TOKENS = {"app": 1500, "native": 4000}


def knobs() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=int(knob("BENCH_SECONDS", "10")))
    parser.add_argument("--rounds", type=int, default=int(knob("BENCH_ROUNDS", "3")))
    parser.add_argument("--connections", type=int, default=int(knob("BENCH_CONNECTIONS", "64")))
    parser.add_argument("--threads", type=int, default=int(knob("BENCH_THREADS", "2")))
    parser.add_argument("--issuance", type=int, default=int(knob("BENCH_ISSUANCE", "300")))
    parser.add_argument("--headroom", type=float, default=float(knob("BENCH_HEADROOM", "1.5")))
    parser.add_argument("--access-log", type=int, choices=(0, 1), default=int(knob("BENCH_ACCESS_LOG", "1")))
    parser.add_argument("--native-pool", type=int, default=int(knob("BENCH_NATIVE_POOL", "10")))
    parser.add_argument("--database-url", default=common.database_url())
    parser.add_argument("--redis-url", default=common.redis_url())
    parser.add_argument("--profile", type=Path, default=knob("BENCH_PROFILE", "") or None)
    args = parser.parse_args()
    if not 1 <= args.seconds <= 60:
        parser.error("--seconds: 1-60 (a pass lives 90 s, issued before its round)")
    if not 3 <= args.rounds <= 20:
        parser.error("--rounds: 3-20 per side")
    if args.threads < 1 or args.connections < args.threads:
        parser.error("--threads: at least 1, and no more than --connections")
    return args


@contextlib.contextmanager
def server(
    name: str, argv: list[str], env: dict[str, str], workdir: Path, ready: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process, its output in ``workdir/name.log``, once ``ready`` answers 200 (60 s at most);
    stopped when the block ends."""
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (our own servers)
            argv, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(ready, timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise SystemExit(f"{name} did not answer {ready} ({process.poll()}):\n{log.read_text()[-4000:]}")
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def py_spy(pid: int, out: Path | None) -> Iterator[None]:
    """With ``out``: py-spy samples the process (200 Hz, collapsed stacks) while the block runs."""
    if out is None:
        yield
        return
    executable = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    if executable is None:
        raise SystemExit("BENCH_PROFILE needs py-spy: .venv/bin/pip install py-spy")
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = [executable, "record", "-p", str(pid), "-r", "200", "--nonblocking", "-f", "raw", "-o", str(out)]
    spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        yield
    finally:
        stop(spy)  # py-spy writes its file on SIGINT


def figures(rps: float, p50: float, p99: float, cpu: float | None) -> str:
    """One side's figures. "core" is the share of one core the server used (req/s × CPU per request): near
    1 it was bound by its own CPU; well below, it waited (for PostgreSQL, Redis, or a loaded machine)."""
    text = f"{rps:7.0f} req/s   p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   p99/p50 {p99 / p50:4.1f}"
    if cpu is not None:
        text += f"   server CPU {cpu:5.2f} ms/req, core {rps * cpu / 1000:4.2f}"
    return text


def line(side: str, measured: load.Round, label: str) -> str:
    if measured.failure:
        return f"{label:<9} {side:<6} FAILED: {measured.failure}"
    return (
        f"{label:<9} {side:<6} "
        + figures(measured.rps, measured.p50_ms, measured.p99_ms, measured.cpu_ms_per_request)
        + f"   ({measured.requests} requests, all 201)"
    )


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


@dataclass
class Sides:
    """The two running servers and what each round needs to drive them."""

    args: argparse.Namespace
    app: subprocess.Popen[bytes]
    native: subprocess.Popen[bytes]
    app_base: str
    native_base: str
    api_key: str
    residents: Residents
    native_key: Ed25519PrivateKey
    subject_ids: list[str]
    tokens_file: Path
    best: dict[str, float] = field(default_factory=dict)  # each side's best rate so far, req/s
    issuance_ms: list[float] = field(default_factory=list)
    issuance_cpu: float = 0.0

    def budget(self, side: str, seconds: float) -> int:
        if side not in self.best:
            return WARM_UP_TOKENS[side]
        return int(self.best[side] * seconds * self.args.headroom + 2 * self.args.connections)

    def round(self, side: str, seconds: float, tag: str, profile: Path | None = None) -> load.Round:
        measured = self.app_round(seconds, tag, profile) if side == "app" else self.native_round(seconds)
        # A warm-up starts cold, and a round that ran out of tokens went at least as fast as it got:
        # either counts double, so that the next round does not run out.
        rate = measured.sent / seconds if measured.exhausted else measured.rps
        rate *= 2 if measured.exhausted or tag == "warm" else 1
        self.best[side] = max(self.best.get(side, 0.0), rate)
        return measured

    def app_round(self, seconds: float, tag: str, profile: Path | None) -> load.Round:
        with self.residents.bearers(self.budget("app", seconds)) as bearers:
            asked = time.monotonic()
            load.write_tokens(self.tokens_file, issue_passes(self.app_base, bearers))
        if time.monotonic() - asked + seconds > tokens.TTL_SECONDS - 10:
            raise SystemExit(
                "issuing a round's passes took too long for them to last it: lower BENCH_SECONDS"
            )
        with py_spy(self.app.pid, profile):
            return self.drive(
                self.app_base + "/v1/verifications",
                self.app.pid,
                seconds,
                idempotency_prefix=tag,
                authorization=f"Bearer {self.api_key}",
            )

    def native_round(self, seconds: float) -> load.Round:
        now = int(time.time())
        count = self.budget("native", seconds)
        load.write_tokens(
            self.tokens_file,
            [tokens.sign(self.native_key, random.choice(self.subject_ids), now) for _ in range(count)],
        )
        return self.drive(self.native_base + "/v1/scans", self.native.pid, seconds)

    def drive(self, url: str, pid: int, seconds: float, **headers: str) -> load.Round:
        """wrk on ``url`` with the tokens just written, every answer expected to be 201."""
        return load.run(
            url,
            self.tokens_file,
            seconds=seconds,
            connections=self.args.connections,
            threads=self.args.threads,
            expect=201,
            scenario=SCENARIO,
            server_pid=pid,
            **headers,
        )

    def time_issuance(self, count: int) -> None:
        with self.residents.bearers(count) as bearers:
            before = load.cpu_seconds(self.app.pid) or 0.0
            self.issuance_ms.extend(time_issuance(self.app_base, bearers))
            self.issuance_cpu += (load.cpu_seconds(self.app.pid) or 0.0) - before


def measure(sides: Sides) -> dict[str, list[load.Round]]:
    """A warm-up round each, then the rounds alternating, with issuance slices before and between."""
    args = sides.args
    warm = min(WARM_UP_SECONDS, args.seconds)
    for side in ("app", "native"):
        measured = sides.round(side, warm, "warm")
        print(
            line(side, measured, "warm-up")
            if not measured.exhausted
            else f"warm-up   {side:<6} ran out of tokens"
        )
    slices = [
        args.issuance // (args.rounds + 1) + (i < args.issuance % (args.rounds + 1))
        for i in range(args.rounds + 1)
    ]
    sides.time_issuance(slices[0])
    rounds: dict[str, list[load.Round]] = {"app": [], "native": []}
    for n in range(1, args.rounds + 1):
        for side in ("app", "native"):
            profile = args.profile / f"app-{n}.raw" if args.profile and side == "app" else None
            measured = sides.round(side, args.seconds, f"r{n}", profile)
            rounds[side].append(measured)
            print(line(side, measured, f"round {n}"), flush=True)
        sides.time_issuance(slices[n])
    return rounds


def main() -> None:
    args = knobs()
    wrk_version = load.wrk_version()  # refuses to run without wrk, saying how to install it
    recreate_database(args.database_url)
    redis.Redis.from_url(args.redis_url).flushdb()
    print(f"machine: {machine()}; {service_versions(args.database_url, args.redis_url)}")
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"load: {wrk_version}, {args.threads} threads, {args.connections} connections, {args.seconds} s rounds, "
        f"{args.rounds} per side alternating after a warm-up each; access log {'on' if args.access_log else 'off'}"
    )

    workdir = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    sms = TencentSmsStandIn()
    level = "INFO" if args.access_log else "WARNING"
    env = production_env(args.database_url, args.redis_url, sms, sms.start(), workdir, level)
    api_key = set_up_merchant(env)
    dsn = psycopg_url(args.database_url)
    subject_ids = [f"sub_{i:06d}" for i in range(NATIVE_SUBJECTS)]
    asyncio.run(create_schema(dsn, dict.fromkeys(subject_ids, "good")))
    native_key = tokens.new_key()
    app_port, native_port = free_port(), free_port()
    app_argv = [XINYI, "serve", "--host", "127.0.0.1", "--port", str(app_port), "--workers", "1"]
    native_argv = [
        sys.executable, "-m", "uvicorn", "benchmarks.native.app:from_env", "--factory",
        "--host", "127.0.0.1", "--port", str(native_port), "--workers", "1",
        *(["--log-level", "info"] if args.access_log else ["--log-level", "warning", "--no-access-log"]),
    ]  # fmt: skip
    native_env = {
        "NATIVE_DATABASE_URL": dsn,
        "NATIVE_REDIS_URL": args.redis_url,
        "NATIVE_PUBLIC_KEY": tokens.public_key_text(native_key),
        "NATIVE_POOL_SIZE": str(args.native_pool),
    }
    print(
        f"app:    xinyi serve --workers 1, XINYI_ENV=production, database {make_url(args.database_url).database}"
    )
    print(
        f"native: uvicorn benchmarks.native.app --workers 1, asyncpg pool {args.native_pool}, same database and Redis"
    )
    print()
    with contextlib.ExitStack() as stack:
        stack.callback(sms.stop)
        app = stack.enter_context(
            server("app", app_argv, env, workdir, f"http://127.0.0.1:{app_port}/readyz")
        )
        native = stack.enter_context(
            server("native", native_argv, native_env, workdir, f"http://127.0.0.1:{native_port}/healthz")
        )
        app_base = f"http://127.0.0.1:{app_port}"
        sides = Sides(
            args, app, native, app_base, f"http://127.0.0.1:{native_port}", api_key,
            Residents(app_base, sms), native_key, subject_ids, workdir / "tokens.txt",
        )  # fmt: skip
        rounds = measure(sides)
    report(rounds, sides.issuance_ms, sides.issuance_cpu, args.connections)
    failed = sum(1 for side in rounds.values() for r in side if r.failure)
    if failed:
        raise SystemExit(f"{failed} rounds failed; the servers' logs are in {workdir}")
    shutil.rmtree(workdir, ignore_errors=True)


def report(
    rounds: dict[str, list[load.Round]], issuance_ms: list[float], issuance_cpu: float, connections: int
) -> None:
    def median(side: str, figure: str) -> float | None:
        values = [getattr(r, figure) for r in rounds[side] if not r.failure]
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    print()
    for side in ("app", "native"):
        ok = [r for r in rounds[side] if not r.failure]
        if not ok:
            print(f"median    {side:<6} no round succeeded")
            continue
        rps, p50, p99, cpu = (median(side, f) for f in ("rps", "p50_ms", "p99_ms", "cpu_ms_per_request"))
        assert rps is not None and p50 is not None and p99 is not None
        print(
            f"median    {side:<6} {figures(rps, p50, p99, cpu)}   ({len(ok)} of {len(rounds[side])} rounds)"
        )
    print()

    def quotient(a: float | None, b: float | None) -> float | None:
        return a / b if a and b else None

    def target(label: str, value: float | None, goal: str, met: bool) -> None:
        shown = (
            "not measured (no successful round)"
            if value is None
            else f"{value:5.2f}   {goal:<26} {verdict(met)}"
        )
        print(f"{label:<44}{shown}")

    speed = quotient(median("app", "rps"), median("native", "rps"))
    target("full verification / native write, req/s:", speed, "target >= 0.5 (goal 0.7)", (speed or 0) >= 0.5)
    cost = quotient(median("app", "cpu_ms_per_request"), median("native", "cpu_ms_per_request"))
    target("server CPU per request, app / native:", cost, "target <= 2.5", (cost or 99) <= 2.5)
    tail = quotient(median("app", "p99_ms"), median("app", "p50_ms"))
    target(f"app p99 / p50 at {connections} connections:", tail, "target <= 4", (tail or 99) <= 4)
    if issuance_ms:
        ordered = sorted(issuance_ms)
        issue_median = statistics.median(ordered)
        print(
            f"pass issuance POST /v1/me/passes (token + QR + SVG, one at a time over HTTP): median {issue_median:.2f} ms"
            f"   target <= 5 ms   {verdict(issue_median <= 5)}   (p99 {ordered[int(0.99 * (len(ordered) - 1))]:.2f} ms,"
            f" server CPU {1000 * issuance_cpu / len(ordered):.2f} ms per pass, {len(ordered)} passes)"
        )


if __name__ == "__main__":
    main()
