"""The platform as ``make run`` serves it, for the SDK's examples: ``xinyi migrate``, ``xinyi demo load``
(the demo city and fresh API keys for each partner kind), then ``xinyi serve --with-worker`` on a free
loopback port, as real processes of this checkout's venv. Their clock starts at the suite's pinned instant
and runs on from one process to the next (each is started at ``XINYI_CLOCK_AT`` = the pinned instant plus the
time since the first began), as one machine's processes share one clock; on the external leg (``XINYI_TEST_LEG=external``) on PostgreSQL and Redis, each
pytest-xdist worker with a database of its own.

Residents sign in as the README says: ask for a code, read it from the server's log (development SMS).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

VENV_BIN = Path(sys.executable).parent
# tests/clock.py's PINNED: every process of the suite starts at this instant.
PINNED = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
STARTUP_SECONDS = 180  # a loaded CI machine: three processes import the whole app first
_KEY_LINE = re.compile(r"^\s{2}(\S+)\s+(.+) \((ptn_\w+)\)\n\s+Authorization: Bearer (xyk_\S+)$", re.MULTILINE)


@dataclass(frozen=True)
class DemoPartner:
    kind: str
    name: str
    id: str
    api_key: str


@dataclass
class LivePlatform:
    url: str
    log: Path
    started: float  # time.monotonic() when the processes' clock read PINNED
    partners: list[DemoPartner]
    tokens: dict[str, str] = field(default_factory=dict)

    def now(self) -> datetime:
        """The server's instant (PINNED plus the time since the first process started)."""
        return PINNED + timedelta(seconds=time.monotonic() - self.started)

    def partner(self, kind: str, name_contains: str = "") -> DemoPartner:
        return next(p for p in self.partners if p.kind == kind and name_contains in p.name)

    def sign_in(self, phone: str) -> dict[str, str]:
        """A resident's ``Authorization`` header, signing in once per run (the code from the server log)."""
        if phone not in self.tokens:
            with httpx.Client(base_url=self.url) as http:
                seen = self.log.read_text(errors="replace").count("sign-in code is")
                challenge = http.post("/v1/auth/otp", json={"phone": phone})
                challenge.raise_for_status()
                code = self._code_for(phone, seen)
                token = http.post(
                    "/v1/auth/token",
                    json={"phone": phone, "code": code, "challenge": challenge.json()["challenge"]},
                )
                token.raise_for_status()
                self.tokens[phone] = token.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[phone]}"}

    def _code_for(self, phone: str, seen: int) -> str:
        masked = f"{phone[:3]}****{phone[-4:]}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            lines = [
                line
                for line in self.log.read_text(errors="replace").splitlines()
                if "sign-in code is" in line
            ]
            fresh = [line for line in lines[seen:] if masked in line]
            if fresh:
                found = re.search(r"sign-in code is (\d{6})", fresh[-1])
                assert found is not None
                return found.group(1)
            time.sleep(0.05)
        raise AssertionError(f"no sign-in code for {masked} in the server log")

    def resident(self, method: str, path: str, phone: str, **kwargs: Any) -> Any:
        with httpx.Client(base_url=self.url, headers=self.sign_in(phone)) as http:
            response = http.request(method, path, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _database(tmp: Path, worker: str | None) -> tuple[str, str]:
    """(database URL, Redis URL) of this leg; an external database is emptied first."""
    if os.environ.get("XINYI_TEST_LEG", "embedded") != "external":
        return f"sqlite:///{tmp / 'live.db'}", ""
    from sqlalchemy import create_engine, make_url, text

    url = make_url(os.environ["XINYI_TEST_DATABASE_URL"])
    own = url.set(database=f"{url.database}_sdk_live{'_' + worker if worker else ''}")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{own.database}"'))
    admin.dispose()
    # The Redis database of this worker, as tests/conftest.py counts them (its keys carry a prefix; the
    # server's are random handles and the demo phones' limits).
    redis = os.environ["XINYI_TEST_REDIS_URL"]
    if worker is None:
        return own.render_as_string(hide_password=False), redis
    base, _, number = redis.rpartition("/")
    return own.render_as_string(
        hide_password=False
    ), f"{base}/{(int(number or 0) + int(worker[2:]) + 1) % 16}"


def environment(tmp: Path, database_url: str, redis_url: str, at: datetime = PINNED) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XINYI_")}
    env.update(
        XINYI_ENV="development",
        XINYI_DATABASE_URL=database_url,
        XINYI_CLOCK_AT=at.isoformat(),
        XINYI_LOG_JSON="false",
        XINYI_EVIDENCE_DIR=str(tmp / "evidence"),
    )
    if redis_url:
        env["XINYI_REDIS_URL"] = redis_url
    # Started processes run on the machine's clock, never libfaketime's (see tests/conftest.py).
    env["LD_PRELOAD"] = " ".join(p for p in env.get("LD_PRELOAD", "").split() if "faketime" not in p)
    for name in ("FAKETIME", "FAKETIME_SHARED"):
        env.pop(name, None)
    return env


def start(tmp: Path, worker: str | None) -> tuple[subprocess.Popen[bytes], LivePlatform]:
    database_url, redis_url = _database(tmp, worker)
    started = time.monotonic()

    def env() -> dict[str, str]:
        # Each process starts where the last one left the clock: a key the demo made at PINNED + 1 s is
        # never in the future of a server that would otherwise start at PINNED again.
        return environment(
            tmp, database_url, redis_url, PINNED + timedelta(seconds=time.monotonic() - started)
        )

    port = _free_port()
    xinyi = str(VENV_BIN / "xinyi")
    subprocess.run([xinyi, "migrate"], env=env(), check=True, capture_output=True, timeout=120)  # noqa: S603
    loaded = subprocess.run(  # noqa: S603 (our own venv's xinyi, fixed arguments)
        [xinyi, "demo", "load", "--port", str(port)], env=env(), check=True, capture_output=True, timeout=120
    ).stdout.decode()
    partners = [
        DemoPartner(kind, name.strip(), pid, key) for kind, name, pid, key in _KEY_LINE.findall(loaded)
    ]
    log = tmp / "server.log"
    server = subprocess.Popen(  # noqa: S603
        [xinyi, "serve", "--port", str(port), "--with-worker", "--worker-tick", "0.2"],
        env=env(),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"the platform did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.05)
    return server, LivePlatform(url, log, started, partners)
