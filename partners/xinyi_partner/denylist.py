"""The signed deny list: revoked handles as truncated keyed hashes, with a stated maximum age.

``GET /v1/offline/deny-list`` answers a compact JWS (EdDSA, same JWKS as the tokens) whose payload is
``{"v", "iat", "max_age", "salt", "hashes"}``; each hash is the first 16 characters of
``base64url(HMAC-SHA256(base64url-decoded salt, handle))``. The list never names a subject.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from xinyi_partner._http import Http
from xinyi_partner.errors import (
    DenyListInvalid,
    DenyListStale,
    DenyListUnavailable,
    KeysUnavailable,
    TokenError,
    XinyiError,
)
from xinyi_partner.keys import KeySet, _atomic_write, b64url_decode, b64url_encode
from xinyi_partner.tokens import verify_signature

log = logging.getLogger("xinyi_partner.denylist")

Clock = Callable[[], float]
DENY_LIST_PATH = "/v1/offline/deny-list"
HASH_CHARS = 16


def deny_list_hash(salt: bytes, handle: str) -> str:
    digest = hmac.new(salt, handle.encode(), hashlib.sha256).digest()
    return b64url_encode(digest)[:HASH_CHARS]


@dataclass(frozen=True)
class DenyList:
    version: int
    issued_at: int
    max_age: int
    salt: bytes = field(repr=False)
    hashes: frozenset[str] = field(repr=False)
    jws: str = field(repr=False)

    def contains(self, handle: str) -> bool:
        return deny_list_hash(self.salt, handle) in self.hashes

    def age(self, now: float) -> float:
        return now - self.issued_at

    def is_stale(self, now: float) -> bool:
        return self.age(now) > self.max_age


def parse_deny_list(jws: str, keys: KeySet) -> DenyList:
    """Verify and read a deny list. Raises :class:`DenyListInvalid` (or :class:`KeysUnavailable`)."""
    try:
        _, payload = verify_signature(jws, keys)
    except TokenError as exc:
        raise DenyListInvalid(f"The deny list failed its signature check: {exc}") from exc
    try:
        version, iat, max_age = payload["v"], payload["iat"], payload["max_age"]
        salt, hashes = payload["salt"], payload["hashes"]
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in (version, iat, max_age)):
            raise ValueError("v, iat and max_age must be integers")
        if max_age <= 0:
            raise ValueError("max_age must be positive")
        if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
            raise ValueError("hashes must be a list of strings")
        salt_bytes = b64url_decode(salt)
    except (KeyError, ValueError, TypeError) as exc:
        raise DenyListInvalid(f"The deny list is malformed: {exc}") from exc
    return DenyList(
        version=version,
        issued_at=iat,
        max_age=max_age,
        salt=salt_bytes,
        hashes=frozenset(hashes),
        jws=jws,
    )


class DenyListCache:
    """The last verified deny list; refreshed when missing or stale, at most once per cooldown.

    A fetched list older than the cached one (lower ``v``, or same ``v`` and earlier ``iat``) is refused,
    so a replayed old response cannot un-revoke a handle.
    """

    def __init__(
        self,
        http: Http | None,
        keys: KeySet,
        *,
        clock: Clock = time.time,
        refetch_cooldown: float = 60.0,
        cache_path: str | Path | None = None,
    ) -> None:
        self._http = http
        self._keys = keys
        self._clock = clock
        self.refetch_cooldown = refetch_cooldown
        self._cache_path = Path(cache_path) if cache_path is not None else None
        self._last_attempt: float | None = None
        self._lock = threading.Lock()
        self.current: DenyList | None = None
        if self._cache_path is not None and self._cache_path.exists():
            try:
                self.load(self._cache_path.read_text().strip())
            except (OSError, XinyiError) as exc:
                log.warning("deny list: ignoring unreadable cache %s: %s", self._cache_path, exc)

    def load(self, jws: str) -> DenyList:
        """Verify ``jws`` and make it the current list (if it is not older than the current one)."""
        fresh = parse_deny_list(jws, self._keys)
        current = self.current
        if current is not None and (fresh.version, fresh.issued_at) < (current.version, current.issued_at):
            raise DenyListInvalid(
                f"The fetched deny list (v{fresh.version}) is older than the cached one (v{current.version})."
            )
        self.current = fresh
        return fresh

    def refresh(self) -> DenyList:
        """Fetch, verify and cache the list now (no cooldown). Raises :class:`DenyListUnavailable` or
        :class:`DenyListInvalid`."""
        if self._http is None:
            raise DenyListUnavailable("No base URL configured: the deny list cannot be fetched.")
        self._last_attempt = self._clock()
        try:
            response = self._http.send(
                "GET", DENY_LIST_PATH, headers={"Accept": "application/jwt, application/json"}
            )
        except XinyiError as exc:
            raise DenyListUnavailable(f"Could not fetch the deny list: {exc}") from exc
        jws = _jws_from_body(response.content)
        try:
            fresh = self.load(jws)
        except KeysUnavailable as exc:
            raise DenyListUnavailable(f"Could not verify the deny list: {exc}") from exc
        if self._cache_path is not None:
            _atomic_write(self._cache_path, jws)
        return fresh

    def ensure_fresh(self) -> DenyList:
        """The current list, refreshed first if it is missing or stale (and the cooldown allows).

        Raises :class:`DenyListUnavailable` (nothing cached) or :class:`DenyListStale` (only a stale one;
        the stale list is on the exception as ``deny_list``).
        """
        current = self.current
        if current is not None and not current.is_stale(self._clock()):
            return current
        with self._lock:  # one fetch per cooldown, also when several threads share this cache
            return self._ensure_fresh_slow()

    def _ensure_fresh_slow(self) -> DenyList:
        now = self._clock()
        current = self.current
        if current is not None and not current.is_stale(now):
            return current
        may_fetch = self._http is not None and (
            self._last_attempt is None or now - self._last_attempt >= self.refetch_cooldown
        )
        if may_fetch:
            try:
                current = self.refresh()
            except XinyiError as exc:
                log.info("deny list: refresh failed: %s", exc)
            else:
                if not current.is_stale(now):
                    return current
        current = self.current
        if current is None:
            raise DenyListUnavailable("No deny list is cached and none could be fetched.")
        raise DenyListStale(
            f"The deny list v{current.version} is {int(current.age(now))} s old "
            f"(maximum {current.max_age} s) and could not be refreshed.",
            deny_list=current,
        )


def _jws_from_body(content: bytes) -> str:
    """The endpoint answers the bare compact JWS (``application/jwt``); a JSON string or
    ``{"deny_list": "<jws>"}`` / ``{"jws": "<jws>"}`` wrapper is accepted too."""
    text = content.decode("utf-8", "replace").strip()
    if text.startswith(("{", '"')):
        try:
            body = json.loads(text)
        except ValueError:
            return text
        if isinstance(body, str):
            return body
        if isinstance(body, dict):
            for name in ("deny_list", "jws", "token"):
                if isinstance(body.get(name), str):
                    return str(body[name])
    return text
