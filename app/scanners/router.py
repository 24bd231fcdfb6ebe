"""Scanner devices: issued, listed and revoked by a partner (``/v1/partner/scanner-devices``), enrolled and
set up by the device itself (``/v1/scanner/…``, used by the ``/scan`` page)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.core.clock import utcnow
from app.core.db import SessionDep
from app.core.errors import Unauthenticated
from app.core.idempotency import AppRoute
from app.core.pagination import Page, PageParamsDep, page_of
from app.core.principal import Principal
from app.deps import BearerDep, PartnerDep
from app.partners import service as partners_service
from app.passes import qr
from app.scanners import schemas, service
from app.scanners.models import ScannerDevice
from app.scenarios.catalog import Catalog, CatalogDep

router = APIRouter(route_class=AppRoute, tags=["scanner devices"])
_NO_STORE = "no-store"


def _key(credentials: BearerDep) -> str:
    if credentials is None:  # pragma: no cover - PartnerDep refused the call already
        raise Unauthenticated("Send 'Authorization: Bearer <key>'.", code="missing_credentials")
    return credentials.credentials


ENROLMENT_QR_PREFIX = "XINYI-ENROL:"  # what /scan looks for in a QR code it reads while not enrolled


def issued_out(
    issued: service.IssuedDevice, request: Request, response: Response
) -> schemas.IssuedScannerDevice:
    """A new device with its one-time enrolment code, typed in or read as a QR code at /scan; never cached."""
    response.headers["Cache-Control"] = _NO_STORE
    modules = qr.encode_text(ENROLMENT_QR_PREFIX + issued.enrolment_code)
    return schemas.IssuedScannerDevice(
        **device_out(issued.device).model_dump(),
        enrolment_code=issued.enrolment_code,
        enrolment_page=str(request.url_for("scan_page")),
        enrolment_qr_svg_data_url=qr.svg_data_url(qr.svg(modules)),
    )


def device_out(device: ScannerDevice) -> schemas.ScannerDeviceOut:
    if device.revoked_at is not None:
        status = "revoked"
    elif device.enrolled_at is not None:
        status = "enrolled"
    elif device.enrolment_expires_at <= utcnow():
        status = "enrolment_expired"
    else:
        status = "awaiting_enrolment"
    return schemas.ScannerDeviceOut(
        id=device.id,
        name=device.name,
        status=status,
        scopes=list(device.scopes),
        scenario=device.scenario,
        created_at=device.created_at,
        enrolment_expires_at=device.enrolment_expires_at,
        enrolled_at=device.enrolled_at,
        revoked_at=device.revoked_at,
    )


def _me(session: SessionDep, catalog: Catalog, device: ScannerDevice) -> schemas.ScannerMe:
    partner = partners_service.get_partner(session, device.partner_id)
    kind = partners_service.kind_of(partner).value
    principal = Principal(type="partner", id=partner.id, partner_kind=kind)
    return schemas.ScannerMe(
        id=device.id,
        name=device.name,
        partner=schemas.ScannerPartner(id=partner.id, name=partner.name, kind=kind),
        scopes=list(device.scopes),
        can_rent=service.RENT_SCOPE in device.scopes,
        scenario=device.scenario,
        scenarios=[
            schemas.ScannerScenario(
                id=s.id,
                name_zh=s.name_zh,
                name_en=s.name_en,
                low_value=s.low_value,
                benefit=s.benefit.terms(),
            )
            for s in service.scenarios_for(catalog, principal)
        ],
    )


@router.post("/v1/partner/scanner-devices", status_code=201)
def create_scanner_device(
    body: schemas.CreateScannerDevice,
    partner: PartnerDep,
    credentials: BearerDep,
    session: SessionDep,
    request: Request,
    response: Response,
) -> schemas.IssuedScannerDevice:
    """Issue a scanner device for a counter: a one-time ``enrolment_code`` (shown here only) to type in
    at ``/scan`` on the phone or tablet within 24 hours. The device gets its own key that can only verify
    passes (and open and return rentals, when your key can rent); your key never goes to the browser."""
    return issued_out(
        service.create_device(session, partner, _key(credentials), body.name), request, response
    )


@router.get("/v1/partner/scanner-devices")
def list_scanner_devices(
    partner: PartnerDep, credentials: BearerDep, session: SessionDep, page: PageParamsDep
) -> Page[schemas.ScannerDeviceOut]:
    """Your scanner devices, newest first, revoked ones included."""
    service.ensure_partner_key(session, partner, _key(credentials))
    return page_of(service.list_devices(session, partner.id, page), device_out)


@router.post("/v1/partner/scanner-devices/{device_id}/revoke")
def revoke_scanner_device(
    device_id: str, partner: PartnerDep, credentials: BearerDep, session: SessionDep
) -> schemas.ScannerDeviceOut:
    """The device's next scan is refused (its key is revoked). Revoking again changes nothing."""
    return device_out(service.revoke_device(session, partner, _key(credentials), device_id))


@router.post(
    "/v1/scanner/enrolment", status_code=201, responses={401: {"description": "invalid_enrolment_code"}}
)
def enrol_scanner(
    body: schemas.EnrolIn, session: SessionDep, catalog: CatalogDep, response: Response
) -> schemas.EnrolledScanner:
    """The device exchanges its one-time enrolment code for its own key (``credential``, shown once)."""
    enrolled = service.enrol(session, body.code)
    response.headers["Cache-Control"] = _NO_STORE
    return schemas.EnrolledScanner(
        credential=enrolled.credential, device=_me(session, catalog, enrolled.device)
    )


@router.get("/v1/scanner/me")
def scanner_me(
    partner: PartnerDep, credentials: BearerDep, session: SessionDep, catalog: CatalogDep
) -> schemas.ScannerMe:
    """This device: its partner, what it may do, its scenario and the scenarios it may choose from."""
    return _me(session, catalog, service.caller_device(session, partner, _key(credentials)))


@router.put("/v1/scanner/me/scenario")
def choose_scanner_scenario(
    body: schemas.ChooseScenario,
    partner: PartnerDep,
    credentials: BearerDep,
    session: SessionDep,
    catalog: CatalogDep,
) -> schemas.ScannerMe:
    """Set the scenario this device verifies for (one its partner's kind may verify)."""
    device = service.caller_device(session, partner, _key(credentials))
    return _me(session, catalog, service.choose_scenario(session, catalog, partner, device, body.scenario))
