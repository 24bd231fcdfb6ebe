"""The engine on worked examples: every number below follows from app/scoring/model_v1.toml."""

from __future__ import annotations

from datetime import date

import pytest

from app.core.clock import business_date
from app.scoring.engine import (
    ListInput,
    RecordInput,
    ScoringInputs,
    UnknownFactor,
    compute,
)
from app.scoring.reasons import Improvement, Reason
from app.scoring.scoring_model import active_model
from tests.clock import TODAY, days_ahead

MODEL = active_model()
ZERO = dict.fromkeys(MODEL.dimensions, 0)


def score(*records: RecordInput, lists: tuple[ListInput, ...] = ()):
    return compute(MODEL, ScoringInputs(tuple(records), lists), TODAY)


def rec(key: str, n: int = 1, **fields) -> RecordInput:
    return RecordInput(f"rec_{key}_{n}", key, **fields)


def test_a_subject_with_nothing_on_file_gets_the_base_score():
    result = score()
    assert (result.score, result.level, result.blocked) == (600, "B", False)
    assert result.contributions == ZERO
    assert result.reasons == ()
    # Only hints about what would add points, largest first.
    assert [(i.kind, i.code, i.points) for i in result.improvements] == [
        ("headroom", "public_welfare", 100),
        ("headroom", "tax_finance", 80),
        ("headroom", "administrative", 60),
    ]


def test_a_general_penalty_lowers_the_score_and_says_when_it_can_be_repaired():
    penalty = rec(
        "administrative_penalty.general",
        counts_until=days_ahead(279),
        repairable_from=days_ahead(5),
    )
    result = score(penalty)
    assert (result.score, result.level) == (550, "B")
    assert result.contributions == {**ZERO, "administrative": -50}
    assert result.reasons == (Reason("administrative_penalty.general", "administrative", -50, 1),)
    assert result.improvements[0] == Improvement(
        "repair", "administrative_penalty.general", 50, penalty.record_id, days_ahead(5), days_ahead(279)
    )


def test_dimension_weights_apply_to_the_factor_points():
    result = score(rec("judicial_judgment.serious"))  # -150 x 1.2
    assert result.contributions["judicial"] == -180
    assert (result.score, result.level) == (420, "C")


def test_a_negative_record_without_repair_says_when_it_stops_counting():
    result = score(rec("tax_credit_rating.D", counts_until=days_ahead(155)))
    assert result.improvements[0] == Improvement(
        "expiry", "tax_credit_rating.D", 120, "rec_tax_credit_rating.D_1", until=days_ahead(155)
    )


def test_bonus_caps_show_as_their_own_reason():
    result = score(*(rec("blood_donation", n) for n in range(10)))  # 10 x 15 = 150, cap 100
    assert result.contributions["public_welfare"] == 100
    assert result.reasons == (
        Reason("blood_donation", "public_welfare", 150, 10),
        Reason("cap.public_welfare", "public_welfare", -50, 1),
    )
    assert (result.score, result.level) == (700, "A")


def test_deduction_floors_show_as_their_own_reason():
    result = score(*(rec("administrative_penalty.serious", n) for n in range(3)))  # -360, floor -300
    assert result.contributions["administrative"] == -300
    assert Reason("floor.administrative", "administrative", 60, 1) in result.reasons
    assert result.score == 300


def test_the_score_never_leaves_0_to_1000():
    worst = [
        *(rec("administrative_penalty.serious", n) for n in range(3)),
        *(rec("dishonest_judgment_debtor.serious", n) for n in range(2)),
        *(rec("tax_credit_rating.D", n) for n in range(3)),
        *(rec("contract_performance.breached.serious", n) for n in range(2)),
        *(rec("platform_rental.defaulted.serious", n) for n in range(2)),
    ]
    result = score(*worst)  # 600 - 300 - 400 - 250 - 200 - 200 = -750
    assert result.score == 0
    assert result.contributions["adjustment"] == 750
    assert Reason("score_bounds", "adjustment", 750, 1) in result.reasons
    assert result.level == "D"


def test_a_black_list_entry_means_level_d_whatever_the_score():
    good = [rec("honour", n) for n in range(3)] + [rec("tax_credit_rating.A")]
    entry = ListInput("lst_1", "black", ends_on=days_ahead(401))
    result = score(*good, lists=(entry,))
    assert (result.level, result.blocked) == ("D", True)
    assert result.score == MODEL.black_list_ceiling
    assert result.reasons[0] == Reason("black_list", "lists", 399 - 750, 1)
    assert result.improvements[0] == Improvement("list_end", "black_list", 0, "lst_1", until=days_ahead(401))


def test_a_black_listed_subject_already_below_the_ceiling_keeps_its_score():
    result = score(rec("dishonest_judgment_debtor.serious"), lists=(ListInput("lst_1", "black"),))
    assert (result.score, result.level) == (360, "D")
    assert result.reasons[0] == Reason("black_list", "lists", 0, 1)


def test_red_list_entries_add_one_bonus():
    result = score(lists=(ListInput("lst_1", "red"), ListInput("lst_2", "red")))
    assert result.reasons == (Reason("red_list", "lists", 50, 2),)
    assert (result.score, result.level) == (650, "A")


def test_records_and_entries_that_ended_do_not_count():
    ended = [
        rec("administrative_penalty.serious", 1, status="expired"),
        rec("administrative_penalty.serious", 2, status="repaired"),
        rec("administrative_penalty.serious", 3, counts_until=TODAY),
    ]
    lists = (ListInput("lst_1", "black", ends_on=TODAY), ListInput("lst_2", "black", status="removed"))
    assert score(*ended, lists=lists) == score()


def test_a_disputed_record_counts_in_full_in_model_v1():
    assert MODEL.disputed_record_weight == 1.0
    disputed = score(rec("administrative_penalty.general", status="disputed"))
    active = score(rec("administrative_penalty.general"))
    assert (disputed.score, disputed.reasons) == (active.score, active.reasons)


def test_the_disputed_weight_is_the_models_rule():
    halved = MODEL.model_copy(update={"disputed_record_weight": 0.5})
    result = compute(
        halved, ScoringInputs((rec("administrative_penalty.general", status="disputed"),)), TODAY
    )
    assert result.contributions["administrative"] == -25


def test_a_record_kind_the_model_does_not_price_is_an_error():
    with pytest.raises(UnknownFactor):
        score(rec("no_such_category"))


@pytest.mark.parametrize(
    ("points", "level"),
    [(250, "AAA"), (249, "AA"), (150, "AA"), (149, "A"), (50, "A"), (49, "B"), (-51, "C")],
)
def test_levels_follow_the_bands(points, level):
    priced = MODEL.model_copy(
        update={
            "factors": {**MODEL.factors, "x": MODEL.factors["honour"].model_copy(update={"points": points})}
        }
    )
    wide = priced.model_copy(
        update={
            "dimensions": {
                **MODEL.dimensions,
                "public_welfare": MODEL.dimensions["public_welfare"].model_copy(
                    update={"max_positive": 1000, "max_negative": 1000}
                ),
            }
        }
    )
    result = compute(wide, ScoringInputs((rec("x"),)), TODAY)
    assert (result.score, result.level) == (600 + points, level)


def test_the_business_date_is_the_date_in_china():
    from datetime import UTC, datetime

    assert business_date(datetime(2026, 11, 26, 15, 59, tzinfo=UTC)) == date(2026, 11, 26)
    assert business_date(datetime(2026, 11, 26, 16, 0, tzinfo=UTC)) == date(2026, 11, 27)
