"""The keys a process holds in memory, so that signing and verifying never wait on the database.

Keys are read from the database at most every ``refresh_seconds``, and again at once when a token names a
kid this process does not know (a key rotated in by another process), but not more often than every
``unknown_kid_cooldown`` seconds, so tokens with made-up kids cannot turn into a query each. Private keys
are decrypted on first use and kept decrypted in memory only.

Every token is signed and checked by PyJWT. The header is always exactly ``{"alg":"EdDSA","kid":"…"}``
(PyJWT's sorted compact JSON, no ``typ``). ``alg`` is checked before anything else, so a token claiming
``none`` or ``HS256`` (signed with the public key bytes as an HMAC secret, the classic confusion attack)
is refused as such and never reaches a verifier. PyJWT checks the signature only: the callers check the
claims, and the times against ``app.core.clock`` (PyJWT reads the wall clock, and a code used offline is
checked at the moment it was used).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import jwt
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.core.clock import utcnow
from app.core.security import FieldCipher
from app.signing import service as signing_service
from app.signing.models import SigningKey

log = structlog.get_logger("app.signing")

ALG = signing_service.ALG
MAX_TOKEN_LENGTH = 4096
_SIGNATURE_ONLY = jwt.PyJWT(
    options={
        "verify_exp": False,
        "verify_nbf": False,
        "verify_iat": False,
        "verify_aud": False,
        "verify_iss": False,
        "verify_sub": False,
        "verify_jti": False,
    }
)


class TokenSignatureError(Exception):
    """A token refused before its claims are read. ``code`` is one of ``token_malformed``,
    ``token_algorithm_not_allowed``, ``token_unknown_key``, ``token_invalid_signature``."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def signed_kid(token: str) -> str:
    """The ``kid`` of a token whose header is the one this platform writes; the signature is not checked."""
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise TokenSignatureError(
            "token_malformed", "The token is not a compact JWS (three dot-separated parts)."
        )
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenSignatureError("token_malformed", "The token is not base64url JSON.") from None
    alg = header.get("alg")
    if alg != ALG:
        raise TokenSignatureError(
            "token_algorithm_not_allowed", f"Only {ALG} tokens are accepted, not {alg!r}."
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenSignatureError("token_malformed", "The token's header has no kid.")
    if len(header) != 2:
        raise TokenSignatureError(
            "token_malformed", "The token's header has members this platform never writes."
        )
    return kid


def verified_claims(token: str, public: jwt.PyJWK) -> dict[str, object]:
    try:
        return _SIGNATURE_ONLY.decode(token, public, algorithms=[ALG])
    except jwt.InvalidSignatureError:
        raise TokenSignatureError(
            "token_invalid_signature", "The token's signature does not verify."
        ) from None
    except jwt.PyJWTError:
        raise TokenSignatureError("token_malformed", "The token's payload is not a JSON object.") from None


@dataclass
class HeldKey:
    row: SigningKey
    public: jwt.PyJWK
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
            if known is not None:
                held[row.kid] = HeldKey(row, known.public, known.private)
            else:
                held[row.kid] = HeldKey(row, jwt.PyJWK(signing_service.jwk(row.public_x, row.kid)))
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
        return _sign(key, claims)

    def verifier(
        self, session: Session, kid: str, now: datetime, *, published_only: bool = True
    ) -> jwt.PyJWK | None:
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
        return _sign(self.signer(session, now), claims)

    def verify(
        self, session: Session, token: str, now: datetime, *, published_only: bool = True
    ) -> dict[str, object]:
        """Check ``alg``, ``kid`` and the signature; return the claims. Raises :class:`TokenSignatureError`."""
        public = self.verifier(session, signed_kid(token), now, published_only=published_only)
        if public is None:
            raise TokenSignatureError(
                "token_unknown_key", "The token was signed with a key this platform does not publish."
            )
        return verified_claims(token, public)


def _sign(key: HeldKey, claims: dict[str, object]) -> str:
    assert key.private is not None
    return jwt.encode(claims, key.private, algorithm=ALG, headers={"kid": key.kid, "typ": None})
