"""A merchant's rentals in figures, for its members' console: rentals opened over a range of business
dates (China), how many are in each status, how many are overdue now, and the default rate."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core.clock import utcnow
from app.core.dates import DateRange
from app.rentals.models import Rental, RentalStatus

# Ended for good: a default can only be counted against rentals whose outcome is known.
_ENDED = (RentalStatus.returned, RentalStatus.defaulted, RentalStatus.dispute_upheld)


class RentalStatisticsOut(BaseModel):
    object: Literal["rental_statistics"] = "rental_statistics"
    partner_id: str
    date_from: date = Field(serialization_alias="from")
    date_to: date = Field(serialization_alias="to")
    opened: int = Field(description="Rentals opened in the range.")
    by_status: dict[RentalStatus, int] = Field(description="Those rentals by their status now.")
    overdue: int = Field(description="Of them, still open past their due time now.")
    ended: int = Field(description="Of them, returned, defaulted or with a default dispute upheld.")
    default_rate: float | None = Field(description="defaulted / ended, 4 decimals; null while none ended.")


def for_partner(session: Session, partner_id: str, days: DateRange) -> RentalStatisticsOut:
    in_range = (
        col(Rental.partner_id) == partner_id,
        col(Rental.opened_at) >= days.starts_at,
        col(Rental.opened_at) < days.ends_before,
    )
    counts = dict(
        session.exec(select(Rental.status, func.count()).where(*in_range).group_by(Rental.status)).all()
    )
    by_status = {status: int(counts.get(status, 0)) for status in RentalStatus}
    overdue = session.exec(
        select(func.count()).where(
            *in_range, Rental.status == RentalStatus.open, col(Rental.due_at) < utcnow()
        )
    ).one()
    ended = sum(by_status[status] for status in _ENDED)
    defaulted = by_status[RentalStatus.defaulted]
    return RentalStatisticsOut(
        partner_id=partner_id,
        date_from=days.first,
        date_to=days.last,
        opened=sum(by_status.values()),
        by_status=by_status,
        overdue=int(overdue),
        ended=ended,
        default_rate=round(defaulted / ended, 4) if ended else None,
    )
