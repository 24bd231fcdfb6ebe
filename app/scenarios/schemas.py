"""A scenario: the shape every file in ``scenarios/`` must follow (a file that does not stops start-up),
and the shapes the API gives scenarios in.

One file is one scenario: who may verify it (partner kinds), the minimum credit level, the list rules
(the black list always refuses; the red list may lower the minimum), what an open default does, the
benefit, and whether it is low-value enough for pre-issued offline codes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.partners.models import PartnerKind

Level = Literal["AAA", "AA", "A", "B", "C", "D"]
# Lowest first: a level satisfies a minimum when its rank is at least the minimum's.
LEVEL_RANK: dict[str, int] = {"D": 0, "C": 1, "B": 2, "A": 3, "AA": 4, "AAA": 5}

ScenarioId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{2,39}$")]
ItemKind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Fen = Annotated[int, Field(gt=0, le=100_000_000_00)]  # money is integer fen; at most 100 million yuan

MAX_OFFLINE_HOURS = 24


class _Strict(BaseModel):
    # A typo in a file (``min_levle``) must stop start-up, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Eligibility(_Strict):
    min_level: Level = Field(description="The lowest credit level that qualifies.")
    red_list_min_level: Level | None = Field(
        default=None, description="A red-listed subject qualifies from this level; absent: no red-list rule."
    )
    black_list: Literal["refuse"] = Field(
        default="refuse",
        description="Always refuse: a black-listed subject is refused everywhere (一处失信、处处受限).",
    )
    open_default: Literal["refuse", "ignore"] = Field(
        description="refuse: a subject with a rental default on file is not eligible; ignore: it does not matter."
    )

    @field_validator("red_list_min_level")
    @classmethod
    def _red_list_only_lowers(cls, value: str | None, info: ValidationInfo) -> str | None:
        minimum = info.data.get("min_level")
        if value is not None and minimum is not None and LEVEL_RANK[value] > LEVEL_RANK[minimum]:
            raise ValueError(f"may lower the minimum ({minimum}), never raise it")
        return value


BenefitType = Literal["deposit_waiver", "pay_later", "discount", "priority_service", "loan_referral"]

# What each kind of benefit must state; everything else it may not.
_BENEFIT_FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "deposit_waiver": ({"waived_deposit_fen"}, {"max_items"}),
    "pay_later": ({"credit_limit_fen"}, {"free_minutes"}),
    "discount": ({"discount_percent"}, {"waived_deposit_fen"}),
    "priority_service": ({"services"}, set()),
    "loan_referral": ({"max_amount_fen"}, set()),
}
_TERMS = (
    "waived_deposit_fen",
    "max_items",
    "credit_limit_fen",
    "free_minutes",
    "discount_percent",
    "services",
    "max_amount_fen",
)


class Benefit(_Strict):
    type: BenefitType
    zh: Label
    en: Label
    waived_deposit_fen: dict[ItemKind, Fen] | None = Field(
        default=None, description="Deposit waived, in fen, per kind of item (power_bank, bike, …)."
    )
    max_items: int | None = Field(default=None, ge=1, le=100, description="Items at once.")
    credit_limit_fen: Fen | None = Field(default=None, description="How much may be paid afterwards, in fen.")
    free_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    discount_percent: int | None = Field(default=None, ge=1, le=90, description="Percent off the price.")
    services: list[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]] | None = Field(
        default=None, min_length=1
    )
    max_amount_fen: Fen | None = Field(
        default=None, description="Largest loan a referral can lead to, in fen."
    )

    @model_validator(mode="after")
    def _terms_match_type(self) -> Benefit:
        required, optional = _BENEFIT_FIELDS[self.type]
        given = {name for name in _TERMS if getattr(self, name) is not None}
        missing = sorted(required - given)
        if missing:
            raise ValueError(f"a {self.type} benefit needs {', '.join(missing)}")
        extra = sorted(given - required - optional)
        if extra:
            raise ValueError(f"a {self.type} benefit cannot have {', '.join(extra)}")
        if self.waived_deposit_fen is not None and not self.waived_deposit_fen:
            raise ValueError("waived_deposit_fen needs at least one item kind")
        return self

    def terms(self) -> dict[str, Any]:
        """What a partner is told when the decision is eligible: only the terms that are set."""
        return self.model_dump(exclude_none=True)


class Scenario(_Strict):
    id: ScenarioId = Field(description="Stable id; equals the file name without .toml.")
    version: int = Field(ge=1, description="Raised whenever the rule or the benefit changes.")
    name_zh: Label
    name_en: Label
    description_zh: Label
    description_en: Label
    partner_kinds: list[PartnerKind] = Field(
        min_length=1, description="Which kinds of partner may verify a pass for this scenario."
    )
    low_value: bool = Field(
        description="Low-value benefits may be granted offline with pre-issued codes; high-value ones always "
        "need the online check."
    )
    offline_max_hours: int | None = Field(
        default=None,
        ge=1,
        le=MAX_OFFLINE_HOURS,
        validate_default=True,
        description="Lifetime of an offline code (low-value only).",
    )
    decision_ttl_seconds: int = Field(
        default=600, ge=60, le=3600, description="How long an eligible decision may be acted on."
    )
    eligibility: Eligibility
    benefit: Benefit

    @field_validator("partner_kinds")
    @classmethod
    def _each_kind_once(cls, value: list[PartnerKind]) -> list[PartnerKind]:
        if len(set(value)) != len(value):
            raise ValueError("lists a kind twice")
        return value

    @field_validator("offline_max_hours")
    @classmethod
    def _offline_only_when_low_value(cls, value: int | None, info: ValidationInfo) -> int | None:
        low_value = info.data.get("low_value")
        if low_value and value is None:
            raise ValueError("required when low_value is true")
        if low_value is False and value is not None:
            raise ValueError("only low_value scenarios have offline codes")
        return value


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
