"""A fake 信易+ platform for the SDK's tests: its own Ed25519 keys, JWKS, signed deny list, verification and
offline-report endpoints, with every request recorded. Served through ``httpx.MockTransport`` or a real
``http.server`` on 127.0.0.1 (random port)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from xinyi_partner.keys import public_jwk

T = TypeVar("T")
API_KEY = "xyk_3F9K2M7Q_" + "a" * 43
SCENARIO = "deposit_free_rental"


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Signer:
    """One platform signing key."""

    def __init__(self) -> None:
        self.private = Ed25519PrivateKey.generate()
        self.public = self.private.public_key()
        self.jwk = public_jwk(self.public)
        self.kid = self.jwk["kid"]
        self.raw_public = self.public.public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, payload: dict[str, Any], *, kid: str | None = None) -> str:
        headers = {"kid": kid or self.kid, "typ": None}
        return jwt.encode(payload, self.private, algorithm="EdDSA", headers=headers)


def new_handle() -> str:
    return secrets.token_urlsafe(12)  # 16 characters


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(header: dict[str, Any], payload: dict[str, Any], signature: str = "") -> str:
    encode = lambda obj: b64url(json.dumps(obj, separators=(",", ":")).encode())  # noqa: E731
    return f"{encode(header)}.{encode(payload)}.{signature}"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakePlatform:
    clock: Any
    published: list[Signer] = field(default_factory=list)
    active: Signer | None = None
    revoked: set[str] = field(default_factory=set)
    deny_version: int = 1
    deny_iat: int | None = None  # None: "now" at each request
    deny_max_age: int = 3600
    salt: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    down: bool = False
    requests: list[Recorded] = field(default_factory=list)
    # Scripted answers to POST /v1/verifications, used in order; when empty: 201 eligible.
    verification_answers: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)
    report_answers: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.published:
            signer = Signer()
            self.published.append(signer)
            self.active = signer

    # --- tokens --------------------------------------------------------------------------------------------

    def online_pass(self, *, handle: str | None = None, signer: Signer | None = None, **claims: Any) -> str:
        now = int(self.clock())
        payload = {"h": handle or new_handle(), "nbf": now - 5, "exp": now + 90, **claims}
        return (signer or self.signer).sign(payload)

    def offline_code(
        self,
        scenario: str = SCENARIO,
        *,
        handle: str | None = None,
        signer: Signer | None = None,
        **claims: Any,
    ) -> str:
        now = int(self.clock())
        payload = {
            "h": handle or new_handle(),
            "sc": scenario,
            "nbf": now - 5,
            "exp": now + 24 * 3600,
            **claims,
        }
        return (signer or self.signer).sign(payload)

    @property
    def signer(self) -> Signer:
        assert self.active is not None
        return self.active

    def rotate(self) -> Signer:
        """Publish a new key (not yet signing)."""
        signer = Signer()
        self.published.append(signer)
        return signer

    # --- documents -----------------------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        return {"keys": [s.jwk for s in self.published]}

    def deny_hash(self, handle: str) -> str:
        return b64url(hmac.new(self.salt, handle.encode(), hashlib.sha256).digest())[:16]

    def deny_list_jws(self) -> str:
        iat = int(self.clock()) if self.deny_iat is None else self.deny_iat
        payload = {
            "v": self.deny_version,
            "iat": iat,
            "max_age": self.deny_max_age,
            "salt": b64url(self.salt),
            "hashes": sorted(self.deny_hash(h) for h in self.revoked),
        }
        return self.signer.sign(payload)

    # --- requests ------------------------------------------------------------------------------------------

    def count(self, path: str, method: str | None = None) -> int:
        return sum(1 for r in self.requests if r.path == path and (method is None or r.method == method))

    def of(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        self.requests.append(Recorded(method, path, {k.lower(): v for k, v in headers.items()}, body))
        if method == "GET" and path == "/.well-known/jwks.json":
            return _json(200, self.jwks())
        if method == "GET" and path == "/v1/offline/deny-list":
            return 200, {"content-type": "application/jwt"}, self.deny_list_jws().encode()
        if method == "POST" and path == "/v1/verifications":
            if self.verification_answers:
                status, answer, extra = self.verification_answers.pop(0)
                return _json(status, answer, extra)
            request = json.loads(body)
            return _json(201, eligible(request["scenario"]))
        if method == "POST" and path == "/v1/offline/reports":
            if self.report_answers:
                status, answer, extra = self.report_answers.pop(0)
                return _json(status, answer, extra)
            items = json.loads(body)["items"]
            return _json(200, report_answer(*["recorded"] * len(items)))
        if method == "POST" and path == "/v1/rentals":
            request = json.loads(body)
            return _json(201, rental_answer("rnt_0001", request["verification_id"], request["deposit_fen"]))
        if method == "POST" and path.startswith("/v1/rentals/") and path.endswith("/return"):
            return _json(200, rental_answer(path.split("/")[3], "ver_0001", 9900, status="returned"))
        return _json(404, problem(404, "not_found", "Not found"))

    # --- transports ----------------------------------------------------------------------------------------

    def mock_transport(self) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            if self.down:
                raise httpx.ConnectError("connection refused", request=request)
            status, headers, content = self.handle(
                request.method, request.url.path, dict(request.headers), request.content
            )
            return httpx.Response(status, headers=headers, content=content)

        return httpx.MockTransport(handler)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=self.mock_transport())

    @contextmanager
    def serve(self) -> Iterator[str]:
        """A real HTTP server on 127.0.0.1 (random port); yields its base URL."""
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, content = platform.handle(
                    self.command, self.path.split("?")[0], dict(self.headers.items()), body
                )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def eligible(scenario: str, **overrides: Any) -> dict[str, Any]:
    return {
        "id": "ver_0001",
        "decision": "eligible",
        "reason": "level_meets_minimum",
        "scenario": scenario,
        "benefit": {"kind": "deposit_waiver", "amount_fen": 9900},
        "subject": "psn_7Qx2",
        "expires_at": "2027-01-15T08:01:30Z",
        **overrides,
    }


def rental_answer(
    rental_id: str, verification_id: str, deposit_fen: int, status: str = "open"
) -> dict[str, Any]:
    """The platform's rental (``/v1/rentals``): an eligible one, the deposit waived up to 99 元."""
    credit = min(deposit_fen, 9900)
    return {
        "id": rental_id,
        "object": "rental",
        "status": status,
        "verification_id": verification_id,
        "subject": "psn_7Qx2",
        "item": {"kind": "power_bank", "reference": None},
        "deposit_fen": deposit_fen,
        "credit_amount": credit,
        "fund_amount": deposit_fen - credit,
        "hold": None,
        "collection": None,
        "due_at": "2027-01-15T12:00:00Z",
        "returned_on_time": True if status == "returned" else None,
        "default": None,
    }


