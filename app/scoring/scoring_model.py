"""The published scoring model: a versioned TOML file in this package, validated when it is loaded.

``model_<version>.toml`` holds everything that decides a score (base, range, bands, dimensions with their
weights and caps, the points of each kind of record, the rule for disputed records). The engine reads
nothing else, so the file *is* the published model (``GET /v1/scoring/model``).
"""

from __future__ import annotations

import tomllib
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

ACTIVE_VERSION = "v1"
MODEL_DIR = Path(__file__).resolve().parent

# Reason codes that do not come from a factor: caps per dimension, the 0-1000 bounds.
ADJUSTMENT_DIMENSION = "adjustment"
SCORE_BOUNDS = "score_bounds"
RED_LIST = "red_list"
BLACK_LIST = "black_list"
BLACK_LIST_LEVEL = "D"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Strict):
    level: str = Field(min_length=1, max_length=4)
    min_score: int
    zh: str
    en: str


class Dimension(_Strict):
    zh: str
    en: str
    weight: float = Field(gt=0, le=5)
    max_positive: int = Field(ge=0)
    max_negative: int = Field(ge=0)
    raise_zh: str = ""
    raise_en: str = ""


class Factor(_Strict):
    dimension: str
    points: int = Field(ge=-1000, le=1000)
    zh: str
    en: str


class ScoringModel(_Strict):
    version: str = Field(pattern=r"^v\d+$")
    name_zh: str
    name_en: str
    effective_from: date
    base: int
    min_score: int
    max_score: int
    top_reasons: int = Field(ge=1, le=20)
    disputed_record_weight: float = Field(ge=0, le=1)
    black_list_ceiling: int
    bands: tuple[Band, ...]
    dimensions: dict[str, Dimension]
    factors: dict[str, Factor]

    @model_validator(mode="after")
    def _consistent(self) -> ScoringModel:
        if not self.min_score <= self.base <= self.max_score:
            raise ValueError("base must lie within [min_score, max_score]")
        floors = [band.min_score for band in self.bands]
        if floors != sorted(floors, reverse=True) or len(set(floors)) != len(floors):
            raise ValueError("bands must be listed from the highest min_score down, without ties")
        if not self.bands or self.bands[-1].min_score != self.min_score:
            raise ValueError("the lowest band must start at min_score")
        if len({band.level for band in self.bands}) != len(self.bands):
            raise ValueError("band levels must be unique")
        if self.band_for(self.black_list_ceiling).level != BLACK_LIST_LEVEL:
            raise ValueError(f"black_list_ceiling must fall in band {BLACK_LIST_LEVEL}")
        if ADJUSTMENT_DIMENSION in self.dimensions:
            raise ValueError(f"{ADJUSTMENT_DIMENSION!r} is reserved")
        for key, factor in self.factors.items():
            if factor.dimension not in self.dimensions:
                raise ValueError(f"factor {key!r} names unknown dimension {factor.dimension!r}")
        for required in (RED_LIST, BLACK_LIST):
            if required not in self.factors:
                raise ValueError(f"the model needs a {required!r} factor")
        return self

    def band_for(self, score: int) -> Band:
        for band in self.bands:
            if score >= band.min_score:
                return band
        return self.bands[-1]

    def band(self, level: str) -> Band:
        return next(band for band in self.bands if band.level == level)

    def labels(self, code: str) -> tuple[str, str]:
        """(zh, en) for any reason code the engine can produce."""
        factor = self.factors.get(code)
        if factor is not None:
            return factor.zh, factor.en
        kind, _, name = code.partition(".")
        dimension = self.dimensions.get(name)
        if kind == "cap" and dimension is not None:
            return (
                f"{dimension.zh}加分已达上限（{dimension.max_positive}分）",
                f"{dimension.en}: bonus capped at {dimension.max_positive} points",
            )
        if kind == "floor" and dimension is not None:
            return (
                f"{dimension.zh}扣分已达上限（{dimension.max_negative}分）",
                f"{dimension.en}: deductions capped at {dimension.max_negative} points",
            )
        if code == SCORE_BOUNDS:
            return (
                f"分数限定在{self.min_score}–{self.max_score}之间",
                f"Score kept within {self.min_score}–{self.max_score}",
            )
        return code, code

    def dimension_labels(self, name: str) -> tuple[str, str]:
        if name == ADJUSTMENT_DIMENSION:
            return "分数范围调整", "Range adjustment"
        dimension = self.dimensions[name]
        return dimension.zh, dimension.en


def load_model(path: Path) -> ScoringModel:
    with path.open("rb") as handle:
        return ScoringModel.model_validate(tomllib.load(handle))


@lru_cache
def get_model(version: str = ACTIVE_VERSION) -> ScoringModel:
    path = MODEL_DIR / f"model_{version}.toml"
    if not path.is_file():
        raise LookupError(f"no scoring model {version!r}")
    model = load_model(path)
    if model.version != version:
        raise ValueError(f"{path.name} declares version {model.version!r}")
    return model


def active_model() -> ScoringModel:
    return get_model(ACTIVE_VERSION)
