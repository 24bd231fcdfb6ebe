"""``make bench-verify``: the online pass check under load, against a bare reference, in one run.

One uvicorn worker serves the real app (built with ``create_app``) on a freshly created PostgreSQL database
and a dedicated Redis database, with one extra route mounted by this benchmark only:
``POST /bench/reference``, which does just what any verification must — verify the JWT (EdDSA, cached key),
claim the handle with ``SET NX`` in Redis, and read one row by primary key (matched first, as the verification
routes are, and run as the verification is, an async route whose blocking work is one hop to a thread of
the hot path's pool, ``app.core.hot_path``: so that the two differ only in what they do). Then, at 64 connections from an
async Python client (asyncio streams, 64 tasks), it measures:

- the client's own ceiling, against ``GET /healthz``;
- ``POST /v1/verifications`` as a partner sends it (API key, ``Idempotency-Key``), every request a fresh
  pass (pre-issued just before the run, each valid 90 s);
- the reference, with the same tokens' twins;

the two alternating in ``--rounds`` short rounds whose figures are added up per kind (so that a
neighbour's load on a shared machine weighs on both alike), and prints req/s, p50 and p99 of both, the server's CPU time per request (``/proc``; on a shared machine
req/s follows the neighbours' load, CPU per request much less), the ratio full/reference (target ≥ 0.6,
goal 0.7) and p99/p50 (target ≤ 4), then the median of pass issuance (``POST /v1/me/passes``, token + SVG,
target ≤ 5 ms): over HTTP, one request at a time in slices before the first round and after each (the
median is over the whole run), and in process. Everything binds to 127.0.0.1; every loop is bounded; the server is stopped at the end.

Usage: ``python -m benchmarks.bench_verify [--duration 10] [--rounds 4] [--connections 64] [--database-url …]
[--redis-url redis://127.0.0.1:6379/13]``. The Redis database given is emptied first (FLUSHDB): give it
one of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from app.core import hot_path
from app.core.clock import utcnow
from app.main import create_app
from app.passes import tokens
from app.passes.tokens import TokenRefused
from app.subjects.models import Subject
from app.verifications.schemas import VerifyIn
from benchmarks.common import ROOT, machine, recreate_database

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/xinyi_bench_verify"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
REFERENCE_PATH = "/bench/reference"
SCENARIO = "deposit_free_rental"


# --- the server (a child process) --------------------------------------------------------------------


def build_app() -> Any:
    """The production app plus the reference route. Only this benchmark mounts it."""
    reference_subject = os.environ["BENCH_REFERENCE_SUBJECT"]
    router = APIRouter()

    def check(request: Request, token: str) -> Response:
        state = request.app.state
        now = utcnow()
        with Session(state.engine) as session:
            claims = tokens.read(state.keyring, session, token, now)  # JWT verify
            ttl = max(1, claims.expires + tokens.LEEWAY_SECONDS - int(now.timestamp()))
            if not state.store.set_if_absent(f"ref:{claims.handle}", "1", ttl):  # SET NX
                raise TokenRefused("replayed", "token_replayed", status=409)
            subject = session.get(Subject, reference_subject)  # one primary-key read
            assert subject is not None
        return JSONResponse({"decision": "eligible", "subject": subject.id})

    @router.post(REFERENCE_PATH)
    async def reference(body: VerifyIn, request: Request) -> Response:
        # Shaped as the verification route is: an async route whose blocking work is one hop to a thread
        # of the hot path's pool, so that the two differ in what they do, not in how they are run.
        return await hot_path.run(request, check, request, body.token)

    app = create_app()
    app.include_router(router)
    # Matched first, like the verification routes (FastAPI tries routes in order, each at a cost): the
    # two differ in what they do, not in where the router finds them.
    app.router.routes.insert(0, app.router.routes.pop())
    return app


def serve(port: int) -> None:
    import uvicorn

    uvicorn.run(build_app(), host="127.0.0.1", port=port, workers=1, log_config=None, access_log=False)


# --- seeding (in this process, through the services) ---------------------------------------------------


@dataclass
class Seeded:
    api_key: str
    access_tokens: list[str]
    user_ids: list[str]
    subject_ids: list[str]


def _id_number(rng: secrets.SystemRandom) -> str:
    from app.subjects.identifiers import id_number_check_char

    first17 = f"6501{rng.randrange(10, 99)}19{rng.randrange(50, 99)}0{rng.randrange(1, 9)}1{rng.randrange(0, 9)}{rng.randrange(1000):03d}"
    return first17 + id_number_check_char(first17)


def seed(residents: int) -> Seeded:

    from app.accounts import service as accounts_service
    from app.core.config import get_settings
    from app.core.db import make_engine
    from app.core.principal import Principal
    from app.core.security import Crypto
    from app.partners import service as partners_service
    from app.signing import service as signing_service

    settings = get_settings()
    crypto = Crypto(settings)
    engine = make_engine(settings.database_url)
    actor = Principal(type="system", id="bench")
    rng = secrets.SystemRandom()
    tokens, users, subjects = [], [], []
    with Session(engine, expire_on_commit=False) as session:
        signing_service.rotate(session, crypto.cipher, actor)  # the first key signs at once
        partner = partners_service.create_partner(session, actor, "充电宝基准商户", "merchant")
        key = partners_service.create_api_key(session, actor, partner.id, "bench", None).secret
        seen: set[str] = set()
        while len(users) < residents:
            number, phone = _id_number(rng), f"139{rng.randrange(10**8):08d}"
            if number in seen or phone in seen:
                continue
            seen.update((number, phone))
            user = accounts_service.get_or_create_user_by_phone(session, crypto, phone)
            subject = accounts_service.bind_identity(session, crypto, user.id, "基准用户", number)
            tokens.append(accounts_service.issue_tokens(session, settings, user).access_token)
            users.append(user.id)
            subjects.append(subject.id)
        session.commit()
    engine.dispose()
    return Seeded(key, tokens, users, subjects)


class PassFactory:
    """Online passes made exactly as ``POST /v1/me/passes`` makes them (signature + the store record),
    without the per-resident rate limit and without the QR: thousands of them, just before a run."""

    def __init__(self, seeded: Seeded) -> None:
        from app.core.config import get_settings
        from app.core.db import make_engine
        from app.core.security import Crypto
        from app.core.store import make_store
        from app.signing.keyring import Keyring

        settings = get_settings()
        self.engine = make_engine(settings.database_url)
        self.crypto = Crypto(settings)
        self.store = make_store(settings.redis_url)
        self.keyring = Keyring(self.crypto.cipher)
        self.keyring.warm(self.engine)
        self.session = Session(self.engine)
        self.seeded = seeded

    def issue(self, count: int) -> list[str]:
        from app.passes import service as passes_service

        out = []
        for i in range(count):
            who = i % len(self.seeded.user_ids)
            now = utcnow()
            now_s = int(now.timestamp())
            handle = tokens.new_handle()
            claims = tokens.online_claims(handle, now_s)
            token = self.keyring.sign(self.session, claims, now)
            pass_id = passes_service.online_pass_id(self.crypto.hasher, handle)
            record = {
                "u": self.seeded.user_ids[who],
                "s": self.seeded.subject_ids[who],
                "t": token,
                "x": claims["exp"],
            }
            self.store.set(
                f"passmeta:{pass_id}", json.dumps(record), claims["exp"] + tokens.LEEWAY_SECONDS - now_s
            )
            out.append(token)
        self.session.rollback()
        return out

    def close(self) -> None:
        self.session.close()
        self.store.close()
        self.engine.dispose()


# --- load ----------------------------------------------------------------------------------------------


def _cpu_ticks(stat: str) -> int:
    """User + system clock ticks from a ``/proc/<pid>/stat`` line (fields after the ``(name)``)."""
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux ``/proc``); None where there is no ``/proc``."""
    try:
        return _cpu_ticks(Path(f"/proc/{pid}/stat").read_text()) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