def report_answer(*statuses: str) -> dict[str, Any]:
    """The platform's answer to ``POST /v1/offline/reports``, one status per item sent."""
    return {
        "object": "list",
        "data": [
            {
                "index": i,
                "status": status,
                "verification_id": None if status == "rejected" else f"ver_{i:04d}",
                "subject": None if status == "rejected" else "psn_7Qx2",
                "code": "token_invalid_signature" if status == "rejected" else None,
                "detail": "The signature does not match." if status == "rejected" else None,
            }
            for i, status in enumerate(statuses)
        ],
    }


def problem(status: int, code: str, title: str, detail: str = "", param: str | None = None) -> dict[str, Any]:
    return {
        "type": f"https://xinyi.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail or title,
        "code": code,
        "param": param,
        "request_id": "req_0123456789abcdef01234567",
    }


def _json(status: int, body: Any, extra: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    content_type = "application/problem+json" if status >= 400 else "application/json"
    return status, {"content-type": content_type, **(extra or {})}, json.dumps(body).encode()


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on a thread of its own: a test run in a process whose thread already has an
    event loop going (Playwright's sync API leaves one) cannot start another there."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(asyncio.run(main))
        except BaseException as exc:  # handed to the caller
            failure.append(exc)

    thread = threading.Thread(target=target, name="run-async")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]
