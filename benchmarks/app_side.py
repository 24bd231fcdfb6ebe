"""The app's side of ``make bench-verify``: the service as production runs it, and residents and a merchant
who use it only through its public interfaces.

The operator's command line sets it up (``xinyi migrate``, ``xinyi keys rotate``, ``xinyi partners create``
and ``key-create``), then ``xinyi serve --workers 1`` serves it with ``XINYI_ENV=production``, fresh
secrets, PostgreSQL and Redis. Sign-in codes go by Tencent Cloud SMS's SDK to the suite's local stand-in
of that provider (``tests/accounts/sms_standin.py``), where the residents read them. Residents sign in,
bind an ID number and ask for passes over HTTP, each at most ``PASSES_PER_MINUTE`` a minute as the
service allows a phone.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from tests.accounts.sms_standin import TencentSmsStandIn

XINYI = str(Path(sys.executable).with_name("xinyi"))
PASSES_PER_MINUTE = 30  # the service's limit per resident (a phone refreshing its QR needs one or two)
WINDOW_SECONDS = 61  # a resident asks again once its rate window (60 s from its first pass) is over


def production_env(
    database_url: str, redis_url: str, sms: TencentSmsStandIn, sms_url: str, workdir: Path, log_level: str
) -> dict[str, str]:
    """Production's settings, with fresh secrets and the SMS stand-in as the provider. The per-address
    sign-in limits are raised: every resident here signs in from 127.0.0.1."""
    return {
        "XINYI_ENV": "production",
        "XINYI_DATABASE_URL": database_url,
        "XINYI_REDIS_URL": redis_url,
        "XINYI_SECRET_KEY": secrets.token_urlsafe(48),
        "XINYI_ID_ENCRYPTION_KEYS": json.dumps({"k1": base64.urlsafe_b64encode(os.urandom(32)).decode()}),
        "XINYI_ID_ENCRYPTION_ACTIVE_KID": "k1",
        "XINYI_ID_HASH_KEY": secrets.token_urlsafe(32),
        "XINYI_AUDIT_HMAC_KEYS": json.dumps({"a1": secrets.token_urlsafe(48)}),
        "XINYI_AUDIT_HMAC_ACTIVE_KID": "a1",
        "XINYI_SMS_PROVIDER": "tencent",
        "XINYI_SMS_TENCENT_SECRET_ID": sms.secret_id,
        "XINYI_SMS_TENCENT_SECRET_KEY": sms.secret_key,
        "XINYI_SMS_TENCENT_SDK_APP_ID": sms.sdk_app_id,
        "XINYI_SMS_SIGN_NAME": sms.sign_name,
        "XINYI_SMS_LOGIN_TEMPLATE_ID": next(iter(sms.templates)),
        "XINYI_SMS_TENCENT_ENDPOINT": sms_url,
        "XINYI_OTP_MAX_PER_IP_PER_HOUR": "1000000",
        "XINYI_OTP_VERIFY_MAX_PER_IP_PER_HOUR": "1000000",
        "XINYI_ACCESS_TOKEN_TTL_SECONDS": "7200",  # a long run's residents keep their first sign-in
        "XINYI_EVIDENCE_DIR": str(workdir / "evidence"),
        "XINYI_LOG_LEVEL": log_level,
    }


def xinyi(args: list[str], env: dict[str, str]) -> str:
    """One operator command; its output."""
    done = subprocess.run(  # noqa: S603 (our own command)
        [XINYI, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"xinyi {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def set_up_merchant(env: dict[str, str]) -> str:
    """Schema, the first signing key, a merchant and its API key, as an operator does; the key's secret."""
    xinyi(["migrate"], env)
    xinyi(["keys", "rotate"], env)
    partner_id = xinyi(["partners", "create", "--name", "充电宝基准商户", "--kind", "merchant"], env).split()[
        0
    ]
    created = xinyi(["partners", "key-create", partner_id, "--name", "bench-verify"], env)
    return next(line.split()[1] for line in created.splitlines() if line.startswith("secret:"))


