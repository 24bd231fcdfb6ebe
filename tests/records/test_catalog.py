"""Publicity windows of 失信 records and how long other records count."""

from __future__ import annotations

from datetime import date

import pytest

from app.core.clock import add_months
from app.records.catalog import CATEGORIES, Window, factor_key, window


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 5, 1), 0, date(2026, 5, 1)),
    ],
)
def test_months_are_calendar_months_clamped_to_the_month_end(day, months, expected):
    assert add_months(day, months) == expected


PENALTY = CATEGORIES["administrative_penalty"]


@pytest.mark.parametrize(
    ("severity", "minimum", "maximum"),
    [
        ("minor", date(2026, 3, 1), date(2026, 6, 1)),  # at most 3 months; repair at once
        ("general", date(2026, 6, 1), date(2027, 3, 1)),  # 3 months to a year
        ("serious", date(2027, 3, 1), date(2029, 3, 1)),  # 1 to 3 years
    ],
)
def test_publicity_of_a_dishonesty_record_follows_its_severity(severity, minimum, maximum):
    assert window(PENALTY, date(2026, 3, 1), None, severity) == Window(
        date(2026, 3, 1), minimum, maximum, maximum
    )


def test_negative_information_stops_counting_five_years_after_the_conduct_ended():
    # Decided late, about conduct that ended long ago: the 5-year retention ends before publicity does.
    span = window(PENALTY, date(2026, 3, 1), date(2022, 1, 10), "serious")
    assert span.publicity_ends_on == date(2029, 3, 1)
    assert span.counts_until == date(2027, 1, 10)


def test_records_that_are_not_dishonesty_count_for_their_category_period():
    assert window(CATEGORIES["honour"], date(2026, 3, 1), None, None) == Window(
        date(2026, 3, 1), None, None, date(2029, 3, 1)
    )
    assert window(CATEGORIES["tax_credit_rating"], date(2026, 4, 30), None, None).counts_until == date(
        2027, 4, 30
    )
    assert window(CATEGORIES["registration"], date(2026, 3, 1), None, None).counts_until is None


def test_factor_keys_name_category_then_outcome_grade_and_severity():
    assert factor_key("administrative_penalty", None, None, "serious") == "administrative_penalty.serious"
    assert factor_key("platform_rental", "defaulted", None, "minor") == "platform_rental.defaulted.minor"
    assert factor_key("tax_credit_rating", None, "A", None) == "tax_credit_rating.A"
    assert factor_key("honour", None, None, None) == "honour"
