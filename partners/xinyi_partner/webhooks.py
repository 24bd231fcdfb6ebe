"""Verifying the platform's webhooks, the Standard Webhooks way.

Headers: ``webhook-id``, ``webhook-timestamp`` (epoch seconds), ``webhook-signature``: space-separated
``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{raw body}">`` entries (two while the platform rotates the
endpoint's secret). The secret is shown once as ``whsec_<base64>``.

    verifier = WebhookVerifier(os.environ["XINYI_WEBHOOK_SECRET"])
    event = verifier.verify(request_body_bytes, request.headers)   # raises WebhookVerificationError
    if seen_before(event.id): return 200                            # dedupe by webhook-id

Verify the raw body exactly as received (before any JSON parsing). Pass several secrets while you rotate
yours; a delivery passes if any signature matches any secret. Timestamps older than ``tolerance`` (5 min)
or further than that in the future are refused. Comparisons are constant-time.

The signatures are computed by the Standard Webhooks reference library (``standardwebhooks``), the one
the platform signs with; this module adds what it leaves to the caller: several secrets while rotating,
a clock you can set, and an error code per failed check.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from standardwebhooks.webhooks import Webhook

from xinyi_partner.errors import WebhookVerificationError

Clock = Callable[[], float]
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
DEFAULT_TOLERANCE = 300


@dataclass(frozen=True)
class WebhookMessage:
    id: str
    timestamp: int
    payload: Any = field(repr=False)
    body: bytes = field(repr=False)


def _secret_bytes(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        return secret
    value = secret.removeprefix(SECRET_PREFIX)
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from exc
    if len(raw) < 16:
        raise ValueError("a webhook secret must hold at least 16 bytes")
    return raw


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if key.lower() == name:
                return candidate
    return value


def sign(secret: str | bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of one delivery (for tests and tools)."""
    return Webhook(_secret_bytes(secret)).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body)


class WebhookVerifier:
    def __init__(
        self,
        secrets: str | bytes | Sequence[str | bytes],
        *,
        tolerance: int = DEFAULT_TOLERANCE,
        clock: Clock = time.time,
    ) -> None:
        if isinstance(secrets, str | bytes):
            secrets = [secrets]
        self._signers = [Webhook(_secret_bytes(s)) for s in secrets]
        if not self._signers:
            raise ValueError("at least one webhook secret is needed")
        self.tolerance = tolerance
        self._clock = clock

    def verify(self, body: bytes | str, headers: Mapping[str, str]) -> WebhookMessage:
        """Check one delivery; returns it with its parsed JSON payload. Raises
        :class:`WebhookVerificationError` with a code naming the failed check."""
        raw = body.encode() if isinstance(body, str) else bytes(body)
        msg_id = _header(headers, "webhook-id")
        ts_text = _header(headers, "webhook-timestamp")
        signatures = _header(headers, "webhook-signature")
        if not msg_id or not ts_text or not signatures:
            raise WebhookVerificationError(
                "The webhook-id, webhook-timestamp and webhook-signature headers are required.",
                code="webhook_missing_header",
            )
        try:
            timestamp = int(ts_text)
        except ValueError as exc:
            raise WebhookVerificationError(
                "webhook-timestamp is not an integer.", code="webhook_invalid_timestamp"
            ) from exc
        now = self._clock()
        if timestamp < now - self.tolerance:
            raise WebhookVerificationError(
                "The delivery is older than the tolerance.", code="webhook_timestamp_too_old"
            )
        if timestamp > now + self.tolerance:
            raise WebhookVerificationError(
                "The delivery is timestamped in the future.", code="webhook_timestamp_too_new"
            )
        when = datetime.fromtimestamp(timestamp, UTC)
        expected = [signer.sign(msg_id, when, raw).encode() for signer in self._signers]
        matched = False
        for entry in signatures.split():
            if not entry.startswith("v1,"):
                continue
            for signature in expected:
                # Check every pair (no early exit) so timing does not tell which secret matched.
                matched |= hmac.compare_digest(signature, entry.encode())
        if not matched:
            raise WebhookVerificationError("No signature matches.", code="webhook_invalid_signature")
        try:
            payload = json.loads(raw) if raw else None
        except ValueError as exc:
            raise WebhookVerificationError(
                "The signed body is not JSON.", code="webhook_invalid_payload"
            ) from exc
        return WebhookMessage(id=msg_id, timestamp=timestamp, payload=payload, body=raw)


def verify_webhook(
    secret: str | bytes | Sequence[str | bytes],
    body: bytes | str,
    headers: Mapping[str, str],
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    clock: Clock = time.time,
) -> WebhookMessage:
    """One-shot :meth:`WebhookVerifier.verify`."""
    return WebhookVerifier(secret, tolerance=tolerance, clock=clock).verify(body, headers)
