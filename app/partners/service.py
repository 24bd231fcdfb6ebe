"""Partners and their API keys.

A partner is an organisation (merchant, bank, government counter, data provider) onboarded by an
operator. It calls the partner API with API keys of the form ``xyk_<prefix>_<secret>``:

- ``xyk_`` + 8 characters of the id alphabet is the *prefix*: visible, stored, shown in lists and logs;
- the rest is 32 random bytes, urlsafe base64. Only ``sha256(full key)`` is stored, so the secret is
  shown once, at creation, and never again.

A key is found by its prefix and checked by comparing hashes in constant time. Each key carries scopes,
a subset of what its partner's kind allows. Revoked keys and keys of a suspended partner stop working on
the next request: nothing about a key is cached.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select, update

from app.audit import service as audit_service
from app.core.clock import utcnow
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from app.core.pagination import PageParams, fetch_page
from app.core.principal import Principal
from app.core.security import constant_time_equal, random_token, sha256_hex
from app.partners.models import ApiKey, Partner, PartnerKind, PartnerStatus

API_KEY_PREFIX = "xyk_"
_PREFIX_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # app.core.ids: no I, L, O, U
_PREFIX_LENGTH = 8
_SECRET_BYTES = 32
# xyk_ + 8 visible characters, "_", then 43 characters of urlsafe base64 (32 bytes, unpadded).
_KEY_SHAPE = re.compile(
    rf"({re.escape(API_KEY_PREFIX)}[{_PREFIX_ALPHABET}]{{{_PREFIX_LENGTH}}})_[A-Za-z0-9_-]{{43}}"
)

# Writing last_used_at on every request would turn every partner call into a write; once a minute is
# precise enough to tell a live key from a forgotten one.
LAST_USED_RESOLUTION = timedelta(minutes=1)

# What each kind of partner may be allowed to do, and what a key gets when no scopes are asked for.
ALLOWED_SCOPES: dict[PartnerKind, frozenset[str]] = {
    PartnerKind.merchant: frozenset(
        # rentals:counter: open and return only (a scanner device's key), never report a default
        {"verifications:write", "rentals:read", "rentals:write", "rentals:counter"}
    ),
    PartnerKind.bank: frozenset(
        {"referrals:read", "referrals:write", "reports:read", "loan_products:write", "webhooks:manage"}
    ),
    PartnerKind.government_counter: frozenset({"verifications:write"}),
    PartnerKind.data_provider: frozenset(
        {"records:read", "records:write", "objections:read", "objections:write", "webhooks:manage"}
    ),
}
DEFAULT_SCOPES: dict[PartnerKind, frozenset[str]] = {
    PartnerKind.merchant: frozenset({"verifications:write", "rentals:write"}),
    PartnerKind.bank: frozenset(
        {"referrals:read", "referrals:write", "reports:read", "loan_products:write", "webhooks:manage"}
    ),
    PartnerKind.government_counter: frozenset({"verifications:write"}),
    PartnerKind.data_provider: frozenset({"records:write", "objections:read", "webhooks:manage"}),
}

# Partners, their keys, places, devices and members are one activity in the log.
ACCESS_MANAGEMENT = audit_service.Grounds(
    purpose="partner onboarding and access management", legal_basis="platform operation: partner agreement"
)


@dataclass(frozen=True)
class IssuedApiKey:
    """A freshly created key. ``secret`` is the full key; it exists only here, never in storage."""

    api_key: ApiKey
    secret: str


def _unauthenticated(detail: str, code: str) -> Unauthenticated:
    return Unauthenticated(detail, code=code, headers={"WWW-Authenticate": "Bearer"})


# --- partners ---------------------------------------------------------------------------------------


def parse_kind(raw: str | PartnerKind, param: str = "kind") -> PartnerKind:
    try:
        return PartnerKind(raw)
    except ValueError:
        allowed = ", ".join(k.value for k in PartnerKind)
        raise InvalidInput(
            f"{param}: must be one of {allowed}.", code="invalid_partner_kind", param=param
        ) from None


def kind_of(partner: Partner) -> PartnerKind:
    """Rows read back from the database hold the kind as a plain string."""
    return PartnerKind(partner.kind)


def _clean_name(raw: str, param: str, max_length: int) -> str:
    name = raw.strip()
    if not name:
        raise InvalidInput(f"{param}: must not be blank.", code="invalid_name", param=param)
    if len(name) > max_length:
        raise InvalidInput(f"{param}: at most {max_length} characters.", code="invalid_name", param=param)
    return name


def create_partner(session: Session, actor: Principal, name: str, kind: str | PartnerKind) -> Partner:
    partner = Partner(name=_clean_name(name, "name", 200), kind=parse_kind(kind), created_by=actor.id)
    session.add(partner)
    session.flush()
    ACCESS_MANAGEMENT.record(
        session, actor, "partner.created", {"partner_id": partner.id, "kind": kind_of(partner).value}
    )
    return partner


def get_partner(session: Session, partner_id: str) -> Partner:
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound("No partner with this id.", code="partner_not_found", param="partner_id")
    return partner


def names_of(session: Session, partner_ids: list[str]) -> dict[str, str]:
    """Partner names by id, for showing a subject who received their data."""
    if not partner_ids:
        return {}
    rows = session.exec(select(Partner.id, Partner.name).where(col(Partner.id).in_(partner_ids))).all()
    return {partner_id: name for partner_id, name in rows}


def list_partners(
    session: Session,
    params: PageParams,
    kind: PartnerKind | None = None,
    status: PartnerStatus | None = None,
) -> tuple[list[Partner], bool]:
    statement = select(Partner)
    if kind is not None:
        statement = statement.where(Partner.kind == kind)
    if status is not None:
        statement = statement.where(Partner.status == status)
    return fetch_page(session, statement, Partner.id, params)


def _set_status(session: Session, actor: Principal, partner_id: str, status: PartnerStatus) -> Partner:
    partner = get_partner(session, partner_id)
    if partner.status == status:
        return partner  # already there: nothing to change, nothing to record
    partner.status = status
    session.add(partner)
    session.flush()
    ACCESS_MANAGEMENT.record(
        session,
        actor,
        "partner.suspended" if status == PartnerStatus.suspended else "partner.reactivated",
        {"partner_id": partner.id},
    )
    return partner


def suspend_partner(session: Session, actor: Principal, partner_id: str) -> Partner:
    """Every key of a suspended partner is refused (403 ``partner_suspended``) until it is reactivated."""
    return _set_status(session, actor, partner_id, PartnerStatus.suspended)


def reactivate_partner(session: Session, actor: Principal, partner_id: str) -> Partner:
    return _set_status(session, actor, partner_id, PartnerStatus.active)


# --- scopes -----------------------------------------------------------------------------------------


def allowed_scopes(kind: PartnerKind) -> frozenset[str]:
    return ALLOWED_SCOPES[kind]


def default_scopes(kind: PartnerKind) -> frozenset[str]:
    return DEFAULT_SCOPES[kind]


def resolve_scopes(kind: PartnerKind, requested: list[str] | None, param: str = "scopes") -> list[str]:
    """The kind's defaults when nothing is asked for; otherwise the request, if the kind allows all of it."""
    if requested is None:
        return sorted(default_scopes(kind))
    if not requested:
        raise InvalidInput(
            f"{param}: give at least one scope, or leave it out for the defaults of a {kind.value}.",
            code="invalid_scopes",
            param=param,
        )
    allowed = allowed_scopes(kind)
    refused = sorted(set(requested) - allowed)
    if refused:
        raise InvalidInput(
            f"{param}: a {kind.value} may not have {', '.join(refused)}; allowed: {', '.join(sorted(allowed))}.",
            code="scope_not_allowed",
            param=param,
            extra={"allowed_scopes": sorted(allowed)},
        )
    return sorted(set(requested))


