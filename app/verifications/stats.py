"""Scenario usage for the public statistics page (``GET /v1/stats/scenarios``): scans and eligible
decisions by scenario and by month (China Standard Time), online and offline together. Aggregates only:
no figure names a resident, a pass or a partner. A partner's own scans per day are shown only to its
members (:func:`for_partner`)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import case, func, select
from sqlmodel import Session, col

from app.core.dates import DateRange
from app.core.db import SessionDep
from app.core.idempotency import AppRoute
from app.core.months import FIRST_COLUMN, china_day, china_month
from app.scenarios.catalog import Catalog, CatalogDep
from app.verifications.models import Verification

router = APIRouter(route_class=AppRoute, tags=["verifications"])


class Usage(BaseModel):
    scans: int
    eligible: int


class ScenarioUsage(Usage):
    scenario: str
    name_zh: str
    name_en: str


class MonthUsage(BaseModel):
    month: str  # YYYY-MM, China Standard Time
    by_scenario: list[ScenarioUsage]


class ScenarioStatisticsOut(BaseModel):
    object: Literal["scenario_statistics"] = "scenario_statistics"
    totals: Usage
    by_scenario: list[ScenarioUsage]
    by_month: list[MonthUsage]


def compute(session: Session, catalog: Catalog) -> ScenarioStatisticsOut:
    """Every scenario of the catalog appears (with zeros if unused), in catalog order; scenarios retired
    from the catalog but still scanned in the past follow under their id."""
    month = china_month(session, col(Verification.created_at))
    eligible = func.sum(case((col(Verification.decision) == "eligible", 1), else_=0))
    rows = session.execute(
        select(month, col(Verification.scenario), func.count(), eligible).group_by(
            FIRST_COLUMN, col(Verification.scenario)
        )
    ).all()
    months: dict[str, dict[str, Usage]] = {}
    totals: dict[str, Usage] = {sid: Usage(scans=0, eligible=0) for sid in catalog}
    for key, scenario, scans, yes in rows:
        months.setdefault(key, {})[scenario] = Usage(scans=int(scans), eligible=int(yes or 0))
        total = totals.setdefault(scenario, Usage(scans=0, eligible=0))
        total.scans += int(scans)
        total.eligible += int(yes or 0)

    def named(scenario: str, usage: Usage) -> ScenarioUsage:
        known = catalog.get(scenario)
        return ScenarioUsage(
            scenario=scenario,
            name_zh=known.name_zh if known else scenario,
            name_en=known.name_en if known else scenario,
            scans=usage.scans,
            eligible=usage.eligible,
        )

    return ScenarioStatisticsOut(
        totals=Usage(
            scans=sum(u.scans for u in totals.values()), eligible=sum(u.eligible for u in totals.values())
        ),
        by_scenario=[named(sid, usage) for sid, usage in totals.items()],
        by_month=[
            MonthUsage(
                month=key, by_scenario=[named(sid, usage) for sid, usage in sorted(months[key].items())]
            )
            for key in sorted(months)
        ],
    )


@router.get("/v1/stats/scenarios")
def scenario_statistics(session: SessionDep, catalog: CatalogDep) -> ScenarioStatisticsOut:
    """Scans and eligible decisions by scenario and by month (China Standard Time). Public: aggregates only."""
    return compute(session, catalog)


# --- one partner's scans, for its members' console ---------------------------------------------------------


class RatedUsage(Usage):
    eligible_rate: float | None = Field(description="eligible / scans, 4 decimals; null without scans.")


class PartnerScenarioUsage(RatedUsage):
    scenario: str
    name_zh: str
    name_en: str


class DayUsage(BaseModel):
    day: date  # business date in China
    scans: int
    eligible: int
    by_scenario: list[PartnerScenarioUsage]


class PartnerScanStatisticsOut(BaseModel):
    object: Literal["partner_scan_statistics"] = "partner_scan_statistics"
    partner_id: str
    date_from: date = Field(serialization_alias="from")
    date_to: date = Field(serialization_alias="to")
    totals: RatedUsage
    by_scenario: list[PartnerScenarioUsage]
    by_day: list[DayUsage]


def _rate(scans: int, eligible: int) -> float | None:
    return round(eligible / scans, 4) if scans else None


def for_partner(
    session: Session, catalog: Catalog, partner_id: str, days: DateRange
) -> PartnerScanStatisticsOut:
    """The partner's scans per business day (every day of the range, zeros included) and its eligible rate
    per scenario it scanned for, online and offline together."""
    day = china_day(session, col(Verification.created_at))
    eligible = func.sum(case((col(Verification.decision) == "eligible", 1), else_=0))
    rows = session.execute(
        select(day, col(Verification.scenario), func.count(), eligible)
        .where(
            col(Verification.partner_id) == partner_id,
            col(Verification.created_at) >= days.starts_at,
            col(Verification.created_at) < days.ends_before,
        )
        .group_by(FIRST_COLUMN, col(Verification.scenario))
    ).all()
    by_day: dict[str, dict[str, tuple[int, int]]] = {}
    totals: dict[str, tuple[int, int]] = {}
    for key, scenario, scans, yes in rows:
        by_day.setdefault(key, {})[scenario] = (int(scans), int(yes or 0))
        before = totals.get(scenario, (0, 0))
        totals[scenario] = (before[0] + int(scans), before[1] + int(yes or 0))

    def named(scenario: str, usage: tuple[int, int]) -> PartnerScenarioUsage:
        known = catalog.get(scenario)
        return PartnerScenarioUsage(
            scenario=scenario,
            name_zh=known.name_zh if known else scenario,
            name_en=known.name_en if known else scenario,
            scans=usage[0],
            eligible=usage[1],
            eligible_rate=_rate(*usage),
        )

    scans, yes = sum(u[0] for u in totals.values()), sum(u[1] for u in totals.values())
    daily = []
    for when in days.days():
        usage = by_day.get(when.isoformat(), {})
        daily.append(
            DayUsage(
                day=when,
                scans=sum(u[0] for u in usage.values()),
                eligible=sum(u[1] for u in usage.values()),
                by_scenario=[named(sid, u) for sid, u in sorted(usage.items())],
            )
        )
    return PartnerScanStatisticsOut(
        partner_id=partner_id,
        date_from=days.first,
        date_to=days.last,
        totals=RatedUsage(scans=scans, eligible=yes, eligible_rate=_rate(scans, yes)),
        by_scenario=[named(sid, u) for sid, u in sorted(totals.items())],
        by_day=daily,
    )
