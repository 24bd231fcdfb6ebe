"""Security primitives shared by every domain: field encryption, keyed hashes, masking, secrets.

身份证号 is sensitive personal information: encrypted with AES-256-GCM (key id stored beside the
ciphertext so keys can rotate), found by HMAC-SHA256 under a separate key, shown only masked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.core.config import Settings


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515, section 2): JWK members, handles, salts."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@dataclass(frozen=True)
class Sealed:
    kid: str
    ciphertext: str  # base64url(nonce || ciphertext+tag)


class FieldCipher:
    """AES-GCM with the field's purpose as associated data, so a sealed ID cannot be replayed as
    another field."""

    def __init__(self, keys: dict[str, str], active_kid: str) -> None:
        self._keys = {kid: AESGCM(b64url_decode(key)) for kid, key in keys.items()}
        self.active_kid = active_kid

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def seal(self, plaintext: str, purpose: str) -> Sealed:
        nonce = secrets.token_bytes(12)
        ct = self._keys[self.active_kid].encrypt(nonce, plaintext.encode(), purpose.encode())
        return Sealed(self.active_kid, b64url(nonce + ct))

    def open(self, sealed: Sealed, purpose: str) -> str:
        raw = b64url_decode(sealed.ciphertext)
        return self._keys[sealed.kid].decrypt(raw[:12], raw[12:], purpose.encode()).decode()


class Hasher:
    """Keyed hashes for look-ups (ID numbers, phone numbers) and plain hashes for high-entropy secrets."""

    def __init__(self, key: str) -> None:
        self._key = key.encode()

    def keyed(self, value: str, purpose: str) -> str:
        return hmac.new(self._key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def sha256_hex(value: str) -> str:
    """For random secrets (API keys, refresh tokens) a plain hash is enough: they cannot be guessed."""
    return hashlib.sha256(value.encode()).hexdigest()


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def mask_id_number(id_number: str) -> str:
    """``650102********1234``: region code and last four, never the birth date."""
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:]


def mask_name(name: str) -> str:
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else "*"


class Crypto:
    """What the app holds at run time: created once in the lifespan from settings."""

    def __init__(self, settings: Settings) -> None:
        self.cipher = FieldCipher(settings.id_encryption_keys, settings.id_encryption_active_kid)
        self.hasher = Hasher(settings.id_hash_key)

    def id_number_hash(self, id_number: str) -> str:
        return self.hasher.keyed(id_number.upper(), "id_number")

    def phone_hash(self, phone: str) -> str:
        return self.hasher.keyed(phone, "phone")
