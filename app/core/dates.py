"""A range of China business dates asked for in a query (``from``, ``to``, both included), as statistics
for a partner's console read them, and the UTC instants that bound it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import Depends, Query

from app.core.clock import CHINA_TZ, business_date
from app.core.errors import InvalidInput

MAX_DAYS = 366
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class DateRange:
    first: date
    last: date

    @property
    def starts_at(self) -> datetime:
        """Midnight in China on the first day, in UTC."""
        return datetime.combine(self.first, time(), CHINA_TZ).astimezone(UTC)

    @property
    def ends_before(self) -> datetime:
        """Midnight in China after the last day, in UTC (excluded)."""
        return datetime.combine(self.last + timedelta(days=1), time(), CHINA_TZ).astimezone(UTC)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def date_range(
    date_from: Annotated[
        date | None, Query(alias="from", description="First business date (China), YYYY-MM-DD.")
    ] = None,
    date_to: Annotated[
        date | None, Query(alias="to", description="Last business date (China), included; default today.")
    ] = None,
) -> DateRange:
    """Default: the last 30 days up to today. At most 366 days, so one answer stays small."""
    last = date_to or business_date()
    first = date_from or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise InvalidInput("from: must not be after to.", code="invalid_date_range", param="from")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput(
            f"from: at most {MAX_DAYS} days up to to; ask for a shorter range.",
            code="date_range_too_long",
            param="from",
        )
    return DateRange(first, last)


DateRangeDep = Annotated[DateRange, Depends(date_range)]
