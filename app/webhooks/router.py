"""Partners manage their webhook endpoints and read their delivery log; operators replay deliveries."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import SessionDep
from app.core.idempotency import AppRoute, IdempotencyDep
from app.core.pagination import Page, PageParamsDep, page_of
from app.core.principal import Principal
from app.core.security import Crypto
from app.deps import CryptoDep, OperatorDep, SettingsDep, require_scope
from app.webhooks import history, schemas, service
from app.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

router = APIRouter(route_class=AppRoute, tags=["webhooks"])
WebhookManager = Annotated[Principal, Depends(require_scope("webhooks:manage"))]


def endpoint_out(endpoint: WebhookEndpoint) -> schemas.EndpointOut:
    return schemas.EndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        description=endpoint.description,
        event_types=list(endpoint.event_types),
        enabled=endpoint.enabled,
        previous_secret_expires_at=endpoint.previous_expires_at,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


def with_secret(endpoint: WebhookEndpoint, secret: str, response: Response) -> schemas.EndpointWithSecret:
    """The endpoint and its new secret, shown this once: never kept by a cache on the way."""
    response.headers["Cache-Control"] = "no-store"
    return schemas.EndpointWithSecret(**endpoint_out(endpoint).model_dump(), secret=secret)


def endpoint_created(
    session: Session,
    crypto: Crypto,
    settings: Settings,
    partner: Principal,
    body: schemas.CreateEndpoint,
    response: Response,
) -> schemas.EndpointWithSecret:
    """An endpoint as the partner's key and its members (app.members.managed) register it."""
    endpoint, secret = service.create_endpoint(
        session,
        crypto.cipher,
        settings,
        partner,
        url=str(body.url),
        description=body.description,
        event_types=body.event_types,
    )
    return with_secret(endpoint, secret, response)


def _delivery_out(
    session: Session, delivery: WebhookDelivery, with_attempts: bool = False
) -> schemas.DeliveryOut:
    out = schemas.DeliveryOut.model_validate(delivery, from_attributes=True)
    if delivery.status != DeliveryStatus.pending:
        out.next_attempt_at = None  # only a pending delivery has another attempt coming
    if with_attempts:
        out.attempt_log = [
            schemas.AttemptOut.model_validate(a, from_attributes=True)
            for a in history.attempts_of(session, delivery.id)
        ]
    return out


@router.post("/v1/partner/webhook-endpoints", status_code=201)
def create_endpoint(
    body: schemas.CreateEndpoint,
    partner: WebhookManager,
    idem: IdempotencyDep,
    session: SessionDep,
    crypto: CryptoDep,
    settings: SettingsDep,
    response: Response,
) -> schemas.EndpointWithSecret:
    """Register a URL for events. The signing secret is in this response only (and, sealed, in the
    stored replay of an ``Idempotency-Key``)."""
    return endpoint_created(session, crypto, settings, partner, body, response)


@router.get("/v1/partner/webhook-endpoints")
def list_endpoints(
    partner: WebhookManager, session: SessionDep, page: PageParamsDep
) -> Page[schemas.EndpointOut]:
    return page_of(service.list_endpoints(session, partner.id, page), endpoint_out)


@router.get("/v1/partner/webhook-endpoints/{endpoint_id}")
def get_endpoint(endpoint_id: str, partner: WebhookManager, session: SessionDep) -> schemas.EndpointOut:
    return endpoint_out(service.get_endpoint(session, partner.id, endpoint_id))


@router.patch("/v1/partner/webhook-endpoints/{endpoint_id}")
def update_endpoint(
    endpoint_id: str,
    body: schemas.UpdateEndpoint,
    partner: WebhookManager,
    session: SessionDep,
    settings: SettingsDep,
) -> schemas.EndpointOut:
    return endpoint_out(service.update_endpoint(session, settings, partner, endpoint_id, body.changes()))


@router.delete("/v1/partner/webhook-endpoints/{endpoint_id}")
def delete_endpoint(endpoint_id: str, partner: WebhookManager, session: SessionDep) -> schemas.EndpointOut:
    """Disable the endpoint for good; pending deliveries to it stop."""
    return endpoint_out(service.delete_endpoint(session, partner, endpoint_id))


@router.post("/v1/partner/webhook-endpoints/{endpoint_id}/rotate-secret")
def rotate_secret(
    endpoint_id: str,
    body: schemas.RotateSecret,
    partner: WebhookManager,
    idem: IdempotencyDep,
    session: SessionDep,
    crypto: CryptoDep,
    response: Response,
) -> schemas.EndpointWithSecret:
    """A new secret, shown once. The old one keeps signing too (a second ``v1,`` entry) for the grace
    period, so you can switch your receiver without losing a delivery. With an ``Idempotency-Key`` a
    retry gets the same new secret instead of rotating again."""
    endpoint, secret = service.rotate_secret(
        session, crypto.cipher, partner, endpoint_id, timedelta(seconds=body.grace_period_seconds)
    )
    return with_secret(endpoint, secret, response)


@router.get("/v1/partner/webhook-deliveries")
def partner_deliveries(
    partner: WebhookManager,
    session: SessionDep,
    page: PageParamsDep,
    endpoint_id: Annotated[str | None, Query(max_length=32)] = None,
    status: DeliveryStatus | None = None,
) -> Page[schemas.DeliveryOut]:
    """Your delivery log, newest first."""
    return page_of(
        history.list_deliveries(session, page, partner_id=partner.id, endpoint_id=endpoint_id, status=status),
        lambda d: _delivery_out(session, d),
    )


@router.get("/v1/partner/webhook-deliveries/{delivery_id}")
def partner_delivery(delivery_id: str, partner: WebhookManager, session: SessionDep) -> schemas.DeliveryOut:
    """One delivery with every attempt: when, the outcome, your status code and the start of your answer."""
    return _delivery_out(session, history.get_delivery(session, delivery_id, partner.id), with_attempts=True)


@router.get("/v1/admin/webhook-deliveries")
def admin_deliveries(
    op: OperatorDep,
    session: SessionDep,
    page: PageParamsDep,
    status: DeliveryStatus | None = None,
    partner_id: Annotated[str | None, Query(max_length=32)] = None,
    event_id: Annotated[str | None, Query(max_length=32)] = None,
) -> Page[schemas.DeliveryOut]:
    """Every delivery, newest first; ``status=failed`` lists what needs a replay."""
    return page_of(
        history.list_deliveries(session, page, partner_id=partner_id, status=status, event_id=event_id),
        lambda d: _delivery_out(session, d),
    )


@router.get("/v1/admin/webhook-deliveries/{delivery_id}")
def admin_delivery(delivery_id: str, op: OperatorDep, session: SessionDep) -> schemas.DeliveryOut:
    return _delivery_out(session, history.get_delivery(session, delivery_id), with_attempts=True)


@router.post("/v1/admin/webhook-deliveries/{delivery_id}/replay")
def replay_delivery(delivery_id: str, op: OperatorDep, session: SessionDep) -> schemas.DeliveryOut:
    """Queue a failed (or delivered) delivery again at once, with the same webhook-id and a fresh set of
    attempts. 409 ``delivery_in_progress`` while it is still being attempted."""
    return _delivery_out(session, history.replay(session, op, delivery_id), with_attempts=True)
