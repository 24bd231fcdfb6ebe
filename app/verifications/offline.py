"""Reconciling offline codes that a partner's SDK accepted without the platform, once it is back online.

Each reported item is checked on its own (signature with any key the platform ever had, times against
the moment of use, the scenario and this partner's kind), in its own savepoint: a refused item leaves
nothing behind and does not stop the others. An accepted item becomes a verification (mode ``offline``),
audited on the subject's chain and shown to the resident like any scan. The first use of a code claims
it (also in the store, so it cannot then be scanned online); a later use by anyone is recorded too, but
flagged, with the earlier uses, for operators. The same item reported again by the same partner (an SDK
retry) is recognised as a duplicate and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select, update

from app.core.clock import utcnow
from app.core.errors import AppError, InvalidInput
from app.core.principal import Principal
from app.core.store import KeyValueStore
from app.passes import service as passes_service
from app.passes import tokens
from app.passes.tokens import TokenRefused
from app.scenarios.catalog import Catalog
from app.scenarios.service import Evaluation
from app.signing.keyring import Keyring
from app.verifications import service
from app.verifications.models import Verification

MAX_ITEMS = 100


@dataclass(frozen=True)
class ReportItem:
    token: str
    scenario: str
    used_at: datetime


@dataclass(frozen=True)
class ItemOutcome:
    status: str  # recorded | flagged | duplicate | rejected
    verification: Verification | None = None
    code: str | None = None
    detail: str | None = None


def _one(
    session: Session,
    store: KeyValueStore,
    keyring: Keyring,
    catalog: Catalog,
    partner: Principal,
    item: ReportItem,
    now: datetime,
) -> ItemOutcome:
    used_at = item.used_at.astimezone(UTC)
    at = int(used_at.timestamp())
    if at > int(now.timestamp()) + tokens.LEEWAY_SECONDS:
        raise InvalidInput("used_at: lies in the future.", code="used_at_in_future", param="used_at")
    claims = tokens.read(session, keyring, item.token, now, at=at, any_known_key=True)
    if not claims.offline:
        raise TokenRefused(
            "An online pass cannot be accepted offline; it has no scenario.", "token_online_only"
        )
    scenario = service.scenario_for(catalog, partner, item.scenario)
    if claims.scenario != scenario.id:
        raise TokenRefused(
            f"This offline code is for {claims.scenario}, not {scenario.id}.", "token_scenario_mismatch"
        )
    code = passes_service.by_handle(session, claims.handle)
    if code is None:
        raise TokenRefused("This offline code is unknown.", "pass_not_found")
    earlier = session.exec(
        select(Verification).where(
            Verification.pass_id == code.id,
            Verification.partner_id == partner.id,
            col(Verification.used_at) == used_at,
        )
    ).first()
    if earlier is not None:
        return ItemOutcome("duplicate", earlier)
    first = passes_service.mark_used(session, code, used_at)
    remaining = claims.expires + tokens.LEEWAY_SECONDS - int(now.timestamp())
    if remaining > 0:
        store.set_if_absent(f"pass:{claims.handle}", partner.id, remaining)
    if not first:
        session.execute(
            update(Verification)
            .where(col(Verification.pass_id) == code.id)
            .values(flagged=True)
            .execution_options(synchronize_session=False)
        )
    verification = service.record(
        session,
        partner,
        subject_id=code.subject_id,
        pass_id=code.id,
        scenario=scenario,
        evaluation=Evaluation("eligible", "offline_code", scenario.benefit.terms()),
        mode="offline",
        now=now,
        used_at=used_at,
        flagged=not first,
    )
    session.flush()
    return ItemOutcome("recorded" if first else "flagged", verification)


def reconcile(
    session: Session,
    store: KeyValueStore,
    keyring: Keyring,
    catalog: Catalog,
    partner: Principal,
    items: list[ReportItem],
    now: datetime | None = None,
) -> list[ItemOutcome]:
    now = now or utcnow()
    outcomes = []
    for item in items:
        try:
            with session.begin_nested():
                outcomes.append(_one(session, store, keyring, catalog, partner, item, now))
        except AppError as exc:
            outcomes.append(ItemOutcome("rejected", code=exc.code, detail=exc.detail))
    return outcomes
