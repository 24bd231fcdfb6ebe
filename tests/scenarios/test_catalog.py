"""The scenario catalog: every shipped file valid, a bad file stops start-up naming file, field and reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from app.scenarios import catalog as catalog_module
from app.scenarios.catalog import SCENARIOS_DIR, ScenarioCatalogError, load_catalog
from app.scenarios.schemas import LEVEL_RANK
from app.scenarios.service import Standing, evaluate

SHIPPED = {
    "deposit_free_rental",
    "pay_after_treatment",
    "library",
    "parking",
    "travel",
    "priority_service",
    "xinyidai",
}


def test_every_scenario_the_platform_promises_ships_and_validates() -> None:
    catalog = load_catalog()
    assert set(catalog) == SHIPPED
    rental = catalog["deposit_free_rental"]
    assert rental.benefit.waived_deposit_fen == {"power_bank": 9900, "bike": 19900, "equipment": 50000}
    assert (rental.low_value, rental.offline_max_hours) == (True, 24)
    assert catalog["priority_service"].partner_kinds == ["government_counter"]
    assert not any(
        catalog[s].low_value for s in ("pay_after_treatment", "travel", "priority_service", "xinyidai")
    )
    for scenario in catalog.values():
        assert scenario.eligibility.black_list == "refuse"


def test_the_catalog_is_public(client: TestClient) -> None:
    response = client.get("/v1/scenarios")
    assert response.status_code == 200
    body = response.json()
    assert [s["id"] for s in body["data"]] == sorted(SHIPPED)
    assert body["data"][0]["object"] == "scenario"
    one = client.get("/v1/scenarios/library").json()
    assert (one["name_zh"], one["eligibility"]["min_level"]) == ("信易阅", "C")
    assert client.get("/v1/scenarios/nowhere").json()["code"] == "unknown_scenario"


def bad_catalog(tmp_path: Path, name: str, old: str, new: str) -> Path:
    folder = tmp_path / "scenarios"
    shutil.copytree(SCENARIOS_DIR, folder)
    path = folder / f"{name}.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("name", "old", "new", "field", "reason"),
    [
        ("parking", 'min_level = "B"', 'min_level = "BB"', "eligibility.min_level", "Input should be 'AAA'"),
        ("library", "low_value = true", "low_value = true\nhigh_value = false", "high_value", "Extra inputs"),
        (
            "travel",
            "discount_percent = 10",
            "discount_percent = 95",
            "benefit.discount_percent",
            "less than or equal to 90",
        ),
        (
            "parking",
            'red_list_min_level = "C"',
            'red_list_min_level = "A"',
            "eligibility.red_list_min_level",
            "never raise",
        ),
        (
            "travel",
            "low_value = false",
            "low_value = false\noffline_max_hours = 2",
            "offline_max_hours",
            "only low_value",
        ),
        (
            "library",
            'partner_kinds = ["merchant"]',
            'partner_kinds = ["kiosk"]',
            "partner_kinds.0",
            "Input should be",
        ),
        ("xinyidai", "max_amount_fen = 300000000", "credit_limit_fen = 1", "benefit", "needs max_amount_fen"),
        ("library", 'id = "library"', 'id = "libraries"', "id", "must equal the file name 'library'"),
    ],
)
def test_a_bad_file_is_named_with_its_field_and_reason(
    tmp_path: Path, name: str, old: str, new: str, field: str, reason: str
) -> None:
    folder = bad_catalog(tmp_path, name, old, new)
    with pytest.raises(ScenarioCatalogError) as refused:
        load_catalog(folder)
    error = refused.value
    assert error.path == folder / f"{name}.toml"
    assert error.field == field
    assert reason in error.reason
    assert str(error).startswith(f"{folder / name}.toml: {field}: ")


def test_a_file_that_is_not_toml_is_named(tmp_path: Path) -> None:
    folder = bad_catalog(tmp_path, "parking", "[eligibility]", "[eligibility")
    with pytest.raises(ScenarioCatalogError, match=r"parking\.toml: is not valid TOML"):
        load_catalog(folder)


def test_a_bad_file_stops_start_up(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = bad_catalog(tmp_path, "parking", 'min_level = "B"', 'min_level = "Z"')
    monkeypatch.setattr(catalog_module, "SCENARIOS_DIR", folder)
    with (
        pytest.raises(ScenarioCatalogError, match=r"parking\.toml: eligibility\.min_level"),
        TestClient(create_app(settings)),
    ):
        pass


def standing(level: str, *, blocked: bool = False, red: bool = False, default: bool = False) -> Standing:
    return Standing(level=level, blocked=blocked, red_listed=red, open_default=default)


def test_the_rule_in_its_order_black_list_then_default_then_level_then_red_list() -> None:
    catalog = load_catalog()
    rental, counter, library = catalog["deposit_free_rental"], catalog["priority_service"], catalog["library"]
    assert evaluate(rental, standing("AAA", blocked=True, red=True)).reason == "restricted"
    assert evaluate(rental, standing("AAA", default=True)).reason == "open_default"
    assert evaluate(library, standing("C", default=True)).reason == "level_met"  # a library ignores defaults
    assert evaluate(rental, standing("B")).reason == "level_met"
    assert evaluate(rental, standing("C")).reason == "level_too_low"
    assert evaluate(rental, standing("C", red=True)).reason == "red_list"
    assert evaluate(rental, standing("D", red=True)).reason == "level_too_low"
    assert evaluate(counter, standing("AA")).decision == "eligible"
    assert evaluate(counter, standing("D", red=True)).decision == "eligible"
    assert evaluate(counter, standing("A")).reason == "level_too_low"
    eligible = evaluate(rental, standing("A"))
    assert eligible.benefit == rental.benefit.terms() and evaluate(rental, standing("C")).benefit is None
    assert list(LEVEL_RANK) == ["D", "C", "B", "A", "AA", "AAA"]
