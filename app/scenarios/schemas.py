from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from app.scenarios.schema import Scenario


class ScenarioOut(Scenario):
    """A scenario as published: exactly its catalog file, plus the object type."""

    object: Literal["scenario"] = "scenario"


class ScenarioList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ScenarioOut]
    has_more: bool = False


class Names(BaseModel):
    zh: str
    en: str


class ScenarioRef(BaseModel):
    id: str
    names: Names
    min_level: str
    low_value: bool


class MyScenarioOut(BaseModel):
    """What your standing unlocks in one scenario today (the same rule a partner's scan applies)."""

    object: Literal["scenario_eligibility"] = "scenario_eligibility"
    scenario: ScenarioRef
    eligible: bool
    reason: str
    reason_labels: Names
    benefit: dict[str, Any] | None = Field(description="The benefit's terms when eligible.")


class MyScenarioList(BaseModel):
    object: Literal["list"] = "list"
    data: list[MyScenarioOut]
    has_more: bool = False
