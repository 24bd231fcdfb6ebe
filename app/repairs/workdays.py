"""Working days for the repair decision deadline (3 working days from receipt).

A working day is Monday to Friday, except the configured public holidays, plus the configured make-up
working days (调休). Both lists come from settings (``XINYI_PUBLIC_HOLIDAYS``, ``XINYI_MAKEUP_WORKDAYS``)
and are empty by default, in which case only weekends are skipped.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta


def is_working_day(day: date, holidays: Collection[date] = (), makeup: Collection[date] = ()) -> bool:
    if day in makeup:
        return True
    return day.weekday() < 5 and day not in holidays


def add_working_days(
    start: date, days: int, holidays: Collection[date] = (), makeup: Collection[date] = ()
) -> date:
    """The ``days``-th working day after ``start`` (the day of receipt itself is not counted)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    current = start
    counted = 0
    while counted < days:
        current += timedelta(days=1)
        if is_working_day(current, holidays, makeup):
            counted += 1
    return current
