"""Shared pieces of the benchmarks: timing a child process with its own peak RSS, and a fresh database."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def knob(name: str, default: str) -> str:
    """A benchmark's setting from the environment (Make passes its variables there); empty is the default."""
    return os.environ.get(name) or default


def database_url() -> str:
    """``BENCH_DATABASE_URL``: recreated by each benchmark that uses it."""
    return knob("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/xinyi_bench_verify")


def redis_url() -> str:
    """``BENCH_REDIS_URL``: emptied by each benchmark that uses it (give it a database of its own)."""
    return knob("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float
    output: str


def run_child(args: list[str], env: dict[str, str]) -> Run:
    """Run a command, returning its wall time and its own peak RSS (``wait4`` gives the child's rusage,
    not the sum over every child so far)."""
    start = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 (our own commands)
        args, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed ({process.returncode}):\n{output[-4000:]}")
    return Run(seconds, usage.ru_maxrss / 1024, output)


def psycopg_url(sqlalchemy_url: str) -> str:
    url = make_url(sqlalchemy_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def recreate_database(sqlalchemy_url: str) -> None:
    url = make_url(sqlalchemy_url)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{url.database}"')


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def service_versions(sqlalchemy_url: str, redis_url: str) -> str:
    """The PostgreSQL and Redis servers the benchmark runs on, as they report themselves."""
    with psycopg.connect(psycopg_url(sqlalchemy_url)) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    client = redis.Redis.from_url(redis_url)
    try:
        version = client.info("server")["redis_version"]
    finally:
        client.close()
    return f"PostgreSQL {row[0] if row else '?'}, Redis {version}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
