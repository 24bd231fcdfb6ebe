"""The pass token: a compact EdDSA JWS that a phone shows as a QR code and a partner scans.

Online pass, exactly::

    header  {"alg":"EdDSA","kid":"<43-character RFC 7638 thumbprint>"}
    payload {"h":"<16 characters: 12 random bytes, base64url>","nbf":<now - 5>,"exp":<now + 90>}

Why these claims and no others: a bearer credential should be small and dull (DESIGN.md, "QR token").
The token names no one: ``h`` is a random single-use handle that only the platform can map to a subject,
so no stable id, score or personal data is in it. Times are whole seconds; ``nbf`` is a little in the past
so a phone whose clock runs slightly ahead is not refused. There is no ``iat``: with ``nbf`` it says
nothing more, and without it the token is exactly 256 characters (header 90 + payload 78 + signature 86,
with two dots) — which as 512 digits is what numeric mode holds at QR version 10-M (513 digits). Any
further claim would push the code to version 11, which cheap phones read less reliably from a screen.

Offline code (pre-issued, single use, for one low-value scenario, at most 24 h)::

    payload {"h":…,"sc":"<scenario id>","nbf":…,"exp":…}

A token without ``sc`` is online-only: the partner SDK refuses to accept it offline.

Checks (:func:`read`): ``alg`` and ``kid`` and the signature (PyJWT, in :mod:`app.signing.keyring`), the
claims' shape, then ``exp``/``nbf`` with ``LEEWAY_SECONDS`` (at most 60 s, DESIGN.md). Each refusal has its
own code.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.core.errors import AppError
from app.signing.keyring import Keyring, TokenSignatureError
from app.signing.service import MAX_LEEWAY, MAX_SIGNED_LIFETIME

ONLINE_LIFETIME_SECONDS = 90  # exp is 60-120 s ahead (DESIGN.md): long enough to scan, short to steal
NOT_BEFORE_BACKDATE_SECONDS = 5
LEEWAY_SECONDS = 30
HANDLE_BYTES = 12
ONLINE_TOKEN_LENGTH = 256
_HANDLE = re.compile(r"^[A-Za-z0-9_-]{16}$")
_SCENARIO = re.compile(r"^[a-z][a-z0-9_]{2,39}$")
assert MAX_LEEWAY.total_seconds() >= LEEWAY_SECONDS


class TokenRefused(AppError):
    """A pass token that cannot be accepted. ``code`` says why; ``param`` is always ``token``."""

    status = 422
    code = "token_invalid"
    title = "Pass token refused"

    def __init__(self, detail: str, code: str, status: int | None = None) -> None:
        super().__init__(detail, code=code, param="token", status=status)


@dataclass(frozen=True)
class PassClaims:
    handle: str
    not_before: int
    expires: int
    scenario: str | None  # set on offline codes only

    @property
    def offline(self) -> bool:
        return self.scenario is not None


def new_handle() -> str:
    return secrets.token_urlsafe(HANDLE_BYTES)


def online_claims(handle: str, now: int) -> dict[str, Any]:
    return {"h": handle, "nbf": now - NOT_BEFORE_BACKDATE_SECONDS, "exp": now + ONLINE_LIFETIME_SECONDS}


def offline_claims(handle: str, scenario: str, not_before: int, expires: int) -> dict[str, Any]:
    return {"h": handle, "sc": scenario, "nbf": not_before, "exp": expires}


def _claims(raw: dict[str, Any]) -> PassClaims:
    handle, nbf, exp, scenario = raw.get("h"), raw.get("nbf"), raw.get("exp"), raw.get("sc")
    well_formed = (
        isinstance(handle, str)
        and _HANDLE.match(handle) is not None
        and type(nbf) is int
        and type(exp) is int
        and nbf < exp <= nbf + MAX_SIGNED_LIFETIME.total_seconds() + NOT_BEFORE_BACKDATE_SECONDS
        and (scenario is None or (isinstance(scenario, str) and _SCENARIO.match(scenario) is not None))
        and raw.keys() <= {"h", "nbf", "exp", "sc"}
    )
    if not well_formed:
        raise TokenRefused("The token's claims are not those of a pass.", "token_malformed")
    assert isinstance(handle, str) and isinstance(nbf, int) and isinstance(exp, int)
    return PassClaims(handle, nbf, exp, scenario if isinstance(scenario, str) else None)


def check_time(claims: PassClaims, at: int) -> None:
    if at > claims.expires + LEEWAY_SECONDS:
        raise TokenRefused("The pass expired; ask for a fresh QR code.", "token_expired")
    if at < claims.not_before - LEEWAY_SECONDS:
        raise TokenRefused("The pass is not valid yet.", "token_not_yet_valid")


def read(
    session: Session,
    keyring: Keyring,
    token: str,
    now: datetime,
    *,
    at: int | None = None,
    any_known_key: bool = False,
) -> PassClaims:
    """Verify ``token`` and return its claims, checking the times against ``at`` (default: now).

    ``any_known_key`` also accepts keys no longer published: for codes used offline and reported
    afterwards, whose key may have been retired since."""
    try:
        raw = keyring.verify(session, token, now, published_only=not any_known_key)
    except TokenSignatureError as exc:
        raise TokenRefused(exc.detail, exc.code) from None
    claims = _claims(raw)
    check_time(claims, int(now.timestamp()) if at is None else at)
    return claims
