"""A partner's public face, for residents ("where can I use it"): display name, district, address and the
scenarios it offers. Set by operators; public once a display name is set and while the partner is active."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, col, select

from app.core.errors import InvalidInput
from app.core.principal import Principal
from app.partners.models import Partner, PartnerStatus
from app.partners.service import ACCESS_MANAGEMENT, get_partner, kind_of
from app.scenarios.schemas import Scenario

_LIMITS = {"display_name": 100, "district": 50, "address": 200}


def _text(field: str, raw: str | None) -> str | None:
    if raw is None:
        return None
    value = raw.strip()
    if not value:
        raise InvalidInput(
            f"{field}: must not be blank (send null to clear it).", code="invalid_text", param=field
        )
    if len(value) > _LIMITS[field]:
        raise InvalidInput(f"{field}: at most {_LIMITS[field]} characters.", code="invalid_text", param=field)
    return value


def set_profile(
    session: Session,
    actor: Principal,
    partner_id: str,
    changes: Mapping[str, Any],
    catalog: Mapping[str, Scenario],
) -> Partner:
    """Change the fields present in ``changes``. Each offered scenario must exist and be one the
    partner's kind may verify; a partner is listed only with a display name, a district and an address."""
    partner = get_partner(session, partner_id)
    for field in ("display_name", "district", "address"):
        if field in changes:
            setattr(partner, field, _text(field, changes[field]))
    if "offered_scenarios" in changes:
        offered = list(dict.fromkeys(changes["offered_scenarios"] or []))
        for index, scenario_id in enumerate(offered):
            scenario = catalog.get(scenario_id)
            param = f"offered_scenarios.{index}"
            if scenario is None:
                raise InvalidInput(
                    f"{param}: no scenario {scenario_id!r}.", code="unknown_scenario", param=param
                )
            if kind_of(partner) not in scenario.partner_kinds:
                raise InvalidInput(
                    f"{param}: a {kind_of(partner).value} partner cannot offer {scenario_id}.",
                    code="scenario_not_allowed",
                    param=param,
                )
        partner.offered_scenarios = offered
    if partner.display_name and not (partner.district and partner.address):
        raise InvalidInput(
            "district: a listed partner needs a district and an address.",
            code="place_incomplete",
            param="district",
        )
    session.add(partner)
    session.flush()
    ACCESS_MANAGEMENT.record(
        session, actor, "partner.profile_changed", {"partner_id": partner.id, "fields": sorted(changes)}
    )
    return partner


def listed(session: Session) -> list[Partner]:
    """Active partners with a public face, by district then name."""
    statement = (
        select(Partner)
        .where(col(Partner.display_name).is_not(None), Partner.status == PartnerStatus.active)
        .order_by(col(Partner.district), col(Partner.display_name), col(Partner.id))
    )
    return list(session.exec(statement).all())
