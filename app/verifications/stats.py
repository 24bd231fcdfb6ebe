"""Scenario usage for the public statistics page (``GET /v1/stats/scenarios``): scans and eligible
decisions by scenario and by month (China Standard Time), online and offline together. Aggregates only:
no figure names a resident, a pass or a partner."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import case, func, select
from sqlmodel import Session, col

from app.core.db import SessionDep
from app.core.idempotency import AppRoute
from app.core.months import FIRST_COLUMN, china_month
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