# --- API keys ---------------------------------------------------------------------------------------


def _new_prefix(session: Session) -> str:
    # 40 random bits: a clash is rare, but the column is unique, so look before using one.
    for _ in range(5):
        prefix = API_KEY_PREFIX + "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(_PREFIX_LENGTH))
        if session.exec(select(ApiKey.id).where(ApiKey.prefix == prefix)).first() is None:
            return prefix
    raise RuntimeError("could not find a free API key prefix")  # pragma: no cover


def create_api_key(
    session: Session,
    actor: Principal,
    partner_id: str,
    name: str = "default",
    scopes: list[str] | None = None,
) -> IssuedApiKey:
    """Create a key; the returned ``secret`` is the only copy of it there will ever be."""
    partner = get_partner(session, partner_id)
    key_name = _clean_name(name, "name", 100)
    granted = resolve_scopes(kind_of(partner), scopes)
    if partner.status != PartnerStatus.active:
        raise Conflict(
            "This partner is suspended; reactivate it before issuing keys.",
            code="partner_suspended",
            param="partner_id",
        )
    prefix = _new_prefix(session)
    secret = f"{prefix}_{random_token(_SECRET_BYTES)}"
    api_key = ApiKey(
        partner_id=partner.id,
        name=key_name,
        prefix=prefix,
        secret_hash=sha256_hex(secret),
        scopes=granted,
        created_by=actor.actor_id,
    )
    session.add(api_key)
    session.flush()
    ACCESS_MANAGEMENT.record(
        session,
        actor,
        "api_key.created",
        {"partner_id": partner.id, "api_key_id": api_key.id, "scopes": granted},
    )
    return IssuedApiKey(api_key=api_key, secret=secret)


