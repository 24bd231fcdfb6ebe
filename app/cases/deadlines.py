"""The two review deadlines, one rule each.

- An objection is answered within 20 calendar days of filing (an instant: filing time + 20 days).
- A credit repair is decided within 3 working days after the day of receipt (a China business date).

A working day is Monday to Friday, except the configured public holidays, plus the configured make-up
working days (调休). Both lists come from settings (``XINYI_PUBLIC_HOLIDAYS``, ``XINYI_MAKEUP_WORKDAYS``)
and are empty by default, in which case only weekends are skipped.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta

from app.core.clock import business_date
from app.core.config import Settings

ANSWER_WITHIN = timedelta(days=20)
DECISION_WORKING_DAYS = 3


def answer_due_at(filed_at: datetime) -> datetime:
    return filed_at + ANSWER_WITHIN


def answer_overdue(answer_due_at: datetime, now: datetime) -> bool:
    """Late from the due instant itself (the queue's SQL filter says the same: ``due <= now``)."""
    return answer_due_at <= now


def decision_due_on(settings: Settings, received_at: datetime) -> date:
    return add_working_days(
        business_date(received_at),
        DECISION_WORKING_DAYS,
        frozenset(settings.public_holidays),
        frozenset(settings.makeup_workdays),
    )


def decision_overdue(decision_due_on: date, today: date) -> bool:
    """Late from the day after the due day (the queue's SQL filter says the same: ``due < today``)."""
    return decision_due_on < today


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
