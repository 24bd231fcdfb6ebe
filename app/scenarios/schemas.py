from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from app.scenarios.schema import Scenario


class ScenarioOut(Scenario):
    """A scenario as published: exactly its catalog file, plus the object type."""

    object: Literal["scenario"] = "scenario"


class ScenarioList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ScenarioOut]
    has_more: bool = False
