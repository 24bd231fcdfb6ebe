"""The printable HTML form of a credit report (Jinja2, autoescaped: every value is escaped)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.reports.schemas import CreditReportOut

STATUS_LABELS = {
    "active": "公示中 active",
    "disputed": "异议处理中 disputed",
    "repaired": "已信用修复 repaired",
    "expired": "已届满 expired",
    "withdrawn": "已撤销 withdrawn",
}


@lru_cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )


def html(report: CreditReportOut) -> str:
    return _environment().get_template("report.html").render(r=report, status_labels=STATUS_LABELS)
