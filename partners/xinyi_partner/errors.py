"""Every error the SDK raises. Each carries a stable ``code`` (a string, safe to log and to branch on).

- :class:`TokenError` and its subclasses: what is wrong with a scanned token (offline checks);
- :class:`KeysUnavailable`, :class:`DenyListUnavailable`, :class:`DenyListStale`: the offline verifier
  cannot decide (no key set or no fresh deny list) — go online;
- :class:`APIError` and its subclasses: the platform refused a request (``application/problem+json``),
  with the server's ``code``, ``status`` and ``request_id``;
- :class:`APIConnectionError`: the platform could not be reached (after retries);
- :class:`WebhookVerificationError`: a webhook delivery failed its signature or timestamp check;
- :class:`QrDecodeError`: no 信易+ QR code could be read from an image.
"""

from __future__ import annotations

from typing import Any, ClassVar


class XinyiError(Exception):
    """Base class of every SDK error."""

    code: str = "xinyi_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


# --- tokens (offline) --------------------------------------------------------------------------------


class TokenError(XinyiError):
    """The token itself is unacceptable. ``decision`` is what an offline verifier answers for it."""

    code = "token_invalid"
    decision: ClassVar[str] = "refused"


class MalformedToken(TokenError):
    code = "token_malformed"


class AlgorithmNotAllowed(TokenError):
    """Header ``alg`` is not ``EdDSA`` (``none``, ``HS256``…): refused before any key is looked at."""

    code = "token_algorithm_not_allowed"


class UnknownKey(TokenError):
    """Header ``kid`` is not in the published key set, even after a refetch (or within the cooldown)."""

    code = "token_unknown_key"


class InvalidSignature(TokenError):
    code = "token_invalid_signature"


class TokenExpired(TokenError):
    code = "token_expired"


class TokenNotYetValid(TokenError):
    code = "token_not_yet_valid"


class ScenarioMismatch(TokenError):
    """An offline code was issued for another scenario than the one being checked (the platform's code
    for the same refusal online)."""

    code = "token_scenario_mismatch"


class HandleRevoked(TokenError):
    """The token's handle is on the signed deny list: revoked, already used (and reported) elsewhere, or
    its holder is black-listed."""

    code = "token_revoked"


class HandleAlreadyUsed(TokenError):
    """This device already accepted this single-use offline code."""

    code = "token_replayed"


class OnlineCheckRequired(TokenError):
    """A valid token that cannot be decided offline: an online-only pass (no ``sc`` claim)."""

    code = "online_check_required"
    decision = "online_required"


# --- the offline verifier's own state ----------------------------------------------------------------


class KeysUnavailable(XinyiError):
    """No key set is cached and none could be fetched."""

    code = "keys_unavailable"
    decision: ClassVar[str] = "online_required"


class DenyListUnavailable(XinyiError):
    """No verified deny list is cached and none could be fetched."""

    code = "deny_list_unavailable"
    decision: ClassVar[str] = "online_required"


class DenyListStale(XinyiError):
    """The cached deny list is older than its stated ``max_age`` and could not be refreshed."""

    code = "deny_list_stale"
    decision: ClassVar[str] = "online_required"

    def __init__(self, message: str, *, deny_list: Any = None) -> None:
        super().__init__(message)
        self.deny_list = deny_list  # the stale DenyList


class DenyListInvalid(XinyiError):
    """A fetched deny list failed its signature or shape check, or is older than the cached one."""

    code = "deny_list_invalid"


# --- the HTTP API --------------------------------------------------------------------------------------


class APIConnectionError(XinyiError):
    """The platform could not be reached (connection refused, DNS, timeout), after the retries."""

    code = "api_connection_error"


class APIError(XinyiError):
    """The platform answered with an error. Fields follow RFC 9457 plus the platform's ``code``."""

    code = "api_error"

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        type: str | None = None,
        retry_after: float | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.title = title
        self.detail = detail
        self.param = param
        self.request_id = request_id
        self.type = type
        self.retry_after = retry_after
        self.body = body

    def __str__(self) -> str:
        extra = f" (request_id={self.request_id})" if self.request_id else ""
        return f"{self.status} {self.code}: {self.message}{extra}"


class InvalidRequestError(APIError):
    """400 / 422: the request was malformed or a value is invalid (see ``param``)."""


class AuthenticationError(APIError):
    """401: the API key is missing, malformed, unknown or revoked."""


class PermissionDeniedError(APIError):
    """403: the key may not do this (scope, or the scenario is not open to this partner's kind)."""


class NotFoundError(APIError):
    """404."""


class ConflictError(APIError):
    """409: e.g. ``idempotency_request_in_progress``."""


class RateLimitError(APIError):
    """429: slow down; ``retry_after`` seconds when the server said so."""


class ServerError(APIError):
    """5xx: the platform failed; retried with the same ``Idempotency-Key`` before this is raised."""


# --- webhooks, QR ---------------------------------------------------------------------------------------


class WebhookVerificationError(XinyiError):
    """Codes: ``webhook_missing_header``, ``webhook_invalid_timestamp``, ``webhook_timestamp_too_old``,
    ``webhook_timestamp_too_new``, ``webhook_invalid_signature``, ``webhook_invalid_payload``."""

    code = "webhook_invalid_signature"


class QrDecodeError(XinyiError):
    """Codes: ``qr_not_found`` (no QR code in the image), ``qr_not_a_pass`` (a QR code, but not a 信易+
    token), ``qr_unreadable_image``."""

    code = "qr_not_found"


_BY_STATUS: dict[int, type[APIError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidRequestError,
    429: RateLimitError,
}


def api_error_class(status: int) -> type[APIError]:
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIError)
