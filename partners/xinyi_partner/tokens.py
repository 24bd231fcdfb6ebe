"""Reading and checking 信易+ tokens: compact JWS, ``alg`` EdDSA only, ``kid`` from the published key set.

Online pass: ``{"h": handle, "nbf", "exp"}`` (exp 60–120 s ahead), decided only by the online check.
Offline code: ``{"h", "sc": scenario, "nbf", "exp"}`` (valid ≤ 24 h), may be accepted offline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from xinyi_partner.errors import (
    AlgorithmNotAllowed,
    InvalidSignature,
    MalformedToken,
    TokenExpired,
    TokenNotYetValid,
)
from xinyi_partner.keys import KeySet, b64url_decode

ALGORITHM = "EdDSA"
MAX_LEEWAY = 60
# Offline codes live at most 24 h; nbf may be a little in the past: allow 10 minutes on top.
MAX_OFFLINE_LIFETIME = 24 * 3600 + 600
# The signature may be empty here so that an "alg: none" token is named as such, not as malformed.
_COMPACT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
_JWS = jwt.PyJWS(algorithms=[ALGORITHM])


@dataclass(frozen=True)
class VerifiedToken:
    """A token whose signature checked out against the published key ``kid``."""

    handle: str
    scenario: str | None
    not_before: int
    expires_at: int
    kid: str
    claims: Mapping[str, Any] = field(repr=False)

    @property
    def offline_capable(self) -> bool:
        """True for an offline code (it names its scenario); False for an online-only pass."""
        return self.scenario is not None


def read_header(token: str) -> dict[str, Any]:
    """The JOSE header, unverified. Raises :class:`MalformedToken`."""
    if not isinstance(token, str) or not _COMPACT.match(token):
        raise MalformedToken("Not a compact JWS (three base64url segments).")
    try:
        header = json.loads(b64url_decode(token.split(".", 1)[0]))
    except ValueError as exc:
        raise MalformedToken("The token header is not base64url JSON.") from exc
    if not isinstance(header, dict):
        raise MalformedToken("The token header is not a JSON object.")
    return header


def peek_handle(token: str) -> str | None:
    """The handle of a token, read WITHOUT verifying anything: only ever use it to refuse (e.g. a code this
    device already accepted), never to accept."""
    try:
        payload = json.loads(b64url_decode(token.strip().split(".")[1]))
    except (ValueError, IndexError):
        return None
    handle = payload.get("h") if isinstance(payload, dict) else None
    return handle if isinstance(handle, str) else None


def verify_signature(token: str, keys: KeySet) -> tuple[str, dict[str, Any]]:
    """Check ``alg``, find ``kid``, verify the signature; return ``(kid, payload)``.

    Raises :class:`MalformedToken`, :class:`AlgorithmNotAllowed`, :class:`UnknownKey`,
    :class:`KeysUnavailable` or :class:`InvalidSignature`.
    """
    token = token.strip()
    header = read_header(token)
    alg = header.get("alg")
    if alg != ALGORITHM:
        raise AlgorithmNotAllowed(f"Algorithm {alg!r} is not accepted; only {ALGORITHM}.")
    if "crit" in header or "b64" in header:
        raise MalformedToken("The token header uses JWS extensions this verifier does not accept.")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise MalformedToken("The token header has no kid.")
    key: Ed25519PublicKey = keys.get(kid)
    try:
        raw = _JWS.decode(token, key=key, algorithms=[ALGORITHM])
    except jwt.InvalidSignatureError as exc:
        raise InvalidSignature("The signature does not match the published key.") from exc
    except jwt.PyJWTError as exc:
        raise MalformedToken(f"The token could not be read: {exc}") from exc
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise MalformedToken("The token payload is not JSON.") from exc
    if not isinstance(payload, dict):
        raise MalformedToken("The token payload is not a JSON object.")
    return kid, payload


def _int_claim(payload: Mapping[str, Any], name: str) -> int:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedToken(f"The token has no numeric {name!r} claim.")
    return int(value)


def parse_claims(kid: str, payload: dict[str, Any]) -> VerifiedToken:
    handle = payload.get("h")
    if not isinstance(handle, str) or not handle:
        raise MalformedToken("The token has no handle ('h').")
    scenario = payload.get("sc")
    if scenario is not None and (not isinstance(scenario, str) or not scenario):
        raise MalformedToken("The token's scenario ('sc') is not a string.")
    nbf, exp = _int_claim(payload, "nbf"), _int_claim(payload, "exp")
    if exp <= nbf:
        raise MalformedToken("The token expires before it becomes valid.")
    if scenario is not None and exp - nbf > MAX_OFFLINE_LIFETIME:
        raise MalformedToken("An offline code may be valid for at most 24 hours.")
    return VerifiedToken(
        handle=handle, scenario=scenario, not_before=nbf, expires_at=exp, kid=kid, claims=payload
    )


def check_times(token: VerifiedToken, now: float, leeway: int) -> None:
    """``nbf``/``exp`` against ``now`` with ``leeway`` seconds (at most 60)."""
    if now < token.not_before - leeway:
        raise TokenNotYetValid(f"The token is valid only from {token.not_before} (now {int(now)}).")
    if now > token.expires_at + leeway:
        raise TokenExpired(f"The token expired at {token.expires_at} (now {int(now)}).")


def check_leeway(leeway: int) -> int:
    if not 0 <= leeway <= MAX_LEEWAY:
        raise ValueError(f"leeway must be between 0 and {MAX_LEEWAY} seconds")
    return leeway
