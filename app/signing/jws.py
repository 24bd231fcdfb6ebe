"""Compact JWS with EdDSA (Ed25519) and nothing else: the only shape of token this platform signs.

The header is always exactly ``{"alg":"EdDSA","kid":"<thumbprint>"}`` (sorted keys, compact JSON, no
``typ``): byte for byte what PyJWT writes with ``headers={"kid": kid, "typ": None}``. Parsing is strict
and cheap, and every refusal names a stable code. ``alg`` is checked before anything else, so a token
claiming ``none`` or ``HS256`` (signed with the public key bytes as an HMAC secret, the classic
confusion attack) is refused as such and never reaches a verifier.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG = "EdDSA"
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
MAX_TOKEN_LENGTH = 4096


class JwsError(Exception):
    """A token refused before its claims are read. ``code`` is one of ``token_malformed``,
    ``token_algorithm_not_allowed``, ``token_unknown_key``, ``token_invalid_signature``."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not _B64URL.match(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_x(public_key: Ed25519PublicKey) -> str:
    return b64url(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def thumbprint(x: str) -> str:
    """RFC 7638: SHA-256 of the required members of the OKP JWK, in lexicographic order, no spaces."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def jwk(x: str, kid: str) -> dict[str, str]:
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": ALG, "use": "sig"}


def header_segment(kid: str) -> str:
    return b64url(json.dumps({"alg": ALG, "kid": kid}, separators=(",", ":"), sort_keys=True).encode())


def encode_payload(claims: dict[str, Any]) -> str:
    """Compact JSON in the order given (PyJWT's order too)."""
    return b64url(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())


def sign(private_key: Ed25519PrivateKey, header: str, claims: dict[str, Any]) -> str:
    signing_input = f"{header}.{encode_payload(claims)}"
    return f"{signing_input}.{b64url(private_key.sign(signing_input.encode('ascii')))}"


@dataclass(frozen=True)
class Parsed:
    kid: str
    payload_segment: str
    signing_input: bytes
    signature: bytes

    def claims(self) -> dict[str, Any]:
        """The payload, read only once the signature verified."""
        return _segment_json(self.payload_segment, "payload")


def _segment_json(segment: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(segment))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise JwsError("token_malformed", f"The token's {what} is not base64url JSON.") from None
    if not isinstance(value, dict):
        raise JwsError("token_malformed", f"The token's {what} is not a JSON object.")
    return value


def parse(token: str) -> Parsed:
    """Split and read the header; the payload stays unread until the signature verified."""
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise JwsError("token_malformed", "The token is not a compact JWS (three dot-separated parts).")
    header_text, payload_text, signature_text = token.split(".")
    header = _segment_json(header_text, "header")
    alg = header.get("alg")
    if alg != ALG:
        raise JwsError("token_algorithm_not_allowed", f"Only {ALG} tokens are accepted, not {alg!r}.")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise JwsError("token_malformed", "The token's header has no kid.")
    if len(header) != 2:
        raise JwsError("token_malformed", "The token's header has members this platform never writes.")
    try:
        signature = b64url_decode(signature_text)
    except (ValueError, binascii.Error):
        raise JwsError("token_invalid_signature", "The token's signature is not base64url.") from None
    if not _B64URL.match(payload_text):
        raise JwsError("token_malformed", "The token's payload is not base64url.")
    return Parsed(kid, payload_text, f"{header_text}.{payload_text}".encode("ascii"), signature)


def verify_signature(parsed: Parsed, public_key: Ed25519PublicKey) -> None:
    if len(parsed.signature) != 64:
        raise JwsError("token_invalid_signature", "The token's signature does not verify.")
    try:
        public_key.verify(parsed.signature, parsed.signing_input)
    except InvalidSignature:
        raise JwsError("token_invalid_signature", "The token's signature does not verify.") from None
