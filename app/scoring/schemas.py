from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Language = Literal["zh", "en"]


class Labels(BaseModel):
    zh: str
    en: str


class ReasonOut(BaseModel):
    code: str = Field(description="Stable reason code: a factor key, cap.<dimension>, floor.<dimension>, …")
    dimension: str
    points: int = Field(description="Points this reason moved the score by (negative lowers it).")
    count: int = Field(description="How many records or list entries are behind it.")
    label: str = Field(description="In the language asked for (Accept-Language, zh by default).")
    labels: Labels


class DimensionOut(BaseModel):
    dimension: str
    label: str
    labels: Labels
    points: int
    weight: float | None = None
    max_positive: int | None = None
    max_negative: int | None = None
    reasons: list[ReasonOut]


class ImprovementOut(BaseModel):
    kind: Literal["repair", "expiry", "list_end", "headroom"]
    code: str
    points: int = Field(description="At most this many points back.")
    record_id: str | None = None
    list_entry_id: str | None = None
    available_from: date | None = Field(default=None, description="Credit repair may be asked from this day.")
    available_now: bool = False
    until: date | None = Field(default=None, description="It stops counting by itself on this day.")
    message: str
    messages: Labels


class ScoreOut(BaseModel):
    object: Literal["credit_score"] = "credit_score"
    subject_id: str
    score: int
    level: str
    level_label: str
    level_labels: Labels
    blocked: bool = Field(description="On a black list: level D and refused by every scenario.")
    model_version: str
    base: int
    min_score: int
    max_score: int
    computed_at: datetime
    language: Language
    breakdown: list[DimensionOut]
    top_reasons: list[ReasonOut]
    improvements: list[ImprovementOut] = Field(description="What would raise the score, and from when.")


class ScoreHistoryItem(BaseModel):
    id: str
    score: int
    level: str
    blocked: bool
    model_version: str
    top_reasons: list[str]
    trigger: str
    computed_at: datetime
