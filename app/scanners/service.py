"""Scanner devices: the phone or tablet at a counter gets its own credential, never the partner's key.

A partner (with a key that may verify) issues a device: a one-time enrolment code, typed in at ``/scan``
within :data:`ENROLMENT_TTL`. The device exchanges it for an API key of its own whose scopes are only
``verifications:write`` (and ``rentals:counter``, open and return, when the issuing key could rent): every
other endpoint refuses it for want of a scope, and a device's key cannot issue or revoke devices. Revoking
the device revokes its key, refused from the next call on (keys are read on every call).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from app.core.clock import utcnow
from app.core.errors import AppError, Forbidden, InvalidInput, NotFound, Unauthenticated
from app.core.pagination import PageParams, fetch_page
from app.core.principal import Principal
from app.core.security import sha256_hex
from app.partners import service as partners_service
from app.partners.models import ApiKey, PartnerStatus
from app.scanners.models import ScannerDevice
from app.scenarios.catalog import Catalog
from app.scenarios.schemas import Scenario
from app.verifications import service as verifications_service

ENROLMENT_TTL = timedelta(hours=24)
# Typed by a person at the counter: 16 characters without I, L, O, U (80 random bits), in groups of 4.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_LENGTH = 16
VERIFY_SCOPE = "verifications:write"
RENT_SCOPE = "rentals:counter"


class EnrolmentCodeExpired(AppError):
    status = 410
    code = "enrolment_code_expired"
    title = "Enrolment code expired"


@dataclass(frozen=True)
class IssuedDevice:
    device: ScannerDevice
    enrolment_code: str  # shown once, to the partner; only its hash is kept


@dataclass(frozen=True)
class EnrolledDevice:
    device: ScannerDevice
    credential: str  # the device's own API key, shown once, to the device


def _normalise(code: str) -> str:
    return "".join(c for c in code.upper() if c not in "- ")


def _new_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, _CODE_LENGTH, 4))


def _audit(session: Session, actor: Principal, action: str, device: ScannerDevice) -> None:
    partners_service.ACCESS_MANAGEMENT.record(
        session, actor, action, {"partner_id": device.partner_id, "scanner_device_id": device.id}
    )


def device_of_key(session: Session, api_key_id: str) -> ScannerDevice | None:
    return session.exec(select(ScannerDevice).where(ScannerDevice.api_key_id == api_key_id)).first()


def caller_device(session: Session, partner: Principal, key: str) -> ScannerDevice:
    """The device calling with ``key``; 403 for any other key."""
    device = device_of_key(session, partners_service.caller_api_key(session, partner, key).id)
    if device is None:
        raise Forbidden("This endpoint is for enrolled scanner devices.", code="scanner_device_required")
    return device


def ensure_partner_key(session: Session, partner: Principal, key: str) -> ApiKey:
    """A partner's own key, not one of its devices': a device cannot issue or revoke devices."""
    api_key = partners_service.caller_api_key(session, partner, key)
    if device_of_key(session, api_key.id) is not None:
        raise Forbidden("A scanner device cannot manage devices.", code="scope_required")
    if VERIFY_SCOPE not in partner.scopes:
        raise Forbidden(f"This API key lacks the {VERIFY_SCOPE} scope.", code="scope_required")
    return api_key


def create_device(session: Session, partner: Principal, key: str, name: str) -> IssuedDevice:
    ensure_partner_key(session, partner, key)
    return issue_device(session, partner, name, can_rent="rentals:write" in partner.scopes)


def issue_device(session: Session, actor: Principal, name: str, *, can_rent: bool) -> IssuedDevice:
    """A device of the partner ``actor.id``, issued by its key or by one of its members (app.members)."""
    clean = name.strip()
    if not clean or len(clean) > 100:
        raise InvalidInput("name: 1 to 100 characters.", code="invalid_name", param="name")
    scopes = [VERIFY_SCOPE] + ([RENT_SCOPE] if can_rent else [])
    code = _new_code()
    device = ScannerDevice(
        partner_id=actor.id,
        name=clean,
        enrolment_hash=sha256_hex(_normalise(code)),
        enrolment_expires_at=utcnow() + ENROLMENT_TTL,
        scopes=scopes,
        created_by=actor.actor_id,
    )
    session.add(device)
    session.flush()
    _audit(session, actor, "scanner_device.created", device)
    return IssuedDevice(device, code)


def enrol(session: Session, code: str) -> EnrolledDevice:
    """Exchange a one-time enrolment code for the device's own key. The code works once."""
    device = session.exec(
        select(ScannerDevice).where(ScannerDevice.enrolment_hash == sha256_hex(_normalise(code)))
    ).first()
    if device is None or device.revoked_at is not None:
        raise Unauthenticated(
            "Unknown or already used enrolment code.", code="invalid_enrolment_code", param="code"
        )
    if device.enrolment_expires_at <= utcnow():
        raise EnrolmentCodeExpired(
            "This enrolment code expired; ask for a new one.", code="enrolment_code_expired", param="code"
        )
    partner = partners_service.get_partner(session, device.partner_id)
    if partner.status != PartnerStatus.active:
        raise Forbidden("This partner is suspended.", code="partner_suspended")
    actor = Principal(type="partner", id=partner.id, partner_kind=partners_service.kind_of(partner).value)
    issued = partners_service.create_api_key(
        session, actor, partner.id, f"scanner {device.name}"[:100], list(device.scopes)
    )
    device.enrolment_hash = None
    device.api_key_id = issued.api_key.id
    device.enrolled_at = utcnow()
    session.add(device)
    session.flush()
    _audit(session, actor, "scanner_device.enrolled", device)
    return EnrolledDevice(device, issued.secret)


def get_device(session: Session, partner_id: str, device_id: str) -> ScannerDevice:
    device = session.get(ScannerDevice, device_id)
    if device is None or device.partner_id != partner_id:
        raise NotFound("No scanner device with this id.", code="scanner_device_not_found", param="device_id")
    return device


def list_devices(session: Session, partner_id: str, params: PageParams) -> tuple[list[ScannerDevice], bool]:
    statement = select(ScannerDevice).where(ScannerDevice.partner_id == partner_id)
    return fetch_page(session, statement, ScannerDevice.id, params)


def revoke_device(session: Session, partner: Principal, key: str, device_id: str) -> ScannerDevice:
    ensure_partner_key(session, partner, key)
    return revoke(session, partner, device_id)


def revoke(session: Session, actor: Principal, device_id: str) -> ScannerDevice:
    """The device's next call is refused, in every process. Revoking again changes nothing."""
    device = get_device(session, actor.id, device_id)
    if device.revoked_at is not None:
        return device
    device.revoked_at = utcnow()
    device.enrolment_hash = None
    session.add(device)
    if device.api_key_id is not None:
        partners_service.revoke_api_key(session, actor, device.api_key_id, partner_id=actor.id)
    session.flush()
    _audit(session, actor, "scanner_device.revoked", device)
    return device


def scenarios_for(catalog: Catalog, partner: Principal) -> list[Scenario]:
    """What this partner's kind may verify, in id order."""
    return [s for s in catalog.values() if partner.partner_kind in s.partner_kinds]


def choose_scenario(
    session: Session, catalog: Catalog, partner: Principal, device: ScannerDevice, scenario_id: str
) -> ScannerDevice:
    scenario = verifications_service.scenario_for(catalog, partner, scenario_id)
    device.scenario = scenario.id
    session.add(device)
    session.flush()
    return device
