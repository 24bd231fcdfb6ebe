"""The instant every test starts at (``pinned_clock`` in conftest), and dates written relative to it.

A Thursday, 10:00 in China: inside working hours and far from a month's end, so a test that adds a few days
or working days is not at a boundary by accident. Tests write their dates from here (``days_ago(45)``), never
as calendar literals, so the suite means the same thing on any real date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.core.clock import business_date

PINNED = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
TODAY: date = business_date(PINNED)


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def days_ahead(days: int) -> date:
    return TODAY + timedelta(days=days)
