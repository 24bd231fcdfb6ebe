"""Webhook endpoints (partner-managed) and the outbox (:func:`emit`); delivery logs and operator replay:
:mod:`app.webhooks.history`.

Delivery itself runs in the worker (:mod:`app.webhooks.delivery`). Everything here runs in the caller's
transaction: :func:`emit` writes the event and one delivery per subscribed endpoint beside the change it
announces, so an event is sent if and only if that change committed.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from app.audit import service as audit_service
from app.core.clock import utcnow
from app.core.config import Settings
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.pagination import PageParams, fetch_page
from app.core.principal import Principal
from app.core.reseal import SealedColumn
from app.core.security import FieldCipher, Sealed
from app.webhooks import outbound, signing
from app.webhooks.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

EVENT_TYPES: dict[str, str] = {
    "referral.created": "A 信易贷 referral for you (an enterprise chose your bank and matched a product).",
    "objection.filed": "A subject objects (异议) to one of your records: answer within 20 days.",
    "objection.answered": "An objection to one of your records was answered (upheld or rejected).",
    "objection.overdue": "An objection to one of your records is past its 20-day deadline.",
}
MAX_ENDPOINTS_PER_PARTNER = 10
MAX_GRACE = timedelta(days=7)
DEFAULT_GRACE = timedelta(hours=24)
_GROUNDS = audit_service.Grounds(
    purpose="partner webhook configuration", legal_basis="platform operation: partner agreement"
)


def _secret_purpose(endpoint_id: str) -> str:
    # The cipher's associated data: a sealed secret cannot be moved to another endpoint or field.
    return f"webhook_secret:{endpoint_id}"


# Current and previous signing secrets, for `xinyi keys reencrypt` (app.core.reseal).
SEALED_COLUMNS = [
    SealedColumn(WebhookEndpoint, ciphertext, kid, lambda endpoint: _secret_purpose(endpoint.id))
    for ciphertext, kid in [
        ("secret_ciphertext", "secret_kid"),
        ("previous_secret_ciphertext", "previous_secret_kid"),
    ]
]


def _seal(cipher: FieldCipher, endpoint_id: str, secret: str) -> Sealed:
    return cipher.seal(secret, _secret_purpose(endpoint_id))


def live_secrets(cipher: FieldCipher, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during its grace period."""
    purpose = _secret_purpose(endpoint.id)
    found = [cipher.open(Sealed(endpoint.secret_kid, endpoint.secret_ciphertext), purpose)]
    if (
        endpoint.previous_secret_ciphertext
        and endpoint.previous_secret_kid
        and endpoint.previous_expires_at is not None
        and endpoint.previous_expires_at > now
    ):
        found.append(
            cipher.open(Sealed(endpoint.previous_secret_kid, endpoint.previous_secret_ciphertext), purpose)
        )
    return found


# --- endpoints ----------------------------------------------------------------------------------------


def check_url(
    raw: str, settings: Settings, param: str = "url", resolver: outbound.Resolver = outbound.resolve
) -> str:
    """https only (http too where private targets are allowed: development and tests); no credentials in
    the URL; outside development the host must resolve, to public addresses only (the platform must
    not be turned against its own network; every delivery checks again, see app.webhooks.outbound)."""
    url = raw.strip()
    parts = urlsplit(url)
    private_ok = settings.webhooks_may_target_private_urls
    allowed_schemes = {"https", "http"} if private_ok else {"https"}
    if parts.scheme not in allowed_schemes or not parts.hostname:
        raise InvalidInput(f"{param}: must be an https:// URL.", code="invalid_webhook_url", param=param)
    if parts.username or parts.password:
        raise InvalidInput(
            f"{param}: must not carry credentials; the signature authenticates us.",
            code="invalid_webhook_url",
            param=param,
        )
    if parts.fragment:
        raise InvalidInput(f"{param}: must not have a fragment.", code="invalid_webhook_url", param=param)
    if not private_ok:
        host = parts.hostname.lower().rstrip(".")
        if host == "localhost" or host.endswith(".localhost"):
            raise InvalidInput(f"{param}: not a public host.", code="webhook_url_not_public", param=param)
        try:
            port = parts.port or 443
        except ValueError:
            raise InvalidInput(
                f"{param}: not a valid port.", code="invalid_webhook_url", param=param
            ) from None
        addresses = resolver(host, port)
        if not addresses:
            raise InvalidInput(
                f"{param}: the host does not resolve.", code="webhook_url_unresolvable", param=param
            )
        if not all(outbound.is_public(address) for address in addresses):
            raise InvalidInput(f"{param}: not a public address.", code="webhook_url_not_public", param=param)
    return url


