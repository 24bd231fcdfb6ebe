"""The keys a process holds in memory, so that signing and verifying never wait on the database.

Keys are read from the database at most every ``refresh_seconds``, and again at once when a token names a
kid this process does not know (a key rotated in by another process), but not more often than every
``unknown_kid_cooldown`` seconds, so tokens with made-up kids cannot turn into a query each. Private keys
are decrypted on first use and kept decrypted in memory only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.core.clock import utcnow
from app.core.security import FieldCipher
from app.signing import jws
from app.signing import service as signing_service
from app.signing.models import SigningKey

log = structlog.get_logger("app.signing")


@dataclass
class HeldKey:
    row: SigningKey
    public: Ed25519PublicKey
    header: str  # the ready-made JWS header segment for this kid
    private: Ed25519PrivateKey | None = field(default=None, repr=False)

    @property
    def kid(self) -> str:
        return self.row.kid


class Keyring:
    def __init__(
        self,
        cipher: FieldCipher,
        *,
        refresh_seconds: float = 60.0,
        unknown_kid_cooldown: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cipher = cipher
        self._refresh = refresh_seconds
        self._cooldown = unknown_kid_cooldown
        self._monotonic = monotonic
        self._keys: dict[str, HeldKey] = {}
        self._loaded_at: float | None = None
        self._missed_at = float("-inf")

    def warm(self, engine: Engine) -> None:
        """Read the keys at start-up, and open the current private key so that a wrong encryption key in
        the settings stops start-up instead of the first pass. A database not migrated yet is left for the
        first request to report. Skipped on SQLite (the embedded, single-process database), where every
        transaction takes the one write lock and a start-up read would queue behind any open writer."""
        if engine.dialect.name == "sqlite":
            return
        try:
            with Session(engine) as session:
                self._reload(session)
        except SQLAlchemyError as exc:
            log.warning("signing_keys_not_loaded", error_type=type(exc).__name__)
            return
        current = self._current(utcnow())
        if current is not None:
            current.private = signing_service.private_key(self._cipher, current.row)

    def invalidate(self) -> None:
        """Read the keys again on next use (after a rotation in this process)."""
        self._loaded_at = None

    def _reload(self, session: Session) -> None:
        held: dict[str, HeldKey] = {}
        for stored in signing_service.list_keys(session):
            # A detached copy: later changes through the session must not reach the keys held here.
            row = SigningKey(**stored.model_dump())
            known = self._keys.get(row.kid)
            public = (
                known.public if known else Ed25519PublicKey.from_public_bytes(jws.b64url_decode(row.public_x))
            )
            held[row.kid] = HeldKey(
                row, public, jws.header_segment(row.kid), known.private if known else None
            )
        self._keys = held
        self._loaded_at = self._monotonic()

    def _fresh(self, session: Session) -> None:
        if self._loaded_at is None or self._monotonic() - self._loaded_at > self._refresh:
            self._reload(session)

    def _current(self, now: datetime) -> HeldKey | None:
        current = signing_service.current_key([k.row for k in self._keys.values()], now)
        return None if current is None else self._keys[current.kid]

    def signer(self, session: Session, now: datetime) -> HeldKey:
        """The key that signs now, with its private half ready. Makes the first key if there is none."""
        self._fresh(session)
        key = self._current(now)
        if key is None:
            signing_service.ensure_key(session, self._cipher, now=now)
            self._reload(session)
            # The new key is real only once this transaction commits: read the table again next time.
            self._loaded_at = None
            key = self._current(now)
            if key is None:  # pragma: no cover - ensure_key made one that signs now
                raise RuntimeError("no signing key signs now")
        if key.private is None:
            key.private = signing_service.private_key(self._cipher, key.row)
        return key

    def sign_with(self, session: Session, kid: str, claims: dict[str, object]) -> str | None:
        """Sign with a given key, current or not (Ed25519 is deterministic: the same claims give the same
        token again). None when the key is unknown."""
        self._fresh(session)
        key = self._keys.get(kid)
        if key is None:
            return None
        if key.private is None:
            key.private = signing_service.private_key(self._cipher, key.row)
        return jws.sign(key.private, key.header, claims)

    def verifier(
        self, session: Session, kid: str, now: datetime, *, published_only: bool = True
    ) -> Ed25519PublicKey | None:
        """The public key for ``kid``, or None when no such key is (still) published."""
        self._fresh(session)
        key = self._keys.get(kid)
        if key is None and self._monotonic() - self._missed_at >= self._cooldown:
            self._missed_at = self._monotonic()
            self._reload(session)
            key = self._keys.get(kid)
        if key is None or (published_only and not signing_service.published_at(key.row, now)):
            return None
        return key.public

    def sign(self, session: Session, claims: dict[str, object], now: datetime) -> str:
        key = self.signer(session, now)
        assert key.private is not None
        return jws.sign(key.private, key.header, claims)

    def verify(
        self, session: Session, token: str, now: datetime, *, published_only: bool = True
    ) -> dict[str, object]:
        """Check ``alg``, ``kid`` and the signature; return the claims. Raises :class:`jws.JwsError`."""
        parsed = jws.parse(token)
        public = self.verifier(session, parsed.kid, now, published_only=published_only)
        if public is None:
            raise jws.JwsError(
                "token_unknown_key", "The token was signed with a key this platform does not publish."
            )
        jws.verify_signature(parsed, public)
        return parsed.claims()
