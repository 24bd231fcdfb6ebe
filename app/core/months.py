"""Statistics are grouped by calendar month (or day) in China (UTC+8, as ``clock.business_date``), on both backends."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, literal_column
from sqlmodel import Session

# Group by the first selected column by position: the month expression carries bound parameters, and
# PostgreSQL does not see two renderings of it (with their own parameters) as one expression.
FIRST_COLUMN: ColumnElement[Any] = literal_column("1")


def china_month(session: Session, column: Any) -> ColumnElement[str]:
    """``YYYY-MM`` of a UTC timestamp column, in China Standard Time."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM")
    return func.strftime("%Y-%m", column, "+8 hours")


def china_day(session: Session, column: Any) -> ColumnElement[str]:
    """``YYYY-MM-DD`` of a UTC timestamp column: its business date in China Standard Time."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column, "+8 hours")