def _check_event_types(types: list[str] | None, param: str = "event_types") -> list[str]:
    chosen = sorted(set(types or []))
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown:
        raise InvalidInput(
            f"{param}: unknown event type {unknown[0]!r}; known: {', '.join(sorted(EVENT_TYPES))}.",
            code="unknown_event_type",
            param=param,
        )
    return chosen


def audit(session: Session, actor: Principal, action: str, details: dict[str, Any]) -> None:
    _GROUNDS.record(session, actor, action, details)


def create_endpoint(
    session: Session,
    cipher: FieldCipher,
    settings: Settings,
    partner: Principal,
    *,
    url: str,
    description: str | None,
    event_types: list[str] | None,
) -> tuple[WebhookEndpoint, str]:
    """The endpoint and its secret (``whsec_…``): returned this once, stored sealed."""
    checked = check_url(url, settings)
    types = _check_event_types(event_types)
    existing = session.exec(
        select(WebhookEndpoint.id).where(
            WebhookEndpoint.partner_id == partner.id, col(WebhookEndpoint.deleted_at).is_(None)
        )
    ).all()
    if len(existing) >= MAX_ENDPOINTS_PER_PARTNER:
        raise Conflict(
            f"At most {MAX_ENDPOINTS_PER_PARTNER} endpoints per partner; delete one first.",
            code="too_many_endpoints",
        )
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(
        partner_id=partner.id,
        url=checked,
        description=description,
        event_types=types,
        secret_ciphertext="",
        secret_kid="",
    )
    sealed = _seal(cipher, endpoint.id, secret)
    endpoint.secret_ciphertext, endpoint.secret_kid = sealed.ciphertext, sealed.kid
    session.add(endpoint)
    session.flush()
    audit(session, partner, "webhook_endpoint.created", {"endpoint_id": endpoint.id, "event_types": types})
    return endpoint, secret


def get_endpoint(session: Session, partner_id: str, endpoint_id: str) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.partner_id != partner_id or endpoint.deleted_at is not None:
        raise NotFound("No webhook endpoint with this id.", code="webhook_endpoint_not_found")
    return endpoint


def list_endpoints(
    session: Session, partner_id: str, params: PageParams
) -> tuple[list[WebhookEndpoint], bool]:
    statement = select(WebhookEndpoint).where(
        WebhookEndpoint.partner_id == partner_id, col(WebhookEndpoint.deleted_at).is_(None)
    )
    return fetch_page(session, statement, WebhookEndpoint.id, params)


def update_endpoint(
    session: Session,
    settings: Settings,
    partner: Principal,
    endpoint_id: str,
    changes: dict[str, Any],
) -> WebhookEndpoint:
    endpoint = get_endpoint(session, partner.id, endpoint_id)
    if "url" in changes:
        endpoint.url = check_url(changes["url"], settings)
    if "description" in changes:
        endpoint.description = changes["description"]
    if "event_types" in changes:
        endpoint.event_types = _check_event_types(changes["event_types"])
    if "enabled" in changes:
        endpoint.enabled = bool(changes["enabled"])
    endpoint.updated_at = utcnow()
    session.add(endpoint)
    session.flush()
    audit(
        session, partner, "webhook_endpoint.updated", {"endpoint_id": endpoint.id, "fields": sorted(changes)}
    )
    return endpoint


