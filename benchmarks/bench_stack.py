"""``make bench-stack``: what the stack alone costs. The native reference's four steps (EdDSA verify, the
``SET NX`` claim, one primary-key read, one INSERT) on the raw driver (``benchmarks/native/app.py``: asyncpg)
and on the app's stack (``benchmarks/native/stack.py``: SQLModel as ORM or as Core statements, async or
sync), one uvicorn worker each, driven by wrk at 64 connections in alternating rounds. Each variant's
req/s and server CPU per request as a ratio of the native one's: the ceiling any design on that stack has
before the app adds a rule of its own, to hold against ``bench-verify``'s target (0.5× the native's req/s).

Knobs as ``bench-verify``'s: BENCH_SECONDS (5), BENCH_ROUNDS (3), BENCH_CONNECTIONS (64), BENCH_THREADS (2),
BENCH_NATIVE_POOL (10), BENCH_DATABASE_URL (recreated), BENCH_REDIS_URL (emptied).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from benchmarks import common, load
from benchmarks.bench_verify import NATIVE_SUBJECTS, SCENARIO, server
from benchmarks.common import free_port, knob, machine, psycopg_url, recreate_database, service_versions
from benchmarks.native import tokens
from benchmarks.native.app import create_schema
from benchmarks.native.stack import MODES

TOKENS_PER_SECOND = 4000  # more than any variant here gets through
WARM_UP_SECONDS = 2  # each server's, before its measured round


def main() -> None:
    seconds, rounds = int(knob("BENCH_SECONDS", "5")), int(knob("BENCH_ROUNDS", "3"))
    connections, threads = int(knob("BENCH_CONNECTIONS", "64")), int(knob("BENCH_THREADS", "2"))
    database_url, redis_url = common.database_url(), common.redis_url()
    wrk_version = load.wrk_version()
    recreate_database(database_url)
    redis.Redis.from_url(redis_url).flushdb()
    print(f"machine: {machine()}; {service_versions(database_url, redis_url)}")
    print(
        f"load: {wrk_version}, {threads} threads, {connections} connections, {seconds} s rounds, {rounds} per variant"
    )
    dsn = psycopg_url(database_url)
    subjects = [f"sub_{i:06d}" for i in range(NATIVE_SUBJECTS)]
    asyncio.run(create_schema(dsn, dict.fromkeys(subjects, "good")))
    key = tokens.new_key()
    work = Path(tempfile.mkdtemp(prefix="bench-stack-"))
    base_env = {
        "NATIVE_DATABASE_URL": dsn,
        "NATIVE_REDIS_URL": redis_url,
        "NATIVE_PUBLIC_KEY": tokens.public_key_text(key),
        "NATIVE_POOL_SIZE": knob("BENCH_NATIVE_POOL", "10"),
    }
    variants: dict[str, tuple[str, dict[str, str]]] = {"native": ("benchmarks.native.app:from_env", {})}
    variants |= {mode: ("benchmarks.native.stack:from_env", {"STACK_MODE": mode}) for mode in MODES}
    measured: dict[str, list[load.Round]] = {name: [] for name in variants}

    def drive(process: subprocess.Popen[bytes], url: str, duration: int) -> load.Round:
        now = int(time.time())
        count = TOKENS_PER_SECOND * duration
        load.write_tokens(
            work / "tokens.txt", [tokens.sign(key, random.choice(subjects), now) for _ in range(count)]
        )
        return load.run(
            url, work / "tokens.txt", seconds=duration, connections=connections, threads=threads,
            expect=201, scenario=SCENARIO, server_pid=process.pid,
        )  # fmt: skip

    # Each variant's server runs for its round only: two of the sync ones' pools (the app's sizes, above
    # anyio's 40 threads) would take most of PostgreSQL's 100 connections together.
    for _ in range(rounds):
        for name, (factory, extra) in variants.items():
            port = free_port()
            argv = [
                sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1", "--port", str(port),
                "--workers", "1", "--log-level", "warning", "--no-access-log",
            ]  # fmt: skip
            base = f"http://127.0.0.1:{port}"
            with server(name, argv, {**base_env, **extra}, work, base + "/healthz") as process:
                for duration in (WARM_UP_SECONDS, seconds):
                    result = drive(process, base + "/v1/scans", duration)
                    if result.failure:
                        raise SystemExit(f"{name}: {result.failure}; logs in {work}")
                measured[name].append(result)
    report(measured)


def report(measured: dict[str, list[load.Round]]) -> None:
    def median(rounds: list[load.Round], figure: str) -> float:
        return statistics.median(float(getattr(r, figure) or 0.0) for r in rounds)

    native_rps = median(measured["native"], "rps")
    native_cpu = median(measured["native"], "cpu_ms_per_request")
    print()
    print(f"{'variant':<11} {'req/s':>7} {'× native':>9} {'CPU ms/req':>11} {'× native':>9} {'p99/p50':>8}")
    for name, rounds in measured.items():
        rps, cpu = median(rounds, "rps"), median(rounds, "cpu_ms_per_request")
        spread = statistics.median(r.p99_ms / r.p50_ms for r in rounds)
        print(
            f"{name:<11} {rps:7.0f} {rps / native_rps:9.2f} {cpu:11.2f} {cpu / native_cpu:9.2f} {spread:8.1f}"
        )


if __name__ == "__main__":
    main()