_SERVICES = ("postgres", "redis-server")


def services_cpu_seconds() -> float | None:
    """User + system CPU time so far of every PostgreSQL and Redis process on this machine (their work
    for the server's requests shares the cores with it); None where there is no ``/proc``."""
    total, found = 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if text[text.index("(") + 1 : text.rindex(")")].startswith(_SERVICES):
            total += _cpu_ticks(text)
            found = True
    return total / os.sysconf("SC_CLK_TCK") if found else None


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    server_cpu_seconds: float | None = None
    services_cpu_seconds: float | None = None

    @classmethod
    def total(cls, runs: list[Result]) -> Result:
        """Several runs of one kind as one: requests, time, latencies and CPU added up."""
        cpu = [run.server_cpu_seconds for run in runs]
        services = [run.services_cpu_seconds for run in runs]
        return cls(
            runs[0].name,
            sum(run.requests for run in runs),
            sum(run.errors for run in runs),
            sum(run.seconds for run in runs),
            [latency for run in runs for latency in run.latencies_ms],
            None if None in cpu else sum(c for c in cpu if c is not None),
            None if None in services else sum(c for c in services if c is not None),
        )

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.server_cpu_seconds is None or not self.requests:
            return None
        return self.server_cpu_seconds * 1000 / self.requests

    @property
    def services_ms_per_request(self) -> float | None:
        if self.services_cpu_seconds is None or not self.requests:
            return None
        return self.services_cpu_seconds * 1000 / self.requests

    def line(self) -> str:
        cpu = self.cpu_ms_per_request
        services = self.services_ms_per_request
        return (
            f"{self.name:<34} {self.rps:8.0f} req/s   p50 {self.pct(0.50):6.1f} ms   p99 {self.pct(0.99):6.1f} ms"
            f"   p99/p50 {self.pct(0.99) / self.pct(0.50):4.1f}"
            + (f"   server CPU {cpu:5.2f} ms/req" if cpu is not None else "")
            + (
                f"   PostgreSQL+Redis CPU {services:5.2f} ms/req"
                if services is not None and cpu is not None
                else ""
            )
            + f"   ({self.requests} requests, {self.errors} errors)"
        )


