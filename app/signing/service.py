"""Signing keys: create, rotate, publish.

- ``kid`` is the RFC 7638 thumbprint of the public JWK; ``alg`` is ``EdDSA``.
- A new key is published at once and signs only after ``delay``: every verifier that refreshes its JWKS
  within that delay learns the key before it sees a token signed with it. The default delay equals the
  offline deny list's maximum age, so any kiosk still allowed to verify offline has fetched the new key.
- A retired key stays published for ``retention`` after it stops signing, longer than the longest-lived
  token it may have signed (an offline code, 24 h) plus leeway.
- The private half is stored sealed with :class:`~app.core.security.FieldCipher`, bound to its kid.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app.audit import service as audit_service
from app.core.clock import utcnow
from app.core.errors import InvalidInput
from app.core.principal import SYSTEM, Principal
from app.core.reseal import SealedColumn
from app.core.security import FieldCipher, Sealed, b64url, b64url_decode
from app.signing.models import SigningKey

ALG = "EdDSA"

# The longest a token signed by these keys may live (offline codes) plus the verification leeway.
MAX_SIGNED_LIFETIME = timedelta(hours=24)
MAX_LEEWAY = timedelta(seconds=60)
DEFAULT_DELAY = timedelta(hours=12)
DEFAULT_RETENTION = timedelta(hours=48)
MIN_RETENTION = MAX_SIGNED_LIFETIME + MAX_LEEWAY
# The first key is in force from this long before it was made: a process whose clock is a little behind
# the maker's (another host, within NTP's bounds) finds it signing too. Nothing was signed before the
# first key existed, so the earlier start changes nothing else.
FIRST_KEY_SKEW = timedelta(minutes=5)

_GROUNDS = audit_service.Grounds(purpose="signing key management", legal_basis="platform security operations")


def _purpose(kid: str) -> str:
    return f"signing_key:{kid}"


def public_x(public_key: Ed25519PublicKey) -> str:
    """The JWK's ``x``: the raw public key, base64url."""
    return b64url(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def thumbprint(x: str) -> str:
    """RFC 7638: SHA-256 of the required members of the OKP JWK, in lexicographic order, no spaces."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def jwk(x: str, kid: str) -> dict[str, str]:
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": ALG, "use": "sig"}


# The private halves, for `xinyi keys reencrypt` (app.core.reseal).
SEALED_COLUMNS = [
    SealedColumn(SigningKey, "private_ciphertext", "private_cipher_kid", lambda key: _purpose(key.kid), "kid")
]


def _new_key(cipher: FieldCipher, generation: int, activates_at: datetime, actor: Principal) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    x = public_x(private.public_key())
    kid = thumbprint(x)
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    sealed = cipher.seal(b64url(raw), _purpose(kid))
    return SigningKey(
        kid=kid,
        generation=generation,
        public_x=x,
        private_ciphertext=sealed.ciphertext,
        private_cipher_kid=sealed.kid,
        created_by=actor.id,
        activates_at=activates_at,
    )


def private_key(cipher: FieldCipher, key: SigningKey) -> Ed25519PrivateKey:
    raw = cipher.open(Sealed(key.private_cipher_kid, key.private_ciphertext), _purpose(key.kid))
    return Ed25519PrivateKey.from_private_bytes(b64url_decode(raw))


def list_keys(session: Session) -> list[SigningKey]:
    return list(session.exec(select(SigningKey).order_by(col(SigningKey.generation))).all())


def signs_at(key: SigningKey, now: datetime) -> bool:
    return key.activates_at <= now and (key.retired_at is None or key.retired_at > now)


def published_at(key: SigningKey, now: datetime) -> bool:
    return key.unpublish_at is None or key.unpublish_at > now


def current_key(keys: list[SigningKey], now: datetime) -> SigningKey | None:
    """The key that signs now: of those active, the one activated last."""
    active = [k for k in keys if signs_at(k, now)]
    return max(active, key=lambda k: k.activates_at) if active else None


def state_of(key: SigningKey, now: datetime) -> str:
    if not published_at(key, now):
        return "unpublished"
    if key.activates_at > now:
        return "pending"
    return "retired" if key.retired_at is not None and key.retired_at <= now else "active"


def jwks(keys: list[SigningKey], now: datetime) -> dict[str, list[dict[str, str]]]:
    """Published keys, newest generation first: the next key (if any), the current one, retired ones."""
    published = sorted((k for k in keys if published_at(k, now)), key=lambda k: -k.generation)
    return {"keys": [jwk(k.public_x, k.kid) for k in published]}


def _record(session: Session, actor: Principal, action: str, key: SigningKey) -> None:
    _GROUNDS.record(
        session,
        actor,
        action,
        {
            "kid": key.kid,
            "generation": key.generation,
            "activates_at": key.activates_at.isoformat(),
        },
    )


def ensure_key(
    session: Session, cipher: FieldCipher, actor: Principal = SYSTEM, now: datetime | None = None
) -> SigningKey:
    """The first key, signing at once, made on first use. Two processes racing to make it both try
    generation 1; the unique index lets one win and the other reads the winner's key."""
    existing = session.exec(select(SigningKey).order_by(col(SigningKey.generation)).limit(1)).first()
    if existing is not None:
        return existing
    key = _new_key(cipher, 1, (now or utcnow()) - FIRST_KEY_SKEW, actor)
    try:
        with session.begin_nested():
            session.add(key)
    except IntegrityError:
        winner = session.exec(select(SigningKey).where(SigningKey.generation == 1)).one()
        return winner
    _record(session, actor, "signing_key.created", key)
    return key


def rotate(
    session: Session,
    cipher: FieldCipher,
    actor: Principal,
    *,
    delay: timedelta = DEFAULT_DELAY,
    retention: timedelta = DEFAULT_RETENTION,
    now: datetime | None = None,
) -> SigningKey:
    """Publish a new key now; it signs from ``now + delay``. Every older key stops signing then and stays
    published for ``retention`` more. With no key yet, the new key signs at once (from
    :data:`FIRST_KEY_SKEW` before ``now``)."""
    if delay < timedelta(0):
        raise InvalidInput("delay: must not be negative.", code="invalid_delay", param="delay")
    if retention < MIN_RETENTION:
        raise InvalidInput(
            f"retention: must exceed the longest token lifetime plus leeway ({MIN_RETENTION}).",
            code="retention_too_short",
            param="retention",
        )
    now = now or utcnow()
    last = session.exec(select(func.max(SigningKey.generation))).one()
    activates_at = now - FIRST_KEY_SKEW if last is None else now + delay
    key = _new_key(cipher, (last or 0) + 1, activates_at, actor)
    for older in list_keys(session):
        if older.retired_at is None or older.retired_at > activates_at:
            older.retired_at = activates_at
            older.unpublish_at = activates_at + retention
            session.add(older)
    session.add(key)
    session.flush()
    _record(session, actor, "signing_key.rotated", key)
    return key
