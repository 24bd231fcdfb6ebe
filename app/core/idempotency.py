"""``Idempotency-Key`` for POSTs that create things, with Stripe's semantics.

- same key + same request -> the first response is replayed (header ``Idempotent-Replayed: true``);
- same key + a different request -> 422 ``idempotency_key_reused``;
- same key while the first request is still running -> 409 ``idempotency_request_in_progress``.

Keys are scoped to the authenticated principal and kept for ``idempotency_ttl_seconds``. Only successful
(2xx) responses are stored: a refused request can be retried with the same key once it is fixed.

The fingerprint is over the parsed, canonical JSON body (keys sorted), so a client that re-serialises
the same request with its keys in another order is still retrying it. A stored response may hold a
secret shown once (an API key, a webhook secret, offline codes): every stored body is sealed with
AES-256-GCM under a key derived (HKDF) from the server secret and the ``Idempotency-Key`` itself, which
the store never holds (it keeps only the key's hash), so a copy of the store alone opens nothing.

Usage: declare ``idem: IdempotencyDep`` (or ``IdempotencyRequiredDep``) *after* the authentication
dependency in the handler signature; routers must use :class:`AppRoute`, which stores the response after
the transaction committed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute

from app.core import edge
from app.core.config import Settings
from app.core.errors import AppError, Conflict, InvalidInput
from app.core.store import Delete, Get, KeyValueStoreOnLoop, Set, SetIfAbsent

HEADER = "Idempotency-Key"
_KEY_SHAPE = re.compile(r"^[\x21-\x7e]{1,255}$")


class IdempotentReplay(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _sealing_key(secret: str, principal_id: str, key: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"xinyi idempotency response v1"
    ).derive(f"{secret}\n{principal_id}\n{key}".encode())


def _seal(sealing_key: bytes, store_key: str, body: bytes) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(sealing_key).encrypt(nonce, body, store_key.encode())).decode()


def _open(sealing_key: bytes, store_key: str, sealed: str) -> bytes:
    raw = base64.b64decode(sealed)
    return AESGCM(sealing_key).decrypt(raw[:12], raw[12:], store_key.encode())


def fingerprint_of(method: str, path: str, body: bytes) -> str:
    """Over the canonical JSON of the body when it is JSON (same request, keys reordered -> same
    fingerprint), over its bytes otherwise."""
    try:
        canonical = json.dumps(
            json.loads(body), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        ).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


@dataclass
class IdempotencyContext:
    """A claimed key: :meth:`complete` records the response, :meth:`release` gives the key back."""

    store: KeyValueStoreOnLoop
    store_key: str
    fingerprint: str
    ttl_seconds: int
    sealing_key: bytes = field(repr=False)

    async def complete(self, response: Response) -> None:
        record = {
            "state": "completed",
            "fingerprint": self.fingerprint,
            "status": response.status_code,
            "media_type": response.media_type,
            "sealed_body": _seal(self.sealing_key, self.store_key, bytes(response.body)),
        }
        await self.store.batch([Set(self.store_key, json.dumps(record), self.ttl_seconds)])

    async def release(self) -> None:
        await self.store.batch([Delete(self.store_key)])


def _twin(context: IdempotencyContext, existing: str) -> BaseException:
    """What a request gets whose key another request holds: the stored response, or the problem."""
    record = json.loads(existing)
    if record["fingerprint"] != context.fingerprint:
        return InvalidInput(
            f"This {HEADER} was already used with a different request.",
            code="idempotency_key_reused",
            param=HEADER,
        )
    if record["state"] == "processing":
        return Conflict(
            "A request with this Idempotency-Key is still being processed.",
            code="idempotency_request_in_progress",
            param=HEADER,
        )
    replay = Response(
        content=_open(context.sealing_key, context.store_key, record["sealed_body"])
        if "sealed_body" in record
        else base64.b64decode(record["body"]),  # stored before bodies were sealed
        status_code=record["status"],
        media_type=record["media_type"],
        # A replay may carry a secret shown once: never cached on the way.
        headers={"Idempotent-Replayed": "true", "Cache-Control": "no-store"},
    )
    return IdempotentReplay(replay)


async def begin(
    store: KeyValueStoreOnLoop,
    settings: Settings,
    principal_id: str,
    key: str | None,
    method: str,
    path: str,
    body: bytes,
    *,
    required: bool = False,
) -> IdempotencyContext | None:
    """Claim ``key`` for this request: a context to complete or release, None without a key. Raises
    :class:`IdempotentReplay` with the stored response of a completed twin, and the problems above.
    The dependencies below call it."""
    if key is None:
        if required:
            raise InvalidInput(
                f"This endpoint needs an {HEADER} header.", code="idempotency_key_required", param=HEADER
            )
        return None
    if not _KEY_SHAPE.match(key):
        raise InvalidInput(
            f"{HEADER} must be 1-255 printable ASCII characters.",
            code="invalid_idempotency_key",
            param=HEADER,
        )
    context = IdempotencyContext(
        store,
        f"idem:{principal_id}:{hashlib.sha256(key.encode()).hexdigest()}",
        fingerprint_of(method, path, body),
        settings.idempotency_ttl_seconds,
        _sealing_key(settings.secret_key, principal_id, key),
    )
    pending = json.dumps({"state": "processing", "fingerprint": context.fingerprint})
    claim = SetIfAbsent(context.store_key, pending, settings.idempotency_lock_seconds)
    (claimed,) = await store.batch([claim])
    if claimed:
        return context
    (existing,) = await store.batch([Get(context.store_key)])
    if existing is None:  # expired between the two calls: the caller may simply retry
        raise Conflict(
            "The first request with this key just expired; retry.", code="idempotency_request_in_progress"
        )
    raise _twin(context, existing)


async def _idempotency(request: Request, required: bool) -> IdempotencyContext | None:
    key = request.headers.get(HEADER)
    if key is not None:  # the shape is checked in begin(); here only what it needs
        principal = getattr(request.state, "principal_id", None)
        if principal is None:
            raise RuntimeError("IdempotencyDep must be declared after an authentication dependency")
    else:
        principal = ""
    context = await begin(
        request.app.state.store_on_loop,
        request.app.state.settings,
        principal,
        key,
        request.method,
        request.url.path,
        await request.body() if key is not None else b"",
        required=required,
    )
    if context is not None:
        request.state.idempotency = context
    return context


async def optional_idempotency(request: Request) -> IdempotencyContext | None:
    return await _idempotency(request, required=False)


async def required_idempotency(request: Request) -> IdempotencyContext | None:
    return await _idempotency(request, required=True)


IdempotencyDep = Annotated[IdempotencyContext | None, Depends(optional_idempotency)]
IdempotencyRequiredDep = Annotated[IdempotencyContext | None, Depends(required_idempotency)]


class AppRoute(APIRoute):
    """Every router uses this route class: it checks the request's edge (:mod:`app.core.edge`), replays
    idempotent responses and records new ones."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        json_route = edge.is_json_route(self)
        max_body = edge.route_max_body(self)

        async def route_handler(request: Request) -> Response:
            await edge.check(request, max_body, json_route)
            try:
                response = await handler(request)
            except IdempotentReplay as replay:
                return replay.response
            except BaseException:
                context = getattr(request.state, "idempotency", None)
                if context is not None:
                    with anyio.CancelScope(shield=True):  # a cancelled request still frees its key
                        await context.release()
                raise
            context = getattr(request.state, "idempotency", None)
            if context is not None:
                if 200 <= response.status_code < 300:
                    await context.complete(response)
                else:
                    await context.release()
            return response

        return route_handler


__all__ = ["AppError", "AppRoute", "IdempotencyDep", "IdempotencyRequiredDep"]
