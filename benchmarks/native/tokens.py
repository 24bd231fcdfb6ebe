"""Pass tokens for the native reference: EdDSA (Ed25519) JWTs signed with PyJWT, each with its own handle."""

from __future__ import annotations

import base64
import secrets

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

TTL_SECONDS = 90  # as the app's online passes


def new_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_key_text(key: Ed25519PrivateKey) -> str:
    """The public half as the server's ``NATIVE_PUBLIC_KEY`` setting: base64url of the 32 raw bytes."""
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).decode()


def load_public_key(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(text))


def sign(key: Ed25519PrivateKey, subject_id: str, now: int) -> str:
    """A single-use pass for ``subject_id``, valid from ``now`` (Unix seconds) for ``TTL_SECONDS``."""
    claims = {"sub": subject_id, "jti": secrets.token_urlsafe(16), "iat": now, "exp": now + TTL_SECONDS}
    return jwt.encode(claims, key, algorithm="EdDSA")
