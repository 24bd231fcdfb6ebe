"""The scenario rule: is this subject eligible for this scenario now, and for what benefit.

The rule itself (:func:`evaluate`) is a pure function of the scenario and the subject's *current*
standing, so it reads the same in a verification, an offline-code issuance and a 信易贷 match. The
standing comes from the records (black list in force) and the stored score (level, red list, defaults).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlmodel import Session

from app.records import service as records_service
from app.scenarios.schema import LEVEL_RANK, Scenario
from app.scoring import service as scoring_service
from app.scoring.model import RED_LIST

Decision = Literal["eligible", "not_eligible"]

# Every decision carries one reason code with a label a person can read (DESIGN.md, "Domain facts").
# The partner gets the code; it never gets the score or the level behind it.
REASONS: dict[str, tuple[str, str]] = {
    "level_met": ("信用等级达到场景要求", "Credit level meets the scenario's requirement"),
    "red_list": ("守信红名单主体，适用降低的门槛", "Red-listed: the lower threshold applies"),
    "offline_code": ("离线信用码，签发时符合条件", "Offline code, eligible when issued"),
    "level_too_low": ("信用等级未达到场景要求", "Credit level below the scenario's requirement"),
    "restricted": ("主体当前受失信联合惩戒限制", "Subject currently restricted (joint punishment)"),
    "open_default": ("存在未了结的信易租违约", "A deposit-free rental default is on file"),
    "pass_revoked": ("信用码已被持有人作废", "The pass was revoked by its holder"),
}

# A score reason code that means a deposit-free rental default still counts against the subject.
_DEFAULT_REASON_PREFIX = "platform_rental.defaulted"


@dataclass(frozen=True)
class Standing:
    """What the rule needs to know about a subject, read at the moment of the decision."""

    level: str
    blocked: bool
    red_listed: bool
    open_default: bool


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    reason: str
    benefit: dict[str, Any] | None

    @property
    def eligible(self) -> bool:
        return self.decision == "eligible"


def reason_labels(code: str) -> dict[str, str]:
    zh, en = REASONS.get(code, (code, code))
    return {"zh": zh, "en": en}


def subject_standing(session: Session, subject_id: str) -> Standing:
    """The black list in force (the lists themselves, not the stored score) and the stored score's
    level, red list and defaults on file."""
    blocked = records_service.is_blocked(session, subject_id)
    current = scoring_service.headline(session, subject_id)
    return Standing(
        level=current.level,
        blocked=blocked or current.blocked,
        red_listed=RED_LIST in current.reason_codes,
        open_default=any(code.startswith(_DEFAULT_REASON_PREFIX) for code in current.reason_codes),
    )


def _not_eligible(reason: str) -> Evaluation:
    return Evaluation("not_eligible", reason, None)


def evaluate(scenario: Scenario, standing: Standing) -> Evaluation:
    """Checks in a fixed order; the first that refuses gives the reason."""
    rule = scenario.eligibility
    if standing.blocked:  # rule.black_list is always "refuse"
        return _not_eligible("restricted")
    if standing.open_default and rule.open_default == "refuse":
        return _not_eligible("open_default")
    rank = LEVEL_RANK.get(standing.level, -1)
    if rank >= LEVEL_RANK[rule.min_level]:
        return Evaluation("eligible", "level_met", scenario.benefit.terms())
    if (
        standing.red_listed
        and rule.red_list_min_level is not None
        and rank >= LEVEL_RANK[rule.red_list_min_level]
    ):
        return Evaluation("eligible", "red_list", scenario.benefit.terms())
    return _not_eligible("level_too_low")


def revoked() -> Evaluation:
    return _not_eligible("pass_revoked")
