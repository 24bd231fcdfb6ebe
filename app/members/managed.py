"""What members manage for their partner, through the same services the partner's API keys use: API keys,
scanner devices, webhook endpoints, loan products (``/v1/partners/{partner_id}/…``). The member is the
audited actor; who may do what is app.members.permissions."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response

from app.core.db import SessionDep
from app.core.idempotency import AppRoute, IdempotencyDep
from app.core.pagination import Page, PageParamsDep, page_of
from app.deps import CryptoDep, SettingsDep
from app.loans import products
from app.loans.schemas import ProductIn, ProductOut, ProductPatch
from app.loans.views import product_out
from app.members.deps import (
    ApiKeysManager,
    ApiKeysReader,
    DevicesManager,
    DevicesReader,
    ProductsManager,
    ProductsReader,
    WebhooksManager,
    WebhooksReader,
)
from app.partners import service as partners_service
from app.partners.models import PartnerKind
from app.partners.router import key_out
from app.partners.schemas import ApiKeyOut, CreateApiKey, CreatedApiKey
from app.scanners import service as scanners_service
from app.scanners.router import device_out, issued_out
from app.scanners.schemas import CreateScannerDevice, IssuedScannerDevice, ScannerDeviceOut
from app.webhooks import service as webhooks_service
from app.webhooks.router import endpoint_created, endpoint_out, with_secret
from app.webhooks.schemas import CreateEndpoint, EndpointOut, EndpointWithSecret, RotateSecret, UpdateEndpoint

router = APIRouter(route_class=AppRoute, tags=["partner members"])
_NO_STORE = "no-store"


# --- API keys --------------------------------------------------------------------------------------------


@router.post("/v1/partners/{partner_id}/api-keys", status_code=201)
def create_api_key(
    body: CreateApiKey, member: ApiKeysManager, idem: IdempotencyDep, session: SessionDep, response: Response
) -> CreatedApiKey:
    """An API key of your partner; ``secret`` is in this response only."""
    issued = partners_service.create_api_key(session, member, member.id, body.name, body.scopes)
    response.headers["Cache-Control"] = _NO_STORE
    return CreatedApiKey(**key_out(issued.api_key).model_dump(), secret=issued.secret)


@router.get("/v1/partners/{partner_id}/api-keys")
def list_api_keys(member: ApiKeysReader, session: SessionDep, page: PageParamsDep) -> Page[ApiKeyOut]:
    """Newest first, revoked keys (and scanner devices' keys) included; never a secret."""
    return page_of(partners_service.list_api_keys(session, member.id, page), key_out)


@router.post("/v1/partners/{partner_id}/api-keys/{key_id}/revoke")
def revoke_api_key(key_id: str, member: ApiKeysManager, session: SessionDep) -> ApiKeyOut:
    """The key stops authenticating with its next request."""
    return key_out(partners_service.revoke_api_key(session, member, key_id, partner_id=member.id))


# --- scanner devices ----------------------------------------------------------------------------------------


@router.post("/v1/partners/{partner_id}/scanner-devices", status_code=201)
def create_scanner_device(
    body: CreateScannerDevice,
    member: DevicesManager,
    idem: IdempotencyDep,
    session: SessionDep,
    request: Request,
    response: Response,
) -> IssuedScannerDevice:
    """A device for a counter, with a one-time enrolment code (shown here only, valid 24 h). A merchant's
    devices may also open and return rentals."""
    can_rent = member.partner_kind == PartnerKind.merchant
    issued = scanners_service.issue_device(session, member, body.name, can_rent=can_rent)
    return issued_out(issued, request, response)


@router.get("/v1/partners/{partner_id}/scanner-devices")
def list_scanner_devices(
    member: DevicesReader, session: SessionDep, page: PageParamsDep
) -> Page[ScannerDeviceOut]:
    return page_of(scanners_service.list_devices(session, member.id, page), device_out)


@router.post("/v1/partners/{partner_id}/scanner-devices/{device_id}/revoke")
def revoke_scanner_device(device_id: str, member: DevicesManager, session: SessionDep) -> ScannerDeviceOut:
    """The device's next scan is refused."""
    return device_out(scanners_service.revoke(session, member, device_id))


# --- webhook endpoints --------------------------------------------------------------------------------------


@router.post("/v1/partners/{partner_id}/webhook-endpoints", status_code=201)
def create_webhook_endpoint(
    body: CreateEndpoint,
    member: WebhooksManager,
    idem: IdempotencyDep,
    session: SessionDep,
    crypto: CryptoDep,
    settings: SettingsDep,
    response: Response,
) -> EndpointWithSecret:
    """The signing secret is in this response only."""
    return endpoint_created(session, crypto, settings, member, body, response)


@router.get("/v1/partners/{partner_id}/webhook-endpoints")
def list_webhook_endpoints(
    member: WebhooksReader, session: SessionDep, page: PageParamsDep
) -> Page[EndpointOut]:
    return page_of(webhooks_service.list_endpoints(session, member.id, page), endpoint_out)


@router.patch("/v1/partners/{partner_id}/webhook-endpoints/{endpoint_id}")
def update_webhook_endpoint(
    endpoint_id: str,
    body: UpdateEndpoint,
    member: WebhooksManager,
    session: SessionDep,
    settings: SettingsDep,
) -> EndpointOut:
    return endpoint_out(
        webhooks_service.update_endpoint(session, settings, member, endpoint_id, body.changes())
    )


@router.delete("/v1/partners/{partner_id}/webhook-endpoints/{endpoint_id}")
def delete_webhook_endpoint(endpoint_id: str, member: WebhooksManager, session: SessionDep) -> EndpointOut:
    """For good: pending deliveries to it stop."""
    return endpoint_out(webhooks_service.delete_endpoint(session, member, endpoint_id))


@router.post("/v1/partners/{partner_id}/webhook-endpoints/{endpoint_id}/rotate-secret")
def rotate_webhook_secret(
    endpoint_id: str,
    body: RotateSecret,
    member: WebhooksManager,
    idem: IdempotencyDep,
    session: SessionDep,
    crypto: CryptoDep,
    response: Response,
) -> EndpointWithSecret:
    """A new secret, shown once; the old one keeps signing too for the grace period."""
    endpoint, secret = webhooks_service.rotate_secret(
        session, crypto.cipher, member, endpoint_id, timedelta(seconds=body.grace_period_seconds)
    )
    return with_secret(endpoint, secret, response)


# --- loan products (banks) ------------------------------------------------------------------------------


@router.post("/v1/partners/{partner_id}/loan-products", status_code=201)
def create_loan_product(
    body: ProductIn, member: ProductsManager, idem: IdempotencyDep, session: SessionDep
) -> ProductOut:
    """Listed publicly while active."""
    return product_out(session, products.create(session, member, body.model_dump()))


@router.get("/v1/partners/{partner_id}/loan-products")
def list_loan_products(member: ProductsReader, session: SessionDep, page: PageParamsDep) -> Page[ProductOut]:
    return page_of(products.list_own(session, member.id, page), lambda p: product_out(session, p))


@router.patch("/v1/partners/{partner_id}/loan-products/{product_id}")
def update_loan_product(
    product_id: str, body: ProductPatch, member: ProductsManager, session: SessionDep
) -> ProductOut:
    return product_out(session, products.update(session, member, product_id, body.changes()))
