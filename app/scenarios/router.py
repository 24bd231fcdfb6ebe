"""``/v1/scenarios``: the public catalog. Anyone may read what each scenario asks and grants."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.core.db import SessionDep
from app.core.errors import NotFound
from app.core.idempotency import AppRoute
from app.deps import CurrentUser
from app.scenarios import schemas, service
from app.scenarios.catalog import CatalogDep

router = APIRouter(route_class=AppRoute, tags=["scenarios"])

_CACHE = "public, max-age=300"


def _out(scenario: schemas.Scenario) -> schemas.ScenarioOut:
    return schemas.ScenarioOut.model_validate(scenario.model_dump())


@router.get("/v1/scenarios")
def list_scenarios(catalog: CatalogDep, response: Response) -> schemas.ScenarioList:
    """Every scenario, in id order: the minimum level, list rules, benefit and who may verify it. Public."""
    response.headers["Cache-Control"] = _CACHE
    return schemas.ScenarioList(data=[_out(s) for s in catalog.values()])


@router.get("/v1/scenarios/{scenario_id}")
def get_scenario(scenario_id: str, catalog: CatalogDep, response: Response) -> schemas.ScenarioOut:
    scenario = catalog.get(scenario_id)
    if scenario is None:
        raise NotFound("No scenario with this id.", code="unknown_scenario", param="scenario_id")
    response.headers["Cache-Control"] = _CACHE
    return _out(scenario)


@router.get("/v1/me/scenarios")
def my_scenarios(user: CurrentUser, session: SessionDep, catalog: CatalogDep) -> schemas.MyScenarioList:
    """What your level unlocks: each scenario's decision for you now, with its reason and benefit."""
    if user.subject_id is None:
        raise NotFound("Bind your 身份证号 first (PUT /v1/me/identity).", code="identity_not_bound")
    standing = service.subject_standing(session, user.subject_id)
    data = []
    for scenario in catalog.values():
        evaluation = service.evaluate(scenario, standing)
        data.append(
            schemas.MyScenarioOut(
                scenario=schemas.ScenarioRef(
                    id=scenario.id,
                    names=schemas.Names(zh=scenario.name_zh, en=scenario.name_en),
                    min_level=scenario.eligibility.min_level,
                    low_value=scenario.low_value,
                ),
                eligible=evaluation.eligible,
                reason=evaluation.reason,
                reason_labels=schemas.Names(**service.reason_labels(evaluation.reason)),
                benefit=evaluation.benefit,
            )
        )
    return schemas.MyScenarioList(data=data)
