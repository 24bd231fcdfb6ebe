"""Properties of the engine that must hold for any subject (hypothesis)."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.scoring import engine as engine_module
from app.scoring.engine import ListInput, RecordInput, ScoringInputs, _compile, compute
from app.scoring.scoring_model import ADJUSTMENT_DIMENSION, BLACK_LIST, RED_LIST, active_model
from tests.clock import TODAY

MODEL = active_model()
RECORD_KEYS = sorted(k for k in MODEL.factors if k not in {RED_LIST, BLACK_LIST})
NEGATIVE_KEYS = [k for k in RECORD_KEYS if MODEL.factors[k].points < 0]
POSITIVE_KEYS = [k for k in RECORD_KEYS if MODEL.factors[k].points > 0]
NOT_COUNTING = ("repaired", "expired")

days = st.integers(min_value=-800, max_value=800).map(lambda n: TODAY + timedelta(days=n))
ids = st.integers(min_value=0, max_value=10**9).map(lambda n: f"rec_{n:010d}")


def records(keys: list[str] = RECORD_KEYS, statuses=("active", "disputed", "repaired", "expired")):
    return st.builds(
        RecordInput,
        record_id=ids,
        key=st.sampled_from(keys),
        status=st.sampled_from(statuses),
        counts_until=st.none() | days,
        repairable_from=st.none() | days,
    )


def counting(keys: list[str]):
    """A record that counts today."""
    return st.builds(
        RecordInput,
        record_id=ids,
        key=st.sampled_from(keys),
        status=st.sampled_from(("active", "disputed")),
        counts_until=st.none() | days.filter(lambda d: d > TODAY),
        repairable_from=st.none() | days,
    )


list_entries = st.builds(
    ListInput,
    entry_id=st.integers(min_value=0, max_value=10**9).map(lambda n: f"lst_{n:010d}"),
    list_type=st.sampled_from(("red", "black")),
    status=st.sampled_from(("active", "expired", "removed")),
    ends_on=st.none() | days,
)
subjects = st.builds(
    ScoringInputs,
    records=st.lists(records(), max_size=25).map(tuple),
    lists=st.lists(list_entries, max_size=3).map(tuple),
)


def run(inputs: ScoringInputs):
    return compute(MODEL, inputs, TODAY)


def with_records(inputs: ScoringInputs, *extra: RecordInput) -> ScoringInputs:
    return ScoringInputs(inputs.records + extra, inputs.lists)


@settings(max_examples=300, deadline=None)
@given(subjects, counting(NEGATIVE_KEYS))
def test_adding_a_negative_record_never_raises_the_score(inputs, negative):
    assert run(with_records(inputs, negative)).score <= run(inputs).score


@settings(max_examples=300, deadline=None)
@given(subjects, counting(POSITIVE_KEYS))
def test_adding_a_positive_record_never_lowers_the_score(inputs, positive):
    assert run(with_records(inputs, positive)).score >= run(inputs).score


@settings(max_examples=300, deadline=None)
@given(subjects, st.none() | days.filter(lambda d: d > TODAY))
def test_a_black_list_entry_in_force_gives_level_d(inputs, ends_on):
    entry = ListInput("lst_black", "black", "active", ends_on)
    result = run(ScoringInputs(inputs.records, (*inputs.lists, entry)))
    assert (result.level, result.blocked) == ("D", True)
    assert result.score <= MODEL.black_list_ceiling
    assert result.reasons[0].code == BLACK_LIST


@settings(max_examples=300, deadline=None)
@given(subjects, records(statuses=NOT_COUNTING), records(), st.integers(min_value=0, max_value=400))
def test_expired_and_repaired_records_do_not_count(inputs, ended, any_record, days_ago):
    past_end = RecordInput(
        any_record.record_id + "_past", any_record.key, "active", TODAY - timedelta(days=days_ago)
    )
    assert run(with_records(inputs, ended, past_end)) == run(inputs)


@settings(max_examples=300, deadline=None)
@given(subjects)
def test_every_point_moved_has_a_reason(inputs):
    result = run(inputs)
    assert result.score == MODEL.base + sum(result.contributions.values())
    assert MODEL.min_score <= result.score <= MODEL.max_score
    for dimension, points in result.contributions.items():
        reasons = [r for r in result.reasons if r.dimension == dimension]
        assert sum(r.points for r in reasons) == points
        if points != 0:
            assert any(r.points != 0 for r in reasons)
    for reason in result.reasons:
        zh, en = MODEL.labels(reason.code)
        assert zh != reason.code and en != reason.code, reason.code
        assert reason.dimension in MODEL.dimensions or reason.dimension == ADJUSTMENT_DIMENSION


@settings(max_examples=200, deadline=None)
@given(subjects, st.randoms(use_true_random=False))
def test_the_score_is_deterministic_and_ignores_input_order(inputs, rng: random.Random):
    shuffled_records = list(inputs.records)
    shuffled_lists = list(inputs.lists)
    rng.shuffle(shuffled_records)
    rng.shuffle(shuffled_lists)
    assert run(ScoringInputs(tuple(shuffled_records), tuple(shuffled_lists))) == run(inputs)


@settings(max_examples=200, deadline=None)
@given(subjects)
def test_the_level_is_the_band_of_the_score_unless_black_listed(inputs):
    result = run(inputs)
    if not result.blocked:
        assert result.level == MODEL.band_for(result.score).level


def _cold(inputs: ScoringInputs):
    """The result computed with nothing remembered from earlier subjects."""
    _compile(MODEL).cores.clear()
    _compile(MODEL).parts.clear()
    return run(inputs)


@settings(max_examples=150, deadline=None)
@given(st.lists(subjects, min_size=1, max_size=8))
def test_a_score_does_not_depend_on_the_subjects_scored_before_it(batch):
    """Subjects with the same counting record kinds share the computed part of their score."""
    warm = [run(inputs) for inputs in batch]
    for inputs, result in zip(batch, warm, strict=True):
        cold = _cold(inputs)
        assert cold == result
        assert (cold.contributions_json(), cold.explanation_json()) == (
            result.contributions_json(),
            result.explanation_json(),
        )


@settings(max_examples=200, deadline=None)
@given(subjects)
def test_the_stored_json_is_the_json_of_the_result(inputs):
    result = run(inputs)
    compact = {"ensure_ascii": False, "separators": (",", ":")}
    assert result.contributions_json() == json.dumps(result.contributions, **compact)
    assert result.explanation_json() == json.dumps(result.explanation(), **compact)
    # A result read back from storage has no computed part: the same text, made the slow way.
    stored = dataclasses.replace(result, _core=None)
    assert (stored.contributions_json(), stored.explanation_json()) == (
        result.contributions_json(),
        result.explanation_json(),
    )


def test_the_shared_parts_stay_bounded(monkeypatch):
    monkeypatch.setattr(engine_module, "CORE_CACHE_SIZE", 3)
    # From empty caches: earlier tests in this process (any order, any xdist worker) have filled them
    compiled = _compile(MODEL)
    monkeypatch.setattr(compiled, "cores", {})
    monkeypatch.setattr(compiled, "parts", {})
    keys = RECORD_KEYS[:6]
    batch = [ScoringInputs((RecordInput(f"rec_{n}", key),)) for n, key in enumerate(keys)]
    results = [run(inputs) for inputs in batch]
    assert len(_compile(MODEL).cores) <= 3 and len(_compile(MODEL).parts) <= 3
    assert results == [_cold(inputs) for inputs in batch]
