"""The printable HTML form of a credit report (Jinja2, autoescaped: every value is escaped; undefined
names fail instead of rendering empty)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.reports.labels import LABELS
from app.reports.schemas import CreditReportOut
from app.scenarios.catalog import default_catalog

CHINA = ZoneInfo("Asia/Shanghai")


def china_time(moment: datetime | str, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC moment (or its ISO form) as a resident reads it: Beijing time."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(CHINA).strftime(pattern)


def label(kind: str, code: str | None) -> str:
    if code is None:
        return ""
    return LABELS[kind].get(code, code)


def scenario_name(scenario_id: str) -> str:
    scenario = default_catalog().get(scenario_id)
    return f"{scenario.name_zh} {scenario.name_en}" if scenario else scenario_id


@lru_cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
    )
    environment.filters["china_time"] = china_time
    environment.globals.update(label=label, scenario_name=scenario_name)
    return environment


def html(report: CreditReportOut) -> str:
    return _environment().get_template("report.html").render(r=report)
