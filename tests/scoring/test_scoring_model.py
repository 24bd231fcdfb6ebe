"""The model file: loaded, checked for consistency, priced for every record kind, published."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from pydantic import ValidationError

from app.records.catalog import all_factor_keys
from app.scoring.scoring_model import MODEL_DIR, ScoringModel, active_model, get_model


def raw_model() -> dict[str, Any]:
    with (MODEL_DIR / "model_v1.toml").open("rb") as handle:
        return tomllib.load(handle)


def test_the_active_model_is_v1_with_six_bands_over_0_to_1000():
    model = active_model()
    assert (model.version, model.base, model.min_score, model.max_score) == ("v1", 600, 0, 1000)
    assert [(b.level, b.min_score) for b in model.bands] == [
        ("AAA", 850),
        ("AA", 750),
        ("A", 650),
        ("B", 550),
        ("C", 400),
        ("D", 0),
    ]
    assert set(model.dimensions) == {
        "identity",
        "administrative",
        "judicial",
        "tax_finance",
        "contract",
        "platform",
        "public_welfare",
        "lists",
    }


def test_every_kind_of_record_the_catalog_accepts_has_a_price_and_nothing_else_does():
    assert set(all_factor_keys()) == set(active_model().factors)


def test_every_reason_has_a_chinese_and_an_english_label():
    model = active_model()
    for key, factor in model.factors.items():
        assert factor.zh and factor.en and factor.zh != factor.en, key
    for name in model.dimensions:
        zh, en = model.labels(f"cap.{name}")
        assert "上限" in zh and "capped" in en


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m["factors"]["honour"].update(dimension="nope"), "unknown dimension"),
        (lambda m: m.update(black_list_ceiling=500), "black_list_ceiling must fall in band D"),
        (lambda m: m.update(base=1001), "base must lie within"),
        (lambda m: m["bands"].reverse(), "highest min_score down"),
        (lambda m: m.update(disputed_record_weight=1.5), "less than or equal to 1"),
        (lambda m: m["factors"].pop("black_list"), "needs a 'black_list' factor"),
        (lambda m: m.update(surprise=1), "Extra inputs are not permitted"),
    ],
)
def test_an_inconsistent_model_file_is_refused(change, message):
    data = raw_model()
    change(data)
    with pytest.raises(ValidationError, match=message):
        ScoringModel.model_validate(data)


def test_an_unknown_version_is_not_found():
    with pytest.raises(LookupError):
        get_model("v999")


def test_the_model_is_published_without_authentication(client):
    response = client.get("/v1/scoring/model")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == "v1"
    assert body["disputed_record_weight"] == 1.0
    assert body["factors"]["administrative_penalty.serious"] == {
        "dimension": "administrative",
        "points": -120,
        "zh": "严重失信行政处罚",
        "en": "Administrative penalty (serious)",
    }
    assert body["dimensions"]["judicial"]["weight"] == 1.2
