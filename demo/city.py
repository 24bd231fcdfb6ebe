"""``xinyi demo load``: the demo city of ``city.toml``, loaded through the services. Safe to load again: it
finds what exists.

The identifiers go through the same checks as production's (a wrong check character stops the load).
Partner API keys are stored hashed and cannot be shown again, so each load revokes the previous demo keys
and prints fresh ones.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.core import config
from app.core.clock import add_months, business_date
from app.core.principal import Principal
from app.core.security import Crypto
from app.enterprises import service as enterprises_service
from app.enterprises.models import Enterprise
from app.loans import products as loan_products
from app.loans.models import LoanProduct
from app.partners import places
from app.partners import service as partners_service
from app.partners.models import ApiKey, Partner, PartnerKind
from app.records import service as records_service
from app.scenarios.catalog import load_catalog
from demo import rentals as demo_rentals

CITY = Path(__file__).resolve().parent / "city.toml"
DEMO_KEY_NAME = "demo"
LOADER = Principal(type="system", id="demo-loader")


@dataclass(frozen=True)
class DemoResident:
    phone: str
    name: str
    id_number: str
    note: str


@cache
def city() -> dict[str, Any]:
    with CITY.open("rb") as handle:
        return tomllib.load(handle)


def residents() -> list[DemoResident]:
    return [DemoResident(**resident) for resident in city()["residents"]]


def staff() -> list[tuple[str, str]]:
    return [(member["phone"], member["role"]) for member in city()["staff"]]


def demo_records(today: date) -> list[dict[str, Any]]:
    """The records of ``city.toml`` as the market regulator's batch, dated relative to ``today``."""
    people = residents()
    rows = []
    for entry in city()["records"]:
        row = {k: v for k, v in entry.items() if k not in {"resident", "enterprise", "months_ago"}}
        row.pop("conduct_ended_months_ago", None)
        if "resident" in entry:
            row["id_number"] = people[entry["resident"]].id_number
        if entry.get("enterprise"):
            row["uscc"] = city()["enterprise"]["uscc"]
        row["decision_date"] = add_months(today, -entry["months_ago"]).isoformat()
        if "conduct_ended_months_ago" in entry:
            row["conduct_end_date"] = add_months(today, -entry["conduct_ended_months_ago"]).isoformat()
        rows.append(row)
    return rows


@dataclass
class DemoSummary:
    residents: list[tuple[DemoResident, str]]
    staff: list[tuple[str, str]]
    enterprise: tuple[str, str, str]
    partner_keys: list[tuple[str, str, str, str]]  # name, kind, partner id, secret
    rentals: list[demo_rentals.DemoRental] = field(default_factory=list)


def load(session: Session, crypto: Crypto) -> DemoSummary:
    loaded = []
    for resident in residents():
        user = accounts_service.get_or_create_user_by_phone(session, crypto, resident.phone)
        if user.subject_id is None:
            accounts_service.bind_identity(session, crypto, user.id, resident.name, resident.id_number)
        loaded.append((resident, user.id))

    for phone, role in staff():
        user = accounts_service.get_or_create_user_by_phone(session, crypto, phone)
        if role not in user.roles:
            user.roles = sorted({*user.roles, role})
            session.add(user)

    name, uscc, admin_phone = (city()["enterprise"][k] for k in ("name", "uscc", "admin_phone"))
    enterprise = session.exec(select(Enterprise).where(Enterprise.uscc == uscc)).first()
    if enterprise is None:
        admin = session.exec(select(User).where(User.phone_hash == crypto.phone_hash(admin_phone))).one()
        actor = Principal(type="user", id=admin.id, subject_id=admin.subject_id)
        enterprise = enterprises_service.register(session, actor, name, uscc)

    keys = [_load_partner(session, crypto, entry) for entry in city()["partners"]]
    session.flush()
    rentals = _demo_rentals(session, crypto, loaded)
    return DemoSummary(loaded, staff(), (name, uscc, enterprise.id), keys, rentals)


def _load_partner(session: Session, crypto: Crypto, entry: dict[str, Any]) -> tuple[str, str, str, str]:
    """The partner (created once), its place, a fresh demo key, and what it brings: the regulator's
    records, a bank's loan product."""
    partner_name, kind = entry["name"], PartnerKind(entry["kind"])
    partner = session.exec(select(Partner).where(Partner.name == partner_name)).first()
    if partner is None:
        partner = partners_service.create_partner(session, LOADER, name=partner_name, kind=kind)
    if "place" in entry:
        places.set_profile(session, LOADER, partner.id, dict(entry["place"]), load_catalog())
    old_keys = select(ApiKey).where(
        ApiKey.partner_id == partner.id, ApiKey.name == DEMO_KEY_NAME, col(ApiKey.revoked_at).is_(None)
    )
    for old in session.exec(old_keys).all():
        partners_service.revoke_api_key(session, LOADER, old.id, partner.id)
    issued = partners_service.create_api_key(session, LOADER, partner.id, name=DEMO_KEY_NAME)
    if kind is PartnerKind.data_provider:
        provider = Principal(type="partner", id=partner.id, partner_kind=kind.value)
        result = records_service.submit_batch(session, crypto, provider, demo_records(business_date()))
        if result.errors:  # the demo's own data is wrong: say so rather than load half a story
            raise RuntimeError(f"demo records refused: {[(e.row, e.field, e.code) for e in result.errors]}")
    if "product" in entry:
        _demo_product(session, partner, entry["product"])
    return partner_name, kind.value, partner.id, issued.secret


def _demo_rentals(
    session: Session, crypto: Crypto, loaded: list[tuple[DemoResident, str]]
) -> list[demo_rentals.DemoRental]:
    merchant = session.exec(select(Partner).where(Partner.name == city()["partners"][0]["name"])).one()
    users = [session.get(User, user_id) for _, user_id in loaded]
    subjects = [(r.name, u.subject_id) for (r, _), u in zip(loaded, users, strict=True) if u and u.subject_id]
    actor = Principal(type="partner", id=merchant.id, partner_kind=merchant.kind)
    return demo_rentals.load(session, crypto, config.get_settings(), actor, subjects)


def _demo_product(session: Session, partner: Partner, rates: dict[str, int]) -> None:
    if session.exec(select(LoanProduct.id).where(LoanProduct.partner_id == partner.id)).first() is not None:
        return
    bank = Principal(type="partner", id=partner.id, partner_kind="bank")
    loan_products.create(session, bank, {**city()["product"], "name": f"{partner.name}·小微信用贷", **rates})