def delete_endpoint(session: Session, partner: Principal, endpoint_id: str) -> WebhookEndpoint:
    """Deletes it for good: it is gone from every call (404), its deliveries and their log stay for the
    record, pending ones stop."""
    endpoint = get_endpoint(session, partner.id, endpoint_id)
    endpoint.enabled = False
    endpoint.deleted_at = endpoint.updated_at = utcnow()
    session.add(endpoint)
    pending = session.exec(
        select(WebhookDelivery).where(
            WebhookDelivery.endpoint_id == endpoint.id,
            col(WebhookDelivery.status).in_([DeliveryStatus.pending, DeliveryStatus.delivering]),
        )
    ).all()
    now = utcnow()
    for delivery in pending:
        delivery.status = DeliveryStatus.failed
        delivery.failed_at = now
        delivery.last_error = "endpoint disabled"
        session.add(delivery)
    session.flush()
    audit(session, partner, "webhook_endpoint.deleted", {"endpoint_id": endpoint.id})
    return endpoint


def rotate_secret(
    session: Session,
    cipher: FieldCipher,
    partner: Principal,
    endpoint_id: str,
    grace: timedelta = DEFAULT_GRACE,
    now: datetime | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new secret signs from now on; the current one keeps signing too (a second signature) for
    ``grace``, so the receiver can switch without losing a delivery. ``grace`` 0 drops it at once."""
    if grace < timedelta(0) or grace > MAX_GRACE:
        raise InvalidInput(
            f"grace_period_seconds: between 0 and {int(MAX_GRACE.total_seconds())}.",
            code="invalid_grace_period",
            param="grace_period_seconds",
        )
    now = now or utcnow()
    endpoint = get_endpoint(session, partner.id, endpoint_id)
    secret = signing.new_secret()
    sealed = _seal(cipher, endpoint.id, secret)
    if grace > timedelta(0):
        endpoint.previous_secret_ciphertext = endpoint.secret_ciphertext
        endpoint.previous_secret_kid = endpoint.secret_kid
        endpoint.previous_expires_at = now + grace
    else:
        endpoint.previous_secret_ciphertext = endpoint.previous_secret_kid = None
        endpoint.previous_expires_at = None
    endpoint.secret_ciphertext, endpoint.secret_kid = sealed.ciphertext, sealed.kid
    endpoint.updated_at = now
    session.add(endpoint)
    session.flush()
    audit(
        session,
        partner,
        "webhook_endpoint.secret_rotated",
        {"endpoint_id": endpoint.id, "grace_seconds": int(grace.total_seconds())},
    )
    return endpoint, secret


# --- the outbox ---------------------------------------------------------------------------------------


def emit(
    session: Session, partner_id: str, event_type: str, data: dict[str, Any], now: datetime | None = None
) -> WebhookEvent:
    """Write one event for ``partner_id`` and a pending delivery to each of its enabled endpoints that
    takes this type, in the caller's transaction."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type}")
    now = now or utcnow()
    event = WebhookEvent(partner_id=partner_id, type=event_type, body="", created_at=now)
    event.body = json.dumps(
        {"type": event_type, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    session.add(event)
    endpoints = session.exec(
        select(WebhookEndpoint).where(
            WebhookEndpoint.partner_id == partner_id, col(WebhookEndpoint.enabled).is_(True)
        )
    ).all()
    for endpoint in endpoints:
        if endpoint.event_types and event_type not in endpoint.event_types:
            continue
        session.add(
            WebhookDelivery(
                event_id=event.id,
                endpoint_id=endpoint.id,
                partner_id=partner_id,
                event_type=event_type,
                next_attempt_at=now,
                created_at=now,
            )
        )
    session.flush()
    return event