def list_api_keys(session: Session, partner_id: str, params: PageParams) -> tuple[list[ApiKey], bool]:
    partner = get_partner(session, partner_id)
    return fetch_page(session, select(ApiKey).where(ApiKey.partner_id == partner.id), ApiKey.id, params)


def get_api_key(session: Session, key_id: str, partner_id: str | None = None) -> ApiKey:
    api_key = session.get(ApiKey, key_id)
    if api_key is None or (partner_id is not None and api_key.partner_id != partner_id):
        raise NotFound("No API key with this id.", code="api_key_not_found", param="key_id")
    return api_key


def revoke_api_key(session: Session, actor: Principal, key_id: str, partner_id: str | None = None) -> ApiKey:
    """Revoke at once. Revoking a revoked key changes nothing and returns it as it is."""
    api_key = get_api_key(session, key_id, partner_id)
    if api_key.revoked_at is not None:
        return api_key
    api_key.revoked_at = utcnow()
    session.add(api_key)
    session.flush()
    ACCESS_MANAGEMENT.record(
        session, actor, "api_key.revoked", {"partner_id": api_key.partner_id, "api_key_id": api_key.id}
    )
    return api_key


def prefix_of(key: str) -> str | None:
    """The visible prefix of a well-formed key (``xyk_3F9K2M7Q``), None for anything else."""
    match = _KEY_SHAPE.fullmatch(key)
    return match.group(1) if match else None


# Built once: every verification runs it (app.core.db).
_KEY_AND_PARTNER: Any = (
    sa_select(
        col(ApiKey.id).label("key_id"),
        col(ApiKey.secret_hash),
        col(ApiKey.scopes),
        col(ApiKey.last_used_at),
        col(ApiKey.revoked_at),
        col(Partner.id).label("partner_id"),
        col(Partner.kind).label("partner_kind"),
        col(Partner.status).label("partner_status"),
    )
    .join_from(ApiKey, Partner, col(ApiKey.partner_id) == col(Partner.id))
    .where(col(ApiKey.prefix) == bindparam("prefix"))
)


def principal_from_api_key(session: Session, key: str) -> Principal:
    """The partner calling with ``key``, read with the key in one statement (plain columns: nothing
    here is changed through the ORM); the key's use is recorded."""
    prefix = prefix_of(key)
    found = session.execute(_KEY_AND_PARTNER, {"prefix": prefix}).first() if prefix is not None else None
    # The revocation is told only to someone holding the whole key, not to someone who saw a prefix.
    if found is None or not constant_time_equal(found.secret_hash, sha256_hex(key)):
        raise _unauthenticated("Unknown API key.", "invalid_api_key")
    if found.revoked_at is not None:
        raise _unauthenticated("This API key was revoked.", "api_key_revoked")
    if found.partner_status != PartnerStatus.active:
        raise Forbidden("This partner is suspended.", code="partner_suspended")
    _touch(session, found.key_id, found.last_used_at)
    return Principal(
        type="partner",
        id=found.partner_id,
        partner_kind=PartnerKind(found.partner_kind).value,
        scopes=frozenset(found.scopes),
    )


def _touch(session: Session, key_id: str, last_used_at: datetime | None) -> None:
    """Record the use, at most once per ``LAST_USED_RESOLUTION``. The row is claimed with SKIP LOCKED
    (PostgreSQL; SQLite ignores it) so concurrent requests with one key never wait for each other."""
    now = utcnow()
    cutoff = now - LAST_USED_RESOLUTION
    if last_used_at is not None and last_used_at > cutoff:
        return
    stale = (
        select(ApiKey.id)
        .where(ApiKey.id == key_id, col(ApiKey.last_used_at).is_(None) | (col(ApiKey.last_used_at) <= cutoff))
        .with_for_update(skip_locked=True)
    )
    session.execute(
        update(ApiKey)
        .where(col(ApiKey.id).in_(stale.scalar_subquery()))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )


def caller_api_key(session: Session, principal: Principal, key: str) -> ApiKey:
    """The key an authenticated partner is calling with (for ``GET /v1/partner/me``)."""
    prefix = prefix_of(key)
    api_key = (
        session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first() if prefix is not None else None
    )
    if api_key is None or api_key.partner_id != principal.id:
        raise _unauthenticated("Unknown API key.", "invalid_api_key")
    return api_key
