"""``/v1/scenarios``: the public catalog. Anyone may read what each scenario asks and grants."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.core.errors import NotFound
from app.core.idempotency import AppRoute
from app.scenarios.catalog import CatalogDep
from app.scenarios.schema import Scenario
from app.scenarios.schemas import ScenarioList, ScenarioOut

router = APIRouter(route_class=AppRoute, tags=["scenarios"])

_CACHE = "public, max-age=300"


def _out(scenario: Scenario) -> ScenarioOut:
    return ScenarioOut.model_validate(scenario.model_dump())


@router.get("/v1/scenarios")
def list_scenarios(catalog: CatalogDep, response: Response) -> ScenarioList:
    """Every scenario, in id order: the minimum level, list rules, benefit and who may verify it. Public."""
    response.headers["Cache-Control"] = _CACHE
    return ScenarioList(data=[_out(s) for s in catalog.values()])


@router.get("/v1/scenarios/{scenario_id}")
def get_scenario(scenario_id: str, catalog: CatalogDep, response: Response) -> ScenarioOut:
    scenario = catalog.get(scenario_id)
    if scenario is None:
        raise NotFound("No scenario with this id.", code="unknown_scenario", param="scenario_id")
    response.headers["Cache-Control"] = _CACHE
    return _out(scenario)
