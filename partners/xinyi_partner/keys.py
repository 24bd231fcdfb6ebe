"""The platform's published signing keys (JWKS), cached, refetched on an unknown ``kid`` with a cooldown.

The platform publishes a new key before it signs with it and keeps a retired key published for longer than
the longest token lifetime, so a verifier that refetches on an unknown ``kid`` keeps working across a key
rotation. The cooldown bounds the refetches a flood of forged ``kid`` values can cause: at most one fetch
per ``refetch_cooldown`` seconds, whatever is scanned.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from xinyi_partner._http import Http, json_body
from xinyi_partner.errors import KeysUnavailable, UnknownKey, XinyiError

log = logging.getLogger("xinyi_partner.keys")

Clock = Callable[[], float]
JWKS_PATH = "/.well-known/jwks.json"


def b64url_decode(value: str) -> bytes:
    if not isinstance(value, str) or any(c in value for c in "=+/ \n"):
        raise ValueError("not unpadded base64url")
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 thumbprint (SHA-256, base64url) of an OKP key: 43 characters."""
    members = {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return b64url_encode(hashlib.sha256(canonical.encode()).digest())


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    """The JWK the platform publishes for ``key`` (handy in tests and tools)."""
    x = b64url_encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": x}
    return {**jwk, "kid": jwk_thumbprint(jwk), "alg": "EdDSA", "use": "sig"}


def parse_jwks(document: Any) -> dict[str, Ed25519PublicKey]:
    """The usable Ed25519 signing keys of a JWKS document, by ``kid``.

    Keys of another type or use are skipped; a key whose ``kid`` is not its RFC 7638 thumbprint is skipped
    (and logged), as is one that is malformed. Raises ValueError when the document is not a JWKS at all.
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS document (no 'keys' list)")
    keys: dict[str, Ed25519PublicKey] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict):
            continue
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        if jwk.get("use", "sig") != "sig" or jwk.get("alg", "EdDSA") != "EdDSA":
            continue
        kid, x = jwk.get("kid"), jwk.get("x")
        if not isinstance(kid, str) or not isinstance(x, str):
            continue
        try:
            raw = b64url_decode(x)
            key = Ed25519PublicKey.from_public_bytes(raw)
        except ValueError:
            log.warning("jwks: skipping malformed key %s", kid)
            continue
        if jwk_thumbprint(jwk) != kid:
            log.warning("jwks: skipping key whose kid %s is not its RFC 7638 thumbprint", kid)
            continue
        keys[kid] = key
    return keys


class KeySet:
    """A cached JWKS.

    - :meth:`get` answers from the cache; on an unknown ``kid`` it refetches once, unless a fetch was tried
      less than ``refetch_cooldown`` seconds ago (then :class:`UnknownKey` at once);
    - a cache older than ``refresh_interval`` is refreshed on the next lookup (a failure keeps the cache),
      so a key the platform withdrew stops being accepted;
    - with ``cache_path`` the last good document is kept on disk, so a kiosk that restarts without network
      can still verify.
    """

    def __init__(
        self,
        http: Http | None,
        *,
        clock: Clock = time.time,
        refetch_cooldown: float = 60.0,
        refresh_interval: float = 3600.0,
        cache_path: str | Path | None = None,
    ) -> None:
        self._http = http
        self._clock = clock
        self.refetch_cooldown = refetch_cooldown
        self.refresh_interval = refresh_interval
        self._cache_path = Path(cache_path) if cache_path is not None else None
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._lock = threading.RLock()
        self._last_attempt: float | None = None
        self.fetched_at: float | None = None
        if self._cache_path is not None and self._cache_path.exists():
            self._load_cache(self._cache_path)

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def load(self, document: Any, *, fetched_at: float | None = None) -> None:
        """Replace the cached keys with those of ``document`` (a parsed JWKS)."""
        keys = parse_jwks(document)
        if not keys:
            raise ValueError("the JWKS holds no usable Ed25519 signing key")
        self._keys = keys
        self.fetched_at = self._clock() if fetched_at is None else fetched_at

    def refresh(self) -> None:
        """Fetch the JWKS now (no cooldown). Raises :class:`KeysUnavailable` when that fails."""
        if self._http is None:
            raise KeysUnavailable("No base URL configured: the key set cannot be fetched.")
        self._last_attempt = self._clock()
        try:
            document = json_body(self._http.send("GET", JWKS_PATH))
            self.load(document)
        except (XinyiError, ValueError) as exc:
            raise KeysUnavailable(f"Could not fetch the key set: {exc}") from exc
        if self._cache_path is not None:
            _atomic_write(self._cache_path, json.dumps({"fetched_at": self.fetched_at, "jwks": document}))

    def _may_fetch(self) -> bool:
        if self._http is None:
            return False
        return self._last_attempt is None or self._clock() - self._last_attempt >= self.refetch_cooldown

    def get(self, kid: str) -> Ed25519PublicKey:
        """The key for ``kid``. Raises :class:`UnknownKey`, or :class:`KeysUnavailable` if there is no
        key set at all."""
        key = self._keys.get(kid)
        if key is not None and not self._is_old():
            return key
        with self._lock:  # one fetch per cooldown, also when several threads share this key set
            return self._get_slow(kid)

    def _get_slow(self, kid: str) -> Ed25519PublicKey:
        key = self._keys.get(kid)
        if key is not None:
            if self._is_old() and self._may_fetch():
                try:
                    self.refresh()
                except KeysUnavailable as exc:
                    log.info("jwks: periodic refresh failed, keeping the cached set: %s", exc)
                key = self._keys.get(kid)
                if key is None:
                    raise UnknownKey(f"Key {kid} is no longer published.")
            return key
        if self._may_fetch():
            try:
                self.refresh()
            except KeysUnavailable:
                if not self._keys:
                    raise
            key = self._keys.get(kid)
            if key is not None:
                return key
        if not self._keys:
            raise KeysUnavailable("No key set is cached and none could be fetched.")
        raise UnknownKey(f"Key {kid} is not published by the platform.")

    def _is_old(self) -> bool:
        return self.fetched_at is not None and self._clock() - self.fetched_at >= self.refresh_interval

    def _load_cache(self, path: Path) -> None:
        try:
            cached = json.loads(path.read_text())
            self.load(cached["jwks"], fetched_at=float(cached["fetched_at"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("jwks: ignoring unreadable cache %s: %s", path, exc)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
