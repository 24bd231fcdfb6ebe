"""Offline verification: the published key set and the signed deny list, cached, and no other network.

    verifier = OfflineVerifier("https://xinyi.example", cache_dir="/var/lib/kiosk/xinyi")
    result = verifier.verify(token, "deposit_free_rental")
    if result.accepted: ...

Checks, in order: compact JWS with ``alg`` EdDSA (``none``/HS256 refused before any key is used); ``kid``
in the key set (one refetch on an unknown ``kid``, then a cooldown); signature; ``nbf``/``exp`` with at
most 60 s leeway; the token is an offline code (``sc``) — an online pass answers ``online_required``;
``sc`` equals the scenario; not already used on this device; the deny list is fresh and does not list
the handle.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from xinyi_partner._http import DEFAULT_TIMEOUT, Http, HttpClient
from xinyi_partner.denylist import DenyList, DenyListCache
from xinyi_partner.errors import (
    DenyListStale,
    DenyListUnavailable,
    HandleAlreadyUsed,
    HandleRevoked,
    KeysUnavailable,
    OnlineCheckRequired,
    ScenarioMismatch,
    TokenError,
)
from xinyi_partner.keys import KeySet
from xinyi_partner.results import OfflineDecision, OfflineResult
from xinyi_partner.tokens import (
    MAX_LEEWAY,
    VerifiedToken,
    check_leeway,
    check_times,
    parse_claims,
    verify_signature,
)

Clock = Callable[[], float]


class UsedHandles(Protocol):
    """Knows which single-use offline codes this device already accepted (see :class:`OfflineQueue`)."""

    def has_used(self, handle: str) -> bool: ...


class OfflineVerifier:
    """Verifies tokens offline.

    ``base_url`` may be None for a device that only ever uses what ``cache_dir`` holds. ``http`` lets you
    pass your own client (proxies, mTLS, tests). ``clock`` returns epoch seconds. With
    ``allow_stale_deny_list`` a code is accepted on a deny list past its ``max_age`` (the result says
    ``deny_list_stale=True``); by default such a check answers ``online_required``.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        http: HttpClient | None = None,
        clock: Clock = time.time,
        cache_dir: str | Path | None = None,
        leeway: int = MAX_LEEWAY,
        refetch_cooldown: float = 60.0,
        key_refresh_interval: float = 3600.0,
        allow_stale_deny_list: bool = False,
        used_handles: UsedHandles | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._http = Http(base_url, http=http, timeout=timeout) if base_url else None
        self._clock = clock
        self.leeway = check_leeway(leeway)
        self.allow_stale_deny_list = allow_stale_deny_list
        self.used_handles = used_handles
        cache = Path(cache_dir) if cache_dir is not None else None
        self.keys = KeySet(
            self._http,
            clock=clock,
            refetch_cooldown=refetch_cooldown,
            refresh_interval=key_refresh_interval,
            cache_path=cache / "jwks.json" if cache else None,
        )
        self.deny_list = DenyListCache(
            self._http,
            self.keys,
            clock=clock,
            refetch_cooldown=refetch_cooldown,
            cache_path=cache / "deny-list.jws" if cache else None,
        )

    def __enter__(self) -> OfflineVerifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def refresh(self) -> DenyList:
        """Fetch the key set and the deny list now (while online). Raises :class:`KeysUnavailable`,
        :class:`DenyListUnavailable` or :class:`DenyListInvalid`."""
        self.keys.refresh()
        return self.deny_list.refresh()

    def decode(self, token: str) -> VerifiedToken:
        """Signature and time checks only (no scenario, no deny list). Raises a :class:`TokenError` or
        :class:`KeysUnavailable`."""
        verified = parse_claims(*verify_signature(token, self.keys))
        check_times(verified, self._clock(), self.leeway)
        return verified

    def check(self, token: str, scenario: str) -> OfflineResult:
        """Every offline check; returns an accepted result or raises the first failure
        (:class:`TokenError`, :class:`KeysUnavailable`, :class:`DenyListUnavailable`,
        :class:`DenyListStale`)."""
        return self._decide(self.decode(token), scenario)

    def verify(self, token: str, scenario: str) -> OfflineResult:
        """Like :meth:`check`, but every per-scan outcome is a result (never raises for the token)."""
        verified: VerifiedToken | None = None
        try:
            verified = parse_claims(*verify_signature(token, self.keys))
            check_times(verified, self._clock(), self.leeway)
            return self._decide(verified, scenario)
        except (TokenError, KeysUnavailable, DenyListUnavailable, DenyListStale) as exc:
            current = self.deny_list.current
            return OfflineResult(
                decision=_DECISIONS[exc.decision],
                scenario=scenario,
                code=exc.code,
                message=exc.message,
                handle=verified.handle if verified else None,
                kid=verified.kid if verified else None,
                expires_at=verified.expires_at if verified else None,
                deny_list_version=current.version if current else None,
                deny_list_stale=isinstance(exc, DenyListStale),
            )

    def verify_image(self, image: Any, scenario: str) -> OfflineResult:
        """Decode a QR image (path, bytes or PIL image; needs the ``qr`` extra), then :meth:`verify`.
        Raises :class:`QrDecodeError` when no 信易+ QR code is in the image."""
        from xinyi_partner.qr import decode_qr_image

        return self.verify(decode_qr_image(image), scenario)

    def _decide(self, verified: VerifiedToken, scenario: str) -> OfflineResult:
        if verified.scenario is None:
            raise OnlineCheckRequired("This is an online pass: it can only be verified online.")
        if verified.scenario != scenario:
            raise ScenarioMismatch(
                f"This offline code is for scenario {verified.scenario!r}, not {scenario!r}."
            )
        if self.used_handles is not None and self.used_handles.has_used(verified.handle):
            raise HandleAlreadyUsed("This single-use code was already used on this device.")
        stale = False
        try:
            deny_list = self.deny_list.ensure_fresh()
        except DenyListStale as exc:
            if exc.deny_list is not None and exc.deny_list.contains(verified.handle):
                raise HandleRevoked(_DENIED) from None  # stale, but still a revocation
            if not self.allow_stale_deny_list or exc.deny_list is None:
                raise
            deny_list, stale = exc.deny_list, True
        if deny_list.contains(verified.handle):
            raise HandleRevoked(_DENIED)
        return OfflineResult(
            decision="accepted",
            scenario=scenario,
            message="Valid offline code.",
            handle=verified.handle,
            kid=verified.kid,
            expires_at=verified.expires_at,
            deny_list_version=deny_list.version,
            deny_list_stale=stale,
        )


_DENIED = "This code is on the platform's deny list (revoked, or already used)."

_DECISIONS: dict[str, OfflineDecision] = {
    "accepted": "accepted",
    "refused": "refused",
    "online_required": "online_required",
}
