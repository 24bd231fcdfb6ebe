"""What a record can be: the categories of public credit information (the city's plan, 第二章 and
第三章第二节七), platform behaviour and public welfare, and the publicity rules of 失信 records.

Publicity of a 失信 record (DESIGN.md, "Domain facts"): minor at most 3 months; general 3 months to a year;
serious 1 to 3 years, counted from the decision. Credit repair may be asked after the minimum; publicity
stops at the maximum; negative information is kept at most 5 years from the end of the conduct
(:mod:`app.retention.rules`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from app.core.clock import add_months
from app.retention import rules as retention_rules


class Severity(StrEnum):
    minor = "minor"
    general = "general"
    serious = "serious"


class RecordStatus(StrEnum):
    active = "active"
    disputed = "disputed"  # an objection (异议) is open
    repaired = "repaired"  # credit repair (信用修复) approved: out of publicity and scoring
    expired = "expired"  # past its publicity or retention end
    withdrawn = "withdrawn"  # an objection (异议) was upheld and the record withdrawn: it never counts again


class ListType(StrEnum):
    red = "red"
    black = "black"


class ListStatus(StrEnum):
    active = "active"
    expired = "expired"
    removed = "removed"


PERSON = "person"
ENTERPRISE = "enterprise"
BOTH = frozenset({PERSON, ENTERPRISE})

# (minimum, maximum) publicity in months, from the decision date.
PUBLICITY_MONTHS: dict[Severity, tuple[int, int]] = {
    Severity.minor: (0, 3),
    Severity.general: (3, 12),
    Severity.serious: (12, 36),
}


@dataclass(frozen=True)
class Category:
    code: str
    zh: str
    en: str
    subject_kinds: frozenset[str] = BOTH
    # A 失信 category: every record needs a severity, which sets its publicity window.
    dishonest: bool = False
    # Outcome -> whether that outcome is 失信 (then it needs a severity too).
    outcomes: dict[str, bool] = field(default_factory=dict)
    grades: tuple[str, ...] = ()
    # How long a record that is not 失信 counts, in months from the decision; None: while it stands.
    counts_for_months: int | None = None
    # Platform behaviour is about someone the platform already knows: no subject is created for it.
    creates_subject: bool = True
    # Set for the two list categories: a row of this category is a red/black list entry, not a record.
    list_type: ListType | None = None

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # A category pickles (a file import's reader process) as a reference to the catalog's own.
        return category_by_code, (self.code,)


def category_by_code(code: str) -> Category:
    return CATEGORIES[code]


CATEGORIES: dict[str, Category] = {
    c.code: c
    for c in (
        Category("registration", "登记注册基本信息", "Registration"),
        Category("administrative_license", "行政许可", "Administrative licence", counts_for_months=36),
        Category("administrative_penalty", "行政处罚", "Administrative penalty", dishonest=True),
        Category("administrative_enforcement", "行政强制", "Administrative enforcement", dishonest=True),
        Category("honour", "诚实守信荣誉", "Honesty honour", counts_for_months=36),
        Category(
            "abnormal_operation",
            "经营异常名录",
            "List of abnormal operations",
            subject_kinds=frozenset({ENTERPRISE}),
            dishonest=True,
        ),
        Category("judicial_judgment", "司法裁判及执行", "Court judgment and enforcement", dishonest=True),
        Category("dishonest_judgment_debtor", "失信被执行人", "Dishonest judgment debtor", dishonest=True),
        Category(
            "contract_performance",
            "合同履行",
            "Contract performance",
            outcomes={"fulfilled": False, "breached": True},
            counts_for_months=24,
        ),
        Category(
            "credit_commitment",
            "信用承诺及履行",
            "Credit commitment",
            outcomes={"kept": False, "broken": True},
            counts_for_months=24,
        ),
        Category(
            "tax_credit_rating",
            "纳税信用等级",
            "Tax credit rating",
            subject_kinds=frozenset({ENTERPRISE}),
            grades=("A", "B", "M", "C", "D"),
            counts_for_months=12,
        ),
        Category(
            "credit_evaluation",
            "信用评价结果",
            "Credit evaluation result",
            grades=("A", "B", "C", "D"),
            counts_for_months=12,
        ),
        Category(
            "platform_rental",
            "平台行为：信易租",
            "Platform: deposit-free rental",
            outcomes={"returned_on_time": False, "defaulted": True},
            counts_for_months=24,
            creates_subject=False,
        ),
        Category(
            "platform_loan",
            "平台行为：信易贷",
            "Platform: 信易贷 loan",
            outcomes={"repaid": False, "overdue": True},
            counts_for_months=36,
            creates_subject=False,
        ),
        Category(
            "volunteer_service",
            "志愿服务",
            "Volunteer service",
            subject_kinds=frozenset({PERSON}),
            counts_for_months=24,
        ),
        Category(
            "blood_donation",
            "无偿献血",
            "Blood donation",
            subject_kinds=frozenset({PERSON}),
            counts_for_months=24,
        ),
        Category(
            "black_list", "严重失信主体名单", "Black list (seriously dishonest)", list_type=ListType.black
        ),
        Category("red_list", "守信激励对象名单", "Red list (trustworthy)", list_type=ListType.red),
    )
}


@dataclass(frozen=True, slots=True)
class Window:
    publicity_starts_on: date
    publicity_min_ends_on: date | None  # credit repair may be asked from here
    publicity_ends_on: date | None  # publicity stops here
    counts_until: date | None  # the first day the record no longer counts


def window(
    category: Category, decision_date: date, conduct_end_date: date | None, severity: str | None
) -> Window:
    if severity is not None:
        minimum, maximum = PUBLICITY_MONTHS[Severity(severity)]
        min_end = add_months(decision_date, minimum)
        max_end = add_months(decision_date, maximum)
        retention_end = retention_rules.retention_ends_on(conduct_end_date, decision_date)
        return Window(decision_date, min_end, max_end, min(max_end, retention_end))
    if category.counts_for_months is None:
        return Window(decision_date, None, None, None)
    until = add_months(decision_date, category.counts_for_months)
    return Window(decision_date, None, None, until)


def factor_key(category: str, outcome: str | None, grade: str | None, severity: str | None) -> str:
    """The scoring model's name for this kind of record: category, then outcome, grade, severity."""
    return ".".join(part for part in (category, outcome, grade, severity) if part)


def all_factor_keys() -> list[str]:
    """Every record kind the catalog can produce (the scoring model must price each one)."""
    keys: list[str] = []
    severities = [s.value for s in Severity]
    for category in CATEGORIES.values():
        if category.list_type is not None:
            keys.append(category.code)
        elif category.dishonest:
            keys += [factor_key(category.code, None, None, s) for s in severities]
        elif category.outcomes:
            for outcome, dishonest in category.outcomes.items():
                if dishonest:
                    keys += [factor_key(category.code, outcome, None, s) for s in severities]
                else:
                    keys.append(factor_key(category.code, outcome, None, None))
        elif category.grades:
            keys += [factor_key(category.code, None, grade, None) for grade in category.grades]
        else:
            keys.append(category.code)
    return keys