class Connection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: the leanest async Python client (httpx's
    pool costs more CPU per request than the server's /healthz, on a small machine)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}")

    async def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def drive(
    base: str,
    name: str,
    method: str,
    path: str,
    connections: int,
    duration: float,
    bodies: list[bytes] | None = None,
    headers: dict[str, str] | None = None,
    idempotency: bool = False,
    expect: int = 200,
    server_pid: int | None = None,
) -> Result:
    """``connections`` tasks, each with one request in flight, until ``duration`` or the bodies run out.
    With ``server_pid``, also the server process's CPU time over the run (shared machines: req/s moves
    with the neighbours' load, CPU per request much less)."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0
    next_body = 0
    pool = [await Connection.open(host, int(port)) for _ in range(connections)]
    deadline = time.perf_counter() + duration

    async def worker(connection: Connection) -> None:
        nonlocal errors, next_body
        while time.perf_counter() < deadline:
            body = None
            if bodies is not None:
                if next_body >= len(bodies):
                    return
                body = bodies[next_body]
                next_body += 1
            extra = dict(headers or {})
            if idempotency:
                extra["Idempotency-Key"] = uuid.uuid4().hex
            started = time.perf_counter()
            status, content = await connection.request(method, path, body, extra)
            latencies.append((time.perf_counter() - started) * 1000)
            if status != expect:
                errors += 1
                if errors <= 3:
                    print(f"  {name}: {status} {content[:200]!r}", file=sys.stderr)

    cpu_before = cpu_seconds(server_pid) if server_pid else None
    services_before = services_cpu_seconds() if server_pid else None
    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker(c) for c in pool))
    finally:
        for connection in pool:
            connection.close()
    seconds = time.perf_counter() - started
    cpu_after = cpu_seconds(server_pid) if server_pid else None
    cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    services_after = services_cpu_seconds() if server_pid else None
    services = (
        services_after - services_before
        if services_before is not None and services_after is not None
        else None
    )
    return Result(name, len(latencies), errors, seconds, latencies, cpu, services)


def split(count: int, parts: int) -> list[int]:
    """``count`` in ``parts`` slices whose sizes differ by at most one."""
    size, extra = divmod(count, parts)
    return [size + (i < extra) for i in range(parts)]


def issuance(base: str, seeded: Seeded, count: int, offset: int = 0) -> list[float]:
    """Sequential ``POST /v1/me/passes`` on one keep-alive connection of the load generator's lean client
    (httpx's own work, about a millisecond a request here, is not the service's), one resident after
    another (30/min each). Each response is checked: 201 with the SVG inline."""
    host, port = base.removeprefix("http://").rsplit(":", 1)

    async def run() -> list[float]:
        connection = await Connection.open(host, int(port))
        out = []
        try:
            for i in range(count):
                who = seeded.access_tokens[(offset + i) % len(seeded.access_tokens)]
                started = time.perf_counter()
                status, body = await connection.request(
                    "POST", "/v1/me/passes", b"", {"Authorization": f"Bearer {who}"}
                )
                out.append((time.perf_counter() - started) * 1000)
                assert status == 201, body[:500]
                assert json.loads(body)["qr"]["svg_data_url"].startswith("data:image/svg+xml")
        finally:
            connection.close()
        return out

    return asyncio.run(run())


def issuance_in_process(factory: PassFactory, count: int) -> list[float]:
    """A signed token + its QR + SVG, the service's own work (no HTTP, no auth, no store)."""
    from app.passes import service as passes_service

    out = []
    for _ in range(count):
        started = time.perf_counter()
        now = utcnow()
        token = factory.keyring.sign(
            factory.session, tokens.online_claims(tokens.new_handle(), int(now.timestamp())), now
        )
        passes_service.render(token)
        out.append((time.perf_counter() - started) * 1000)
    factory.session.rollback()
    return out


# --- the run -------------------------------------------------------------------------------------------


@contextlib.contextmanager
def py_spy(pid: int, out: Path) -> Iterator[None]:
    """Sample the server with py-spy (200 Hz, non-blocking) while the block runs; collapsed stacks."""
    out.parent.mkdir(parents=True, exist_ok=True)
    beside = Path(sys.executable).with_name("py-spy")
    executable = str(beside) if beside.exists() else shutil.which("py-spy")
    if executable is None:
        raise SystemExit("--profile needs py-spy (pip install py-spy)")
    spy = subprocess.Popen(  # noqa: S603
        [executable, "record", "-p", str(pid), "-r", "200", "--nonblocking", "-f", "raw", "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        interrupt(spy, timeout=30)  # py-spy writes its file on SIGINT


def interrupt(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Stop a child with SIGINT (it finishes cleanly), killed if it has not within ``timeout`` s."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited ({process.returncode}):\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server did not start within 60 s:\n{log.read_text()[-4000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="seconds of load per kind (full, reference), split into --rounds",
    )
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument(
        "--rounds", type=int, default=4, help="full and reference alternate in this many rounds each"
    )
    parser.add_argument("--issuance", type=int, default=300, help="passes issued for the median")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record the server with py-spy (not installed by make; pip install py-spy) during each "
        "measured round and the issuance, into DIR/full-N.raw, DIR/reference-N.raw and DIR/issuance-N.raw (collapsed stacks)",
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the child: serve on this port
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if not 1 <= args.duration <= 120:
        raise SystemExit("--duration: 1-120 s")
    if not 1 <= args.rounds <= 20:
        raise SystemExit("--rounds: 1-20")

    env = {
        "XINYI_ENV": "development",
        "XINYI_DATABASE_URL": args.database_url,
        "XINYI_REDIS_URL": args.redis_url,
        "XINYI_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    print(f"machine: {machine()}")
    print(
        f"server: 1 uvicorn worker, PostgreSQL {args.database_url.rsplit('/', 1)[-1]}, Redis {args.redis_url}"
    )
    print(
        f"client: asyncio keep-alive HTTP/1.1, {args.connections} connections, {args.duration:.0f} s per kind in {args.rounds} alternating rounds"
    )

    recreate_database(args.database_url)
    redis.Redis.from_url(args.redis_url).flushdb()
    from app.core.migrate import upgrade

    upgrade(url=args.database_url)
    seeded = seed(args.residents)
    factory = PassFactory(seeded)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkstemp(prefix="bench-verify-", suffix=".log")[1])
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 (our own module)
            [sys.executable, "-m", "benchmarks.bench_verify", "--serve", str(port)],
            cwd=ROOT,
            env={**os.environ, **env, "BENCH_REFERENCE_SUBJECT": seeded.subject_ids[0]},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(base, server, log)
        partner = {"Authorization": f"Bearer {seeded.api_key}"}
        c, d = args.connections, args.duration

        def bodies(count: int) -> list[bytes]:
            return [json.dumps({"token": t, "scenario": SCENARIO}).encode() for t in factory.issue(count)]

        ceiling = asyncio.run(drive(base, "client ceiling (GET /healthz)", "GET", "/healthz", c, d))
        # warm both paths (imports, pools, caches), then the measured runs
        asyncio.run(
            drive(base, "warm-up", "POST", "/v1/verifications", c, 2, bodies(400), partner, True, 201)
        )
        asyncio.run(drive(base, "warm-up", "POST", REFERENCE_PATH, c, 2, bodies(400)))
        # The two runs alternate in short rounds (full, reference, then reference, full, …) and each
        # kind's rounds are added up: on a shared machine a neighbour's load then weighs on both alike,
        # instead of on whichever ran while it lasted.
        rounds = args.rounds
        slice_ = d / rounds
        budget = int(max(ceiling.rps, 100) * slice_ * 1.2)
        full_runs: list[Result] = []
        reference_runs: list[Result] = []

        def profiled(kind: str, n: int) -> contextlib.AbstractContextManager[None]:
            if args.profile is None:
                return contextlib.nullcontext()
            return py_spy(server.pid, args.profile / f"{kind}-{n}.raw")

        def run_full() -> None:
            tokens = bodies(budget)  # issued before the round, and before any profile starts
            with profiled("full", len(full_runs)):
                full_runs.append(
                    asyncio.run(
                        drive(
                            base,
                            "full POST /v1/verifications",
                            "POST",
                            "/v1/verifications",
                            c,
                            slice_,
                            tokens,
                            partner,
                            True,
                            201,
                            server.pid,
                        )
                    )
                )

        def run_reference() -> None:
            tokens = bodies(budget)
            with profiled("reference", len(reference_runs)):
                reference_runs.append(
                    asyncio.run(
                        drive(
                            base,
                            "reference (verify+SET NX+PK read)",
                            "POST",
                            REFERENCE_PATH,
                            c,
                            slice_,
                            tokens,
                            server_pid=server.pid,
                        )
                    )
                )

        # Pass issuance (sequential) in slices, one before the first round and one after each: the
        # median is over the whole run, not over whichever second a neighbour (or PostgreSQL's own
        # checkpoint after a round of writes) happened to weigh on. The residents' requests then also
        # share the pooled connections with the partners' between rounds, as in production (which is
        # how psycopg's DEALLOCATE ALL of the statements short trips prepare was found: app.core.db).
        http_issue: list[float] = []
        issue_cpu: float | None = 0.0
        slices = split(args.issuance, rounds + 1)

        def run_issuance() -> None:
            nonlocal issue_cpu
            before = cpu_seconds(server.pid)
            with profiled("issuance", rounds + 1 - len(slices)):
                http_issue.extend(issuance(base, seeded, slices.pop(), offset=len(http_issue)))
            after = cpu_seconds(server.pid)
            issue_cpu = (
                None if issue_cpu is None or before is None or after is None else issue_cpu + after - before
            )

        run_issuance()
        for n in range(rounds):
            for run in (run_full, run_reference) if n % 2 == 0 else (run_reference, run_full):
                run()
            run_issuance()
        full, reference = Result.total(full_runs), Result.total(reference_runs)
        in_process = issuance_in_process(factory, args.issuance)
    finally:
        interrupt(server, timeout=15)
        factory.close()

    print()
    print(ceiling.line())
    print(full.line())
    print(reference.line())
    ratio = full.rps / reference.rps
    tail = full.pct(0.99) / full.pct(0.50)
    print()
    print(
        f"ratio full/reference: {ratio:.2f}  (target >= 0.6, goal 0.7)  {'OK' if ratio >= 0.6 else 'MISSED'}"
    )
    print(f"full p99/p50: {tail:.1f}  (target <= 4)  {'OK' if tail <= 4 else 'MISSED'}")
    full_cpu, reference_cpu = full.cpu_ms_per_request, reference.cpu_ms_per_request
    if full_cpu and reference_cpu:
        print(
            f"server CPU per request: full {full_cpu:.2f} ms, reference {reference_cpu:.2f} ms,"
            f" ratio reference/full {reference_cpu / full_cpu:.2f} (what the ratio would be on an idle machine"
            " if the server's CPU were the only limit)"
        )
    print(
        f"client ceiling / full: {ceiling.rps / full.rps:.1f}x (the client is {'not ' if ceiling.rps > 2 * full.rps else ''}the bottleneck)"
    )
    median = statistics.median(http_issue)
    print(
        f"pass issuance POST /v1/me/passes (token + SVG, sequential, {len(http_issue)}): median {median:.2f} ms"
        f"  (target <= 5 ms)  {'OK' if median <= 5 else 'MISSED'};  p99 {sorted(http_issue)[int(0.99 * len(http_issue))]:.2f} ms"
    )
    print(f"  of which token + QR + SVG in process: median {statistics.median(in_process):.2f} ms")
    if issue_cpu is not None:
        print(f"  server CPU per pass: {1000 * issue_cpu / len(http_issue):.2f} ms")
    failed = full.errors + reference.errors
    if failed:  # the figures above are not the service's: keep the server's log to see why
        raise SystemExit(f"{failed} measured requests failed; the server's log: {log}")
    log.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