class Connection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: a lean client for the setup calls and the
    sequential issuance timing (wrk drives the measured load)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, base: str) -> Connection:
        host, port = base.removeprefix("http://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        return cls(reader, writer, f"{host}:{port}")

    async def request(
        self, method: str, path: str, body: object = None, bearer: str | None = None
    ) -> tuple[int, bytes]:
        data = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(data)}"]
        if body is not None:
            lines.append("Content-Type: application/json")
        if bearer:
            lines.append(f"Authorization: Bearer {bearer}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return int(head[9:12]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def expect(status: int, wanted: int, what: str, body: bytes) -> None:
    if status != wanted:
        raise SystemExit(f"{what} answered {status}, not {wanted}: {body[:500].decode(errors='replace')}")


def id_number(serial: int) -> str:
    """A distinct valid 18-character ID number (GB 11643-1999 check character) for each serial."""
    born = date(1960, 1, 1) + timedelta(days=serial % 15_000)
    body = f"110105{born:%Y%m%d}{serial // 15_000 % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


@dataclass
class Residents:
    """Residents of the benchmark, signed in as anyone is: code by SMS, token, then their ID number."""

    base: str
    sms: TencentSmsStandIn
    concurrency: int = 16
    ready_at: dict[str, float] = field(default_factory=dict)  # access token -> when it may ask again

    async def _sign_in(self, connection: Connection, serial: int) -> str:
        phone = f"139{serial:08d}"
        status, body = await connection.request("POST", "/v1/auth/otp", {"phone": phone})
        expect(status, 202, "POST /v1/auth/otp", body)
        answer = {
            "phone": phone,
            "code": self.sms.codes_sent_to(phone)[-1],
            "challenge": json.loads(body)["challenge"],
        }
        status, body = await connection.request("POST", "/v1/auth/token", answer)
        expect(status, 200, "POST /v1/auth/token", body)
        access = str(json.loads(body)["access_token"])
        identity = {"name": "基准用户", "id_number": id_number(serial)}
        status, body = await connection.request("PUT", "/v1/me/identity", identity, access)
        expect(status, 200, "PUT /v1/me/identity", body)
        return access

    def sign_in(self, count: int) -> None:
        first = len(self.ready_at)
        serials = list(range(first, first + count))

        async def run() -> list[str]:
            async def worker(mine: list[int]) -> list[str]:
                connection = await Connection.open(self.base)
                try:
                    return [await self._sign_in(connection, serial) for serial in mine]
                finally:
                    connection.close()

            parts = [serials[i :: self.concurrency] for i in range(self.concurrency)]
            return [
                token for part in await asyncio.gather(*(worker(p) for p in parts if p)) for token in part
            ]

        for access in asyncio.run(run()):
            self.ready_at[access] = 0.0

    @contextmanager
    def bearers(self, count: int) -> Iterator[list[str]]:
        """``count`` access tokens to ask a pass with, each resident's at most PASSES_PER_MINUTE times and
        only once its last window is over (signing in more residents as needed). Their next window opens
        a minute after the block ends, when their last pass has been asked for."""
        now = time.monotonic()
        ready = [access for access, at in self.ready_at.items() if at <= now]
        short = -(-count // PASSES_PER_MINUTE) - len(ready)
        if short > 0:
            self.sign_in(short)
            now = time.monotonic()
            ready = [access for access, at in self.ready_at.items() if at <= now]
        out: list[str] = []
        taken = ready[: -(-count // PASSES_PER_MINUTE)]
        for access in taken:
            out += [access] * min(PASSES_PER_MINUTE, count - len(out))
            self.ready_at[access] = float("inf")
        try:
            yield out
        finally:
            for access in taken:
                self.ready_at[access] = time.monotonic() + WINDOW_SECONDS


async def _issue_on(connection: Connection, bearers: list[str], latencies: list[float] | None) -> list[str]:
    tokens = []
    for bearer in bearers:
        started = time.perf_counter()
        status, body = await connection.request("POST", "/v1/me/passes", None, bearer)
        if latencies is not None:
            latencies.append((time.perf_counter() - started) * 1000)
        expect(status, 201, "POST /v1/me/passes", body)
        issued = json.loads(body)
        if not issued["qr"]["svg_data_url"].startswith("data:image/svg+xml"):
            raise SystemExit(f"POST /v1/me/passes: no SVG QR in {body[:300]!r}")
        tokens.append(str(issued["token"]))
    return tokens


def issue_passes(base: str, bearers: list[str], concurrency: int = 16) -> list[str]:
    """Passes for the next round, asked for as the residents' phones do, several at once."""

    async def run() -> list[str]:
        async def worker(mine: list[str]) -> list[str]:
            connection = await Connection.open(base)
            try:
                return await _issue_on(connection, mine, None)
            finally:
                connection.close()

        parts = [bearers[i::concurrency] for i in range(concurrency)]
        return [t for part in await asyncio.gather(*(worker(p) for p in parts if p)) for t in part]

    return asyncio.run(run())


def time_issuance(base: str, bearers: list[str]) -> list[float]:
    """Each pass asked for alone, one after another on one keep-alive connection: milliseconds each."""

    async def run() -> list[float]:
        latencies: list[float] = []
        connection = await Connection.open(base)
        try:
            await _issue_on(connection, bearers, latencies)
        finally:
            connection.close()
        return latencies

    return asyncio.run(run())
